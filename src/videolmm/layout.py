"""`SeparatorLayout`: where separator vectors go among a reducer's tokens, and `visual_token_count`.

Positions (LLaVA-NeXT's ``mm_newline_position``), each a rule over a reducer's segments:

* ``"none"``: nothing.
* ``"grid"``: one newline after every row of every segment (LLaVA-Video evaluation).
* ``"frame"``: one newline after every segment.
* ``"end"``: one newline after all visual tokens (LLaVA-OneVision).

``slowfast_marker=True`` adds a second vector after every segment (after its newline, if any),
as LLaVA-Video's released SlowFast code appends ``faster_token`` after every frame.

The layout is arithmetic on `videolmm.reducers.Segment` only: the data pipeline, the config checks
and ``videolmm-tokens`` count tokens with it, without building a model. The learned vectors it
places are `videolmm.model.Separators`.
"""

from dataclasses import dataclass
from functools import lru_cache

from videolmm.reducers.base import Segment, TokenReducer, check_grid, count_tokens
from videolmm.shapes import Grid

__all__ = ["POSITIONS", "SeparatorLayout", "visual_token_count"]

POSITIONS: tuple[str, ...] = ("none", "grid", "frame", "end")
"""The separator positions (see the module docstring), in the order messages list them."""


@dataclass(frozen=True)
class SeparatorLayout:
    """Which separator vectors follow which of a reducer's segments.

    Attributes:
        position: ``"none"``, ``"grid"``, ``"frame"`` or ``"end"`` (see the module docstring).
        slowfast_marker: Add a marker vector after every segment.

    Raises:
        ValueError: An unknown position, or a marker flag that is not a bool.
    """

    position: str = "none"
    slowfast_marker: bool = False

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"unknown separator position {self.position!r}; expected one of {', '.join(POSITIONS)}")
        if not isinstance(self.slowfast_marker, bool):
            raise ValueError(f"slowfast_marker must be a bool, got {self.slowfast_marker!r}")

    def __str__(self) -> str:
        """``position='grid', slowfast_marker=True``: the layout as ``videolmm-tokens`` prints it."""
        return f"position={self.position!r}, slowfast_marker={self.slowfast_marker}"

    @property
    def vectors(self) -> tuple[str, ...]:
        """Names of the distinct vectors the layout places, in gather-table order: ``newline``, ``marker``."""
        return ("newline",) * (self.position != "none") + ("marker",) * self.slowfast_marker

    def after(self, segment: Segment) -> int:
        """Vectors placed right after ``segment``: row newlines, a frame newline, the marker."""
        return segment.rows * (self.position == "grid") + (self.position == "frame") + self.slowfast_marker

    def extra_tokens(self, segments: tuple[Segment, ...]) -> int:
        """How many vectors the layout adds to a reducer output made of ``segments``."""
        return sum(self.after(s) for s in segments) + (self.position == "end")

    def gather_index(self, segments: tuple[Segment, ...]) -> tuple[int, ...]:
        """Gather index into the table [visual tokens ++ `vectors`] giving the separated sequence.

        Entry ``i < L`` is visual token ``i``; ``L`` is the first of `vectors`, ``L + 1`` the second.

        Shapes:
            result: (L + extra_tokens(segments),) indices into a table of L + len(vectors) rows
        """
        return _gather_index(tuple(segments), self.position, self.slowfast_marker)


@lru_cache(maxsize=256)
def _gather_index(segments: tuple[Segment, ...], position: str, marker: bool) -> tuple[int, ...]:
    """`SeparatorLayout.gather_index`, cached per segments and layout."""
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


def visual_token_count(reducer: TokenReducer, layout: SeparatorLayout | None, num_frames: int, grid: Grid) -> int:
    """Visual tokens of one video: the reducer's tokens plus the separator vectors ``layout`` adds.

    This is the number the data pipeline expands each ``<video>`` into and the splice checks.

    Args:
        reducer: The token reducer.
        layout: The separator layout, or ``None`` for no separators.
        num_frames: ``T``.
        grid: The encoder's patch grid ``(h, w)``.
    """
    segments = reducer.segments(num_frames, check_grid(grid))
    extra = layout.extra_tokens(segments) if layout is not None else 0
    return reducer.num_tokens(num_frames, grid) + extra
