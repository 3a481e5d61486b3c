"""`Pllava3DPool`: PLLaVA's adaptive average pooling over time and space."""

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from videolmm.reducers.base import Segment, check_frames, check_grid, check_patches, count_tokens
from videolmm.shapes import Grid, is_positive_int


class Pllava3DPool(nn.Module):
    """Adaptive 3-D average pooling of (T, h, w) to ``output_size``.

    Bins follow PyTorch's adaptive rule in each axis: bin ``i`` of ``o`` over ``n`` spans
    ``[floor(i*n/o), ceil((i+1)*n/o))``, so bins overlap when ``o`` does not divide ``n`` (27 -> 13).
    Videos with fewer than ``output_size[0]`` frames are first repeated as PLLaVA does: every frame
    ``floor(t_out / T) + 1`` times, then cut to ``t_out`` frames. Output order: time-major, row-major.

    Args:
        output_size: ``(t_out, rows, cols)``.
    """

    min_frames = 1

    def __init__(self, output_size: tuple[int, int, int] = (16, 12, 12)) -> None:
        super().__init__()
        size = tuple(output_size)
        if len(size) != 3 or not all(is_positive_int(s) for s in size):
            raise ValueError(f"output_size must be three positive ints (t, rows, cols), got {output_size!r}")
        self.output_size: tuple[int, int, int] = size  # type: ignore[assignment]

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def _repeats(self, num_frames: int) -> int:
        return self.output_size[0] // num_frames + 1 if num_frames < self.output_size[0] else 1

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Repeat short videos, then pool.

        Shapes:
            x: (B, T, N, D) -> (B, t_out * rows * cols, D)
        """
        h, w = check_patches(x, grid, self.min_frames, type(self).__name__)
        repeats = self._repeats(x.shape[1])
        if repeats > 1:
            x = x.repeat_interleave(repeats, dim=1)[:, : self.output_size[0]]  # (B, T, N, D) -> (B, t_out, N, D)
        # Adaptive 3-D average pooling is separable (each bin is a box): pool space, then time. Both steps run
        # on channels-last views, several times faster on CPU than adaptive_avg_pool3d, and equal to it.
        t_out, rows, cols = self.output_size
        y = rearrange(x, "b t (h w) d -> (b t) d h w", h=h, w=w)  # (B, T, N, D) -> (B*T, D, h, w)
        y = F.adaptive_avg_pool2d(y, (rows, cols))  # -> (B*T, D, rows, cols)
        y = rearrange(y, "(b t) d r c -> b d t (r c)", b=x.shape[0])  # -> (B, D, T, rows*cols)
        y = F.adaptive_avg_pool2d(y, (t_out, rows * cols))  # time bins only -> (B, D, t_out, rows*cols)
        return rearrange(y, "b d t m -> b (t m) d")  # -> (B, L, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """One ``rows x cols`` segment per output time step, naming the input frames it averages."""
        check_frames(num_frames, self.min_frames, type(self).__name__)
        check_grid(grid)
        t_out, rows, cols = self.output_size
        repeats = self._repeats(num_frames)
        n = min(num_frames * repeats, t_out) if repeats > 1 else num_frames
        segments = []
        for i in range(t_out):
            start, stop = (i * n) // t_out, -(-((i + 1) * n) // t_out)  # adaptive bin over (repeated) frames
            segments.append(Segment(range(start // repeats, (stop - 1) // repeats + 1), rows, cols))
        return tuple(segments)

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """``t_out * rows * cols``."""
        return count_tokens(self.segments(num_frames, grid))
