"""A reducer written outside videolmm: keep every k-th frame, then pool each kept frame spatially.

Used by the how-to "Add a reducer" (docs/how_to/add_reducer.md); tests/docs/test_how_to.py runs it.
"""

from torch import Tensor, nn

from videolmm.reducers import Segment, SpatialPool
from videolmm.shapes import Grid


class TemporalStride(nn.Module):
    """Keep frames ``0, k, 2k, ...`` of a video and pool each kept frame with `SpatialPool`.

    ``T`` frames give ``ceil(T / k)`` kept frames of ``h' x w'`` tokens each (``h', w'`` as
    `SpatialPool` computes them), in time order. With ``every=1`` this is `SpatialPool` itself.

    Args:
        every: Temporal stride ``k``.
        stride: Spatial pooling factor ``p``.
        mode: ``"avg"``, ``"max"`` or ``"bilinear"`` (see `SpatialPool`).
    """

    min_frames = 1

    def __init__(self, every: int = 2, stride: int = 2, mode: str = "avg") -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, got {every!r}")
        self.every = every
        self.pool = SpatialPool(stride=stride, mode=mode)

    def extra_repr(self) -> str:
        return f"every={self.every}"

    def kept_frames(self, num_frames: int) -> range:
        """Indices of the frames that are kept."""
        if num_frames < self.min_frames:
            raise ValueError(f"TemporalStride needs at least {self.min_frames} frames, got T={num_frames}")
        return range(0, num_frames, self.every)

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Keep every k-th frame, then pool each one.

        Shapes:
            x: (B, T, N, D) -> (B, ceil(T / k) * h' * w', D)
        """
        if x.ndim != 4:
            raise ValueError(f"TemporalStride expects patches (B, T, N, D), got shape {tuple(x.shape)}")
        self.kept_frames(x.shape[1])
        kept = x[:, :: self.every]  # (B, T, N, D) -> (B, ceil(T/k), N, D)
        return self.pool(kept, grid)  # (B, ceil(T/k), N, D) -> (B, L, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """One ``h' x w'`` segment per kept frame, naming the input frame it comes from."""
        kept = self.kept_frames(num_frames)
        pooled = self.pool.segments(len(kept), grid)
        return tuple(Segment(range(t, t + 1), s.rows, s.cols) for t, s in zip(kept, pooled, strict=True))

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """``ceil(T / k) * h' * w'``."""
        return sum(s.num_tokens for s in self.segments(num_frames, grid))
