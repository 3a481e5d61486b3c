"""Cross-entropy through the LM head: plain, chunked (never the full logits), or liger-kernel's fused kernel.

This is the one place where a cross-entropy over the vocabulary is computed. A head loss receives
the final hidden states of the ``n`` predicted positions, their target ids and the LM head, and
returns the *sum* of the token cross-entropies in float32 (training), or per token the NLL and
whether the target is the argmax (`token_scores`, no gradients: scoring). Which positions are
predicted is decided before (`videolmm.llm.loss`), so ``-100`` never reaches it.

- `PlainCrossEntropy` applies the head to all ``n`` rows: an (n, vocab) logits tensor in the
  head's dtype, its float32 copy and the float32 log-softmax kept for the backward.
- `ChunkedCrossEntropy` runs ``chunk_size`` rows at a time and keeps only the hidden states: its
  backward recomputes each chunk's logits (one extra (chunk, E) x (E, vocab) product per chunk),
  so at most (chunk_size, vocab) logits exist at any time. Qwen2's vocabulary is 152,064: 32K
  labelled tokens would need 19.9 GB of float32 logits plainly, 0.6 GB per 1,024-row chunk.
- `LigerCrossEntropy` calls liger-kernel's fused linear cross-entropy (CUDA, Triton) when the
  package is installed; building it without the package raises `ImportError`.
"""

import importlib.util
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class HeadLoss(Protocol):
    """What `videolmm.llm.loss` calls: cross-entropy of ``head(hidden)`` against ``targets``."""

    def __call__(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> Tensor:
        """Sum over the n rows (float32 scalar).

        Shapes:
            hidden: (n, E), targets: (n,) -> ()
        """
        ...

    def token_scores(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> tuple[Tensor, Tensor]:
        """Per row: the NLL (float32) and whether the target is the argmax; no gradients.

        Shapes:
            hidden: (n, E), targets: (n,) -> (n,), (n,)
        """
        ...

    def logits_memory(self, num_tokens: int, vocab: int, dtype_bytes: int) -> tuple[int, int]:
        """Bytes of logit-sized tensors for ``num_tokens`` predicted tokens: (kept for the backward, transient peak)."""
        ...


@torch.no_grad()
def _token_scores(hidden: Tensor, targets: Tensor, head: nn.Module, chunk_size: int) -> tuple[Tensor, Tensor]:
    """NLL and argmax hit of every row, ``chunk_size`` rows of float32 logits at a time.

    Shapes:
        hidden: (n, E), targets: (n,) -> (n,), (n,)
    """
    if hidden.shape[0] != targets.shape[0]:
        raise ValueError(f"{hidden.shape[0]} hidden rows but {targets.shape[0]} targets")
    nll, hit = [hidden.new_zeros(0, dtype=torch.float32)], [targets.new_zeros(0, dtype=torch.bool)]
    for start in range(0, hidden.shape[0], chunk_size):
        logits = head(hidden[start : start + chunk_size]).float()  # (c, vocab)
        chunk_targets = targets[start : start + chunk_size]  # (c,)
        nll.append(F.cross_entropy(logits, chunk_targets, reduction="none"))
        hit.append(logits.argmax(-1) == chunk_targets)
    return torch.cat(nll), torch.cat(hit)


class PlainCrossEntropy:
    """The whole (n, vocab) logits at once, upcast to float32 (HF's ``ForCausalLMLoss``)."""

    def __repr__(self) -> str:
        return "PlainCrossEntropy()"

    def __call__(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> Tensor:
        """Summed cross-entropy.

        Shapes:
            hidden: (n, E), targets: (n,) -> ()
        """
        return F.cross_entropy(head(hidden).float(), targets, reduction="sum")  # (n, vocab) logits

    def token_scores(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> tuple[Tensor, Tensor]:
        """Per-row NLL and argmax hit from the whole (n, vocab) logits at once.

        Shapes:
            hidden: (n, E), targets: (n,) -> (n,), (n,)
        """
        return _token_scores(hidden, targets, head, chunk_size=max(1, hidden.shape[0]))

    def logits_memory(self, num_tokens: int, vocab: int, dtype_bytes: int) -> tuple[int, int]:
        """Kept: the float32 log-probabilities; transient: their gradient, the log-softmax gradient, the cast back."""
        cast = dtype_bytes if dtype_bytes != 4 else 0  # .float() of float32 logits is a no-op
        return 4 * vocab * num_tokens, (8 + cast) * vocab * num_tokens


class ChunkedCrossEntropy:
    """Cross-entropy ``chunk_size`` rows at a time, recomputing each chunk's logits in the backward.

    The backward runs in the head weight's dtype and accumulates the weight's gradient in place in
    that dtype: bf16 under FSDP2's bf16 parameters. It does not re-enter autocast, so with float32
    weights under ``bf16-mixed`` its products run in float32 (correct, slower than the forward).

    Args:
        chunk_size: Rows per chunk; the logits memory is ``chunk_size * vocab * 4`` bytes (float32).
    """

    def __init__(self, chunk_size: int = 1024) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        self.chunk_size = int(chunk_size)

    def __repr__(self) -> str:
        return f"ChunkedCrossEntropy(chunk_size={self.chunk_size})"

    def __call__(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> Tensor:
        """Summed cross-entropy; gradients flow to ``hidden`` and the head's weight and bias.

        Shapes:
            hidden: (n, E), targets: (n,) -> ()
        """
        if not isinstance(head, nn.Linear):
            raise TypeError(f"ChunkedCrossEntropy needs an nn.Linear LM head, got {type(head).__name__}")
        if hidden.shape[0] != targets.shape[0]:
            raise ValueError(f"{hidden.shape[0]} hidden rows but {targets.shape[0]} targets")
        loss = _LinearCrossEntropy.apply(hidden, head.weight, head.bias, targets, self.chunk_size)
        assert isinstance(loss, Tensor)
        return loss

    def token_scores(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> tuple[Tensor, Tensor]:
        """Per-row NLL and argmax hit, ``chunk_size`` rows of logits at a time.

        Shapes:
            hidden: (n, E), targets: (n,) -> (n,), (n,)
        """
        return _token_scores(hidden, targets, head, self.chunk_size)

    def logits_memory(self, num_tokens: int, vocab: int, dtype_bytes: int) -> tuple[int, int]:
        """Kept: nothing; transient: one chunk's float32 logits and their softmax (8 bytes per logit)."""
        return 0, 8 * vocab * min(num_tokens, self.chunk_size)


class LigerCrossEntropy:
    """liger-kernel's fused linear cross-entropy (CUDA only; ``pip install liger-kernel``).

    Raises:
        ImportError: liger-kernel is not installed.
    """

    def __init__(self) -> None:
        if importlib.util.find_spec("liger_kernel") is None:
            raise ImportError("LigerCrossEntropy needs the liger-kernel package (CUDA): pip install liger-kernel")
        from liger_kernel.transformers.fused_linear_cross_entropy import LigerFusedLinearCrossEntropyLoss

        self._loss = LigerFusedLinearCrossEntropyLoss(reduction="sum")

    def __repr__(self) -> str:
        return "LigerCrossEntropy()"

    def __call__(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> Tensor:
        """Summed cross-entropy computed by the fused Triton kernel.

        Shapes:
            hidden: (n, E), targets: (n,) -> ()
        """
        if hidden.device.type != "cuda":
            raise ValueError(f"LigerCrossEntropy runs on CUDA only, got hidden states on {hidden.device}")
        if not isinstance(head, nn.Linear):
            raise TypeError(f"LigerCrossEntropy needs an nn.Linear LM head, got {type(head).__name__}")
        return self._loss(head.weight, hidden, targets, head.bias).float()

    def token_scores(self, hidden: Tensor, targets: Tensor, head: nn.Module) -> tuple[Tensor, Tensor]:
        """Per-row NLL and argmax hit, 4,096 rows of logits at a time (the fused kernel returns only sums).

        Shapes:
            hidden: (n, E), targets: (n,) -> (n,), (n,)
        """
        return _token_scores(hidden, targets, head, chunk_size=4096)

    def logits_memory(self, num_tokens: int, vocab: int, dtype_bytes: int) -> tuple[int, int]:
        """An approximation: liger sizes its chunks from vocab / width; taken here as at most 4,096 rows."""
        return 0, (4 + dtype_bytes) * vocab * min(num_tokens, 4096)


def _chunk_logits(hidden: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """Logits of one chunk in the head's dtype, upcast to float32 like the plain loss.

    Shapes:
        hidden: (c, E), weight: (vocab, E) -> (c, vocab)
    """
    return F.linear(hidden, weight, bias).float()


class _LinearCrossEntropy(torch.autograd.Function):
    """sum_i CE(hidden_i @ weight.T + bias, target_i), chunked in both passes."""

    @staticmethod
    def forward(ctx: Any, hidden: Tensor, weight: Tensor, bias: Tensor | None, targets: Tensor, chunk: int) -> Tensor:  # type: ignore[override]
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        for start in range(0, hidden.shape[0], chunk):
            logits = _chunk_logits(hidden[start : start + chunk], weight, bias)  # (c, vocab)
            picked = logits.gather(1, targets[start : start + chunk, None])  # (c, 1)
            total += (torch.logsumexp(logits, dim=1) - picked.squeeze(1)).sum()
            del logits  # before the next chunk's logits exist
        ctx.save_for_backward(hidden, weight, bias, targets)
        ctx.chunk = chunk
        return total

    @staticmethod
    def backward(ctx: Any, grad_total: Tensor) -> tuple[Tensor | None, ...]:  # type: ignore[override]
        hidden, weight, bias, targets = ctx.saved_tensors
        need_hidden, need_weight, need_bias = ctx.needs_input_grad[:3]
        # accumulated in place in the head's dtype: no (vocab, E) temporary besides the gradient itself
        grad_hidden = torch.empty_like(hidden) if need_hidden else None
        grad_weight = torch.zeros_like(weight) if need_weight else None
        grad_bias = torch.zeros_like(bias) if need_bias else None
        for start in range(0, hidden.shape[0], ctx.chunk):
            rows = hidden[start : start + ctx.chunk].to(weight.dtype)  # (c, E); autocast may have made hidden bf16
            probs = torch.softmax(_chunk_logits(rows, weight, bias), dim=1)  # (c, vocab)
            probs[torch.arange(rows.shape[0], device=rows.device), targets[start : start + ctx.chunk]] -= 1.0
            grad_logits = probs.mul_(grad_total).to(weight.dtype)  # d loss / d logits, in the head's dtype
            del probs
            if grad_hidden is not None:
                grad_hidden[start : start + ctx.chunk] = grad_logits @ weight  # (c, vocab) @ (vocab, E)
            if grad_weight is not None:
                grad_weight.addmm_(grad_logits.t(), rows)  # += (vocab, c) @ (c, E)
            if grad_bias is not None:
                grad_bias += grad_logits.sum(0)
            del grad_logits  # before the next chunk's logits exist
        return grad_hidden, grad_weight, grad_bias, None, None
