"""`Identity`: every patch of every frame."""

from torch import Tensor, nn

from videolmm.reducers.base import Segment, check_frames, check_grid, check_patches, count_tokens, frame_segments
from videolmm.shapes import Grid


class Identity(nn.Module):
    """Keep all ``N`` tokens of every frame, frame-major and row-major: ``L = T * N``."""

    min_frames = 1

    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Flatten frames.

        Shapes:
            x: (B, T, N, D) -> (B, T * N, D)
        """
        check_patches(x, grid, self.min_frames, type(self).__name__)
        return x.flatten(1, 2)  # (B, T, N, D) -> (B, T*N, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """One ``h x w`` segment per frame."""
        h, w = check_grid(grid)
        check_frames(num_frames, self.min_frames, type(self).__name__)
        return frame_segments(num_frames, h, w)

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """``T * h * w``."""
        return count_tokens(self.segments(num_frames, grid))
