"""`SpatialPool`: the same 2-D pooling on every frame (LLaVA-NeXT-Video, LLaVA-OneVision, LLaVA-Video)."""

from torch import Tensor, nn

from videolmm.reducers.base import Segment, check_frames, check_grid, check_patches, count_tokens, frame_segments
from videolmm.reducers.pooling import check_mode, check_stride, pool_frames, pooled_grid
from videolmm.shapes import Grid


class SpatialPool(nn.Module):
    """Pool each frame with stride ``p``; frames stay in time order, row-major inside a frame.

    ``avg`` and ``max`` use kernel = stride in floor mode, so the last row and column of an odd
    grid are dropped (27x27 -> 13x13, as ``avg_pool2d`` in LLaVA-Video). ``bilinear`` resizes to
    ``ceil(h/p) x ceil(w/p)`` with ``align_corners=False`` (27x27 -> 14x14, as LLaVA-OneVision).

    Args:
        stride: Pooling factor ``p``.
        mode: ``"avg"``, ``"max"`` or ``"bilinear"``.
    """

    min_frames = 1

    def __init__(self, stride: int = 2, mode: str = "avg") -> None:
        super().__init__()
        self.stride = check_stride(stride)
        self.mode = check_mode(mode)

    def extra_repr(self) -> str:
        return f"stride={self.stride}, mode={self.mode!r}"

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Pool every frame.

        Shapes:
            x: (B, T, N, D) -> (B, T * h' * w', D)
        """
        grid = check_patches(x, grid, self.min_frames, type(self).__name__)
        return pool_frames(x, grid, self.stride, self.mode).flatten(1, 2)  # (B, T, h'w', D) -> (B, L, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """One ``h' x w'`` segment per frame."""
        check_frames(num_frames, self.min_frames, type(self).__name__)
        return frame_segments(num_frames, *pooled_grid(check_grid(grid), self.stride, self.mode))

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """``T * h' * w'``."""
        return count_tokens(self.segments(num_frames, grid))
