"""The next-token loss: which positions are predicted, and how their cross-entropies are reduced.

Every cross-entropy over the vocabulary is computed by a head loss (`videolmm.llm.head_loss`,
chunked by default); this module only picks the predicted positions and reduces. Position ``s``
predicts ``labels[:, s + 1]`` (HF's convention: the shift happens here). Only positions whose
target is not ``-100`` reach the LM head, so prompts, visual tokens and padding never become
logits; in packed rows the last token of a sample predicts nothing (its next position starts
another sample).

Three reductions serve the three users of the one formula:

- `token_loss_sum`: summed loss and labelled-token count (training normalises over the global batch);
- `causal_lm_loss`: their ratio, the token mean (``VideoLMM.forward(...).loss``, HF's ``ForCausalLMLoss``);
- `sequence_scores`: summed NLL, count and "every target is the argmax" per row, without gradients
  (closed-set choice scoring and lmms-eval's ``loglikelihood``).
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from videolmm.llm.head_loss import HeadLoss, PlainCrossEntropy

IGNORE_INDEX = -100
"""Label of positions that are not predicted (LLaVA's ``IGNORE_INDEX``)."""


def predicted_positions(labels: Tensor, position_ids: Tensor | None = None) -> Tensor:
    """Which positions predict a labelled next token.

    Args:
        labels: Target ids aligned with the input (``-100`` where ignored).
        position_ids: With packed samples: a position whose *next* position id is 0 is the last
            token of a sample and predicts nothing (the next sample's first token is not its target).

    Shapes:
        labels, position_ids: (B, S) -> (B, S - 1)
    """
    keep = labels[:, 1:] != IGNORE_INDEX  # (B, S-1): the token after each position
    if position_ids is not None:
        keep &= position_ids[:, 1:] != 0  # never across a packed sample boundary
    return keep


def _check(hidden: Tensor, labels: Tensor) -> None:
    if hidden.ndim != 3 or hidden.shape[:2] != labels.shape:
        raise ValueError(f"hidden states {tuple(hidden.shape[:2])} and labels {tuple(labels.shape)} differ in (B, S)")


def token_loss_sum(
    hidden: Tensor,
    labels: Tensor,
    head: nn.Module,
    head_loss: HeadLoss | None = None,
    position_ids: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Sum of next-token cross-entropies over the predicted positions, and their count.

    Args:
        hidden: Final hidden states.
        labels: Target ids aligned with the input (``-100`` where ignored).
        head: The LM head.
        head_loss: How the loss runs through the head (`PlainCrossEntropy` when ``None``).
        position_ids: Packed rows' position ids (see `predicted_positions`).

    Returns:
        A float32 scalar (0, still connected to the graph, when nothing is predicted) and an int scalar.

    Shapes:
        hidden: (B, S, E), labels, position_ids: (B, S) -> (), ()
    """
    _check(hidden, labels)
    keep = predicted_positions(labels, position_ids)  # (B, S-1)
    loss = PlainCrossEntropy() if head_loss is None else head_loss
    return loss(hidden[:, :-1][keep], labels[:, 1:][keep], head), keep.sum()  # (n, E) rows reach the head


def causal_lm_loss(hidden: Tensor, labels: Tensor, head: nn.Module, head_loss: HeadLoss | None = None) -> Tensor:
    """Mean cross-entropy of predicting ``labels[:, s + 1]`` from ``hidden[:, s]`` (`token_loss_sum` / count).

    Shapes:
        hidden: (B, S, E), labels: (B, S) -> ()
    """
    total, count = token_loss_sum(hidden, labels, head, head_loss)
    return total / torch.clamp(count, min=1)


@dataclass(frozen=True)
class SequenceScores:
    """Per-row reductions of the token NLL (no gradients).

    Attributes:
        nll: (B,) float32, summed negative log-likelihood of each row's labelled tokens.
        count: (B,) int64, labelled tokens per row.
        greedy: (B,) bool, every labelled token of the row is the argmax at its position.
    """

    nll: Tensor
    count: Tensor
    greedy: Tensor


@torch.no_grad()
def sequence_scores(
    hidden: Tensor, labels: Tensor, head: nn.Module, head_loss: HeadLoss | None = None
) -> SequenceScores:
    """Summed NLL, labelled-token count and greedy flag of every row, from one pass through the head.

    Shapes:
        hidden: (B, S, E), labels: (B, S) -> (B,) each
    """
    _check(hidden, labels)
    keep = predicted_positions(labels)  # (B, S-1)
    loss = PlainCrossEntropy() if head_loss is None else head_loss
    nll, hit = loss.token_scores(hidden[:, :-1][keep], labels[:, 1:][keep], head)  # (n,), (n,)
    B = labels.shape[0]
    rows = torch.arange(B, device=labels.device).unsqueeze(1).expand_as(keep)[keep]  # (n,): the row of each token
    total = torch.zeros(B, dtype=torch.float32, device=labels.device).index_add_(0, rows, nll.float())
    misses = torch.zeros(B, dtype=torch.int64, device=labels.device).index_add_(0, rows, (~hit).long())
    return SequenceScores(nll=total, count=keep.sum(1), greedy=misses == 0)
