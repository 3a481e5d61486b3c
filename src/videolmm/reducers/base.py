"""What every reducer shares: the `TokenReducer` interface, `Segment`, and input checks.

A reducer maps the patches of a video, ``x`` of shape (B, T, N, D) with ``N = h * w``, to a
sequence of visual tokens (B, L, D). Its ``segments`` describe that sequence as consecutive
blocks (which frames, rows x cols, slow or fast pathway) so that separators can be placed.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from torch import Tensor

from videolmm.shapes import Grid

Pathway = Literal["frame", "slow", "fast"]


@dataclass(frozen=True)
class Segment:
    """A consecutive block of a reducer's output tokens.

    Attributes:
        frames: Input frames the block is computed from (``range(t, t + 1)`` for one frame).
        rows: Rows of the block. A block that is not a spatial grid (LITA's per-frame means,
            a 1-D-pooled frame on an odd grid) is a single row.
        cols: Tokens per row.
        pathway: ``"frame"`` for single-pathway reducers, ``"slow"`` or ``"fast"`` otherwise.
    """

    frames: range
    rows: int
    cols: int
    pathway: Pathway = "frame"

    @property
    def num_tokens(self) -> int:
        """The number of tokens in the block, ``rows * cols``."""
        return self.rows * self.cols


@runtime_checkable
class TokenReducer(Protocol):
    """The reducer contract (see the module docstring)."""

    min_frames: int

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Reduce (B, T, N, D) patches to (B, L, D) tokens."""
        ...

    def __call__(self, x: Tensor, grid: Grid) -> Tensor:
        """`forward` through ``nn.Module.__call__`` (hooks run): reduce (B, T, N, D) patches to (B, L, D) tokens."""
        ...

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """The output token order, as consecutive blocks."""
        ...

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """L for ``num_frames`` frames of ``grid`` patches."""
        ...


def count_tokens(segments: tuple[Segment, ...]) -> int:
    """Total tokens of a segment list."""
    return sum(s.num_tokens for s in segments)


def check_grid(grid: Sequence[int]) -> Grid:
    """Return ``grid`` as a pair of positive ints, or raise `ValueError`."""
    if isinstance(grid, int) or len(grid) != 2 or any(int(g) < 1 for g in grid):
        raise ValueError(f"grid must be a pair (h, w) of positive ints, got {grid!r}")
    return int(grid[0]), int(grid[1])


def check_frames(num_frames: int, min_frames: int, who: str) -> None:
    """Raise `ValueError` when a reducer gets fewer frames than it needs."""
    if num_frames < min_frames:
        raise ValueError(f"{who} needs at least {min_frames} frames, got T={num_frames}")


def check_patches(x: Tensor, grid: Grid, min_frames: int, who: str) -> Grid:
    """Check that ``x`` is (B, T, N, D) with ``N = h * w`` and enough frames; return the grid."""
    h, w = check_grid(grid)
    if x.ndim != 4:
        raise ValueError(f"{who} expects patches of shape (B, T, N, D), got rank {x.ndim} shape {tuple(x.shape)}")
    if x.shape[2] != h * w:
        raise ValueError(f"{who} got N={x.shape[2]} patches per frame but grid {h}x{w} has h*w={h * w}")
    check_frames(x.shape[1], min_frames, who)
    return h, w


def frame_segments(num_frames: int, rows: int, cols: int, pathway: Pathway = "frame") -> tuple[Segment, ...]:
    """One ``rows x cols`` segment per frame, in time order."""
    return tuple(Segment(range(t, t + 1), rows, cols, pathway) for t in range(num_frames))
