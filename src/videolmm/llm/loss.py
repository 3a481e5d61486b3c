"""`causal_lm_loss`: next-token cross-entropy computed from hidden states and the LM head.

Only positions whose next-token label is not ``ignore_index`` go through the head, so prompts,
visual tokens and padding never become logits. The value equals HF's ``ForCausalLMLoss`` (mean
over the predicted tokens of the batch, logits upcast to float32).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

IGNORE_INDEX = -100
"""Label of positions that are not predicted (LLaVA's ``IGNORE_INDEX``)."""


def causal_lm_loss(hidden: Tensor, labels: Tensor, head: nn.Module, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean cross-entropy of predicting ``labels[:, s + 1]`` from ``hidden[:, s]``.

    Args:
        hidden: Final hidden states.
        labels: Target ids aligned with the input (HF convention: the shift happens here).
        head: The LM head, (..., E) -> (..., vocab).
        ignore_index: Label value that is skipped.

    Returns:
        A scalar; 0 (still connected to the graph) when no position is predicted.

    Shapes:
        hidden: (B, S, E), labels: (B, S)
    """
    if hidden.shape[:2] != labels.shape:
        raise ValueError(f"hidden states {tuple(hidden.shape[:2])} and labels {tuple(labels.shape)} differ in (B, S)")
    targets = labels[:, 1:]  # (B, S-1): the token after each position
    keep = targets != ignore_index  # (B, S-1)
    selected = hidden[:, :-1][keep]  # (B, S-1, E) -> (n, E), n predicted positions
    logits = head(selected).float()  # (n, vocab)
    total = F.cross_entropy(logits, targets[keep], reduction="sum")
    return total / torch.clamp(keep.sum(), min=1)
