"""Attention backends: which kernel runs the LLM's attention, chosen by config and logged.

``attn_implementation`` (a `CausalLM` argument) picks the ``transformers`` attention path:

- ``"sdpa"`` (default): ``torch.nn.functional.scaled_dot_product_attention``. PyTorch picks one
  of its kernels in a priority order; `SDPA_PRIORITY` puts cuDNN first (on one H100, bf16, causal,
  B4 H28 S8192 d128: cuDNN 632 TFLOP/s, flash 346, memory-efficient 175), and PyTorch skips any
  kernel that cannot run the call (cuDNN needs a recent GPU and cuDNN build; flash takes no mask).
  Packed rows carry a block-diagonal mask, which rules out the flash kernel and materialises a
  (P, P) mask per row and layer (in the compute dtype): prefer FlashAttention-2 for long rows.
- ``"flash_attention_2"``: the ``flash-attn`` package (CUDA only, opt-in); packed rows go through
  its varlen kernel without any mask.
- ``"eager"``: plain matmul + softmax (reference, slow).
"""

import importlib.util
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

SDPA_PRIORITY: tuple[str, ...] = ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH")
"""Default SDPA kernel order (names of ``torch.nn.attention.SDPBackend``): cuDNN first, math last."""

VARLEN_IMPLEMENTATIONS: frozenset[str] = frozenset({"flash_attention_2", "flash_attention_3"})
"""Implementations that run packed samples as one unpadded row with ``cu_seqlens`` (no mask)."""


def sdpa_backends(names: Sequence[str]) -> list[SDPBackend]:
    """The ``SDPBackend`` members named, in order.

    Raises:
        ValueError: An unknown name, or an empty list.
    """
    known = [name for name in SDPBackend.__members__ if name != "ERROR"]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise ValueError(f"SDPA backends must be a non-empty list of {known}, got {list(names)}")
    return [SDPBackend.__members__[name] for name in names]


def sdpa_priority(implementation: str, names: Sequence[str]) -> AbstractContextManager:
    """A context in which SDPA tries only ``names``, in that order (a no-op for other implementations)."""
    if implementation != "sdpa":
        return nullcontext()
    return sdpa_kernel(sdpa_backends(names), set_priority=True)


def check_implementation(implementation: str) -> None:
    """Fail early, with the fix, when an attention implementation cannot run here.

    Raises:
        ImportError: ``flash_attention_2`` without the ``flash-attn`` package.
    """
    if implementation == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        raise ImportError(
            "attn_implementation=flash_attention_2 needs the flash-attn package on a CUDA machine "
            "(pip install 'videolmm[flash]'); use attn_implementation=sdpa otherwise"
        )


def sdpa_choice(
    num_heads: int,
    num_kv_heads: int,
    head_dim: int,
    device: torch.device,
    dtype: torch.dtype,
    masked: bool,
    length: int = 256,
) -> str:
    """The SDPA kernel PyTorch would pick now for a causal call of this shape (under the active priority).

    Args:
        num_heads: Query heads.
        num_kv_heads: Key/value heads (GQA when fewer than ``num_heads``).
        head_dim: Width of one head.
        device: Where the call runs.
        dtype: Dtype of queries, keys and values.
        masked: With a boolean (S, S) mask (packed rows) instead of ``is_causal``.
        length: Sequence length of the probe.

    Returns:
        The ``SDPBackend`` name, e.g. ``"CUDNN_ATTENTION"``.
    """
    query = torch.zeros(1, num_heads, length, head_dim, device=device, dtype=dtype)
    if masked:  # transformers repeats the KV heads when it passes a mask
        mask = torch.ones(length, length, dtype=torch.bool, device=device).tril()
        choice = torch._fused_sdp_choice(query, query, query, mask, 0.0, False)
    else:
        key = torch.zeros(1, num_kv_heads, length, head_dim, device=device, dtype=dtype)
        gqa = num_kv_heads != num_heads
        choice = torch._fused_sdp_choice(query, key, key, None, 0.0, True, enable_gqa=gqa)
    return SDPBackend(choice).name


def describe_attention(
    implementation: str,
    priority: Sequence[str],
    num_heads: int,
    num_kv_heads: int,
    head_dim: int,
    device: torch.device,
    dtype: torch.dtype,
) -> str:
    """One log line: the implementation and, for SDPA, the kernel of causal and of packed (masked) calls."""
    if implementation != "sdpa":
        return f"attention: {implementation} on {device.type} ({dtype})"
    with sdpa_priority(implementation, priority):
        causal = sdpa_choice(num_heads, num_kv_heads, head_dim, device, dtype, masked=False)
        packed = sdpa_choice(num_heads, num_kv_heads, head_dim, device, dtype, masked=True)
    order = ">".join(priority)
    return f"attention: sdpa on {device.type} ({dtype}), priority {order}; causal -> {causal}, packed -> {packed}"
