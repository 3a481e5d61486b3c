"""`Separators`: learned vectors placed between visual tokens after the projector.

Positions (LLaVA-NeXT's ``mm_newline_position``), each a rule over a reducer's segments:

* ``"none"``: nothing.
* ``"grid"``: one newline after every row of every segment (LLaVA-Video evaluation).
* ``"frame"``: one newline after every segment.
* ``"end"``: one newline after all visual tokens (LLaVA-OneVision).

``slowfast_marker=True`` adds a second learned vector after every segment (after its newline,
if any), as LLaVA-Video's released SlowFast code appends ``faster_token`` after every frame.
"""

from functools import lru_cache
from typing import Literal, get_args

import torch
from torch import Tensor, nn

from videolmm.reducers.base import Segment, count_tokens

Position = Literal["none", "grid", "frame", "end"]
POSITIONS: tuple[str, ...] = get_args(Position)


class Separators(nn.Module):
    """Insert learned separator vectors into a reduced video.

    Args:
        dim: Width of the vectors (``E`` after the projector).
        position: ``"none"``, ``"grid"``, ``"frame"`` or ``"end"`` (see the module docstring).
        slowfast_marker: Add a learned marker after every segment.
    """

    def __init__(self, dim: int, position: str = "none", slowfast_marker: bool = False) -> None:
        super().__init__()
        if position not in POSITIONS:
            raise ValueError(f"unknown separator position {position!r}; expected one of {', '.join(POSITIONS)}")
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        self.dim = dim
        self.position = position
        self.slowfast_marker = bool(slowfast_marker)
        self.newline = nn.Parameter(torch.empty(dim)) if position != "none" else None
        self.marker = nn.Parameter(torch.empty(dim)) if slowfast_marker else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise every vector from N(0, 1/dim), as LLaVA-NeXT does."""
        for p in (self.newline, self.marker):
            if p is not None:
                with torch.no_grad():
                    p.normal_(0.0, self.dim**-0.5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, position={self.position!r}, slowfast_marker={self.slowfast_marker}"

    def after(self, segment: Segment) -> int:
        """Vectors placed right after ``segment``: row newlines, a frame newline, the marker."""
        return segment.rows * (self.position == "grid") + (self.position == "frame") + self.slowfast_marker

    def extra_tokens(self, segments: tuple[Segment, ...]) -> int:
        """How many vectors `forward` adds for a reducer output made of ``segments``."""
        return sum(self.after(s) for s in segments) + (self.position == "end")

    def forward(self, x: Tensor, segments: tuple[Segment, ...]) -> Tensor:
        """Interleave the separators with the visual tokens in one gather.

        Shapes:
            x: (B, L, E) -> (B, L + extra_tokens(segments), E)
        """
        segments = tuple(segments)
        L = count_tokens(segments)
        if x.ndim != 3 or x.shape[1] != L:
            raise ValueError(f"Separators expects (B, L, E) with L={L} tokens from the segments, got {tuple(x.shape)}")
        if self.newline is None and self.marker is None:
            return x
        B, _, E = x.shape
        vectors: list[Tensor] = [v for v in (self.newline, self.marker) if v is not None]
        extra = torch.stack(vectors).to(x.dtype).unsqueeze(0).expand(B, -1, E)  # (B, 1 or 2, E)
        table = torch.cat([x, extra], dim=1)  # (B, L + 1 or 2, E): visual tokens, newline, marker
        index = torch.tensor(_layout(segments, self.position, self.slowfast_marker), device=x.device)
        return table.index_select(1, index)  # -> (B, L', E)


@lru_cache(maxsize=256)
def _layout(segments: tuple[Segment, ...], position: str, marker: bool) -> tuple[int, ...]:
    """Gather index into [visual tokens ++ newline ++ marker] giving the separated sequence."""
    L = count_tokens(segments)
    newline, mark = L, L + (position != "none")
    index: list[int] = []
    start = 0
    for seg in segments:
        for r in range(seg.rows):
            index.extend(range(start + r * seg.cols, start + (r + 1) * seg.cols))
            if position == "grid":
                index.append(newline)
        start += seg.num_tokens
        if position == "frame":
            index.append(newline)
        if marker:
            index.append(mark)
    if position == "end":
        index.append(newline)
    return tuple(index)
