"""`PackedSequences`: several samples per row, and what attention needs to keep them apart.

The collate packs samples first-fit into rows (R rows of at most P positions, right-padded) with
position ids that restart at 0 for every sample (and 0 on padding). ``transformers`` keeps the
samples of a row apart from these alone, in one of two layouts (`CausalLM` picks one):

- **rows** (SDPA, eager): the (R, P) rows as they are, ``attention_mask=None``; the mask builder
  of ``transformers`` (``masking_utils``, packed-sequence detection) sees the restarts in
  ``position_ids`` and builds a block-diagonal causal mask per row. Padding positions become
  one-token sequences that attend to themselves only (their labels are ``-100``). Attention
  costs ``R * P^2`` per layer.
- **flat** (FlashAttention-2): all rows laid end to end without padding as one (1, S) row, and
  ``cu_seqlens`` handed to ``flash_attn_varlen_func`` (as ``cu_seq_lens_q/k``); attention costs
  ``sum s_i^2`` and no padding position is computed.

Either way attention never crosses a sample boundary and RoPE sees every sample from position 0.
"""

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class PackedSequences:
    """Where the samples of packed rows are.

    Attributes:
        position_ids: (R, P) int64, ``0 .. s_i - 1`` for each sample of a row in turn, 0 on padding.
        attention_mask: (R, P), 1 on tokens, 0 on padding.
        cu_seqlens: (n + 1,) int32, cumulative sample lengths over the rows laid end to end.
        max_seqlen: The longest sample.
    """

    position_ids: Tensor
    attention_mask: Tensor
    cu_seqlens: Tensor
    max_seqlen: int

    @classmethod
    def from_rows(cls, rows: list[list[int]], device: torch.device | str = "cpu") -> "PackedSequences":
        """Boundaries of rows holding samples of the given lengths (``[[4, 3], [5]]``), right-padded.

        Raises:
            ValueError: An empty row or a sample of length < 1.
        """
        if not rows or not all(rows) or min(n for row in rows for n in row) < 1:
            raise ValueError(f"packed rows need samples of length >= 1, got {rows}")
        width = max(sum(row) for row in rows)
        positions = torch.zeros(len(rows), width, dtype=torch.int64, device=device)
        mask = torch.zeros(len(rows), width, dtype=torch.int64, device=device)
        for r, row in enumerate(rows):
            positions[r, : sum(row)] = torch.cat([torch.arange(n, device=device) for n in row])
            mask[r, : sum(row)] = 1
        lengths = torch.tensor([n for row in rows for n in row], device=device)
        cu = torch.cat([lengths.new_zeros(1), lengths.cumsum(0)]).to(torch.int32)  # (n + 1,)
        return cls(positions, mask, cu, int(lengths.max()))

    @classmethod
    def from_batch(cls, batch: dict) -> "PackedSequences":
        """From a packed collate batch (``position_ids``, ``attention_mask``, ``cu_seqlens``, ``max_seqlen``).

        Raises:
            ValueError: ``cu_seqlens`` does not cover the unpadded positions, or the position ids
                do not count 0, 1, ... within every sample it delimits.
        """
        packed = cls(batch["position_ids"], batch["attention_mask"], batch["cu_seqlens"], int(batch["max_seqlen"]))
        held = int(packed.attention_mask.sum())
        if packed.total != held:
            raise ValueError(f"cu_seqlens covers {packed.total} tokens but the rows hold {held}")
        flat = packed.flatten(packed.position_ids)[0]  # (S,)
        expected = torch.cat([torch.arange(n, device=flat.device) for n in packed.lengths])
        if not torch.equal(flat, expected):
            raise ValueError("position_ids must count 0, 1, ... within every packed sample that cu_seqlens delimits")
        return packed

    @property
    def lengths(self) -> list[int]:
        """``s_i`` of every sample, row by row."""
        return [int(n) for n in self.cu_seqlens.diff().tolist()]

    @property
    def total(self) -> int:
        """``S = sum s_i``, the positions without padding."""
        return int(self.cu_seqlens[-1])

    def flatten(self, x: Tensor) -> Tensor:
        """The rows laid end to end without their padding, as one row.

        Shapes:
            x: (R, P, ...) -> (1, S, ...)
        """
        if x.shape[:2] != self.attention_mask.shape:
            raise ValueError(f"expected ({', '.join(map(str, self.attention_mask.shape))}, ...), got {tuple(x.shape)}")
        return x[self.attention_mask.bool()].unsqueeze(0)  # (R, P, ...) -> (S, ...) -> (1, S, ...)

    def unflatten(self, x: Tensor) -> Tensor:
        """The inverse of `flatten`, zeros on padding.

        Shapes:
            x: (1, S, ...) -> (R, P, ...)
        """
        rows = x.new_zeros(*self.attention_mask.shape, *x.shape[2:])  # (R, P, ...)
        rows[self.attention_mask.bool()] = x[0]
        return rows

    def split(self, x: Tensor) -> tuple[Tensor, ...]:
        """Every sample's part of packed rows.

        Shapes:
            x: (R, P, ...) -> n x (s_i, ...)
        """
        return self.flatten(x)[0].split(self.lengths)  # (S, ...) -> n x (s_i, ...)

    def attention_kwargs(self) -> dict[str, Tensor | int]:
        """The keyword arguments ``transformers`` forwards to FlashAttention's varlen kernel (flat layout)."""
        cu = self.cu_seqlens.to(device=self.position_ids.device, dtype=torch.int32)
        longest = self.max_seqlen
        return {"cu_seq_lens_q": cu, "cu_seq_lens_k": cu, "max_length_q": longest, "max_length_k": longest}
