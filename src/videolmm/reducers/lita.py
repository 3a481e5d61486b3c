"""`LitaSlowFast`: LITA's fast tokens for every frame followed by a few slow frames."""

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from videolmm.reducers.base import Segment, check_frames, check_grid, check_patches, count_tokens, frame_segments
from videolmm.reducers.pooling import check_stride, pool_frames, pooled_grid
from videolmm.shapes import Grid, check_positive_int


def lita_slow_frames(num_frames: int, num_slow_frames: int) -> tuple[int, ...]:
    """LITA's slow frames: ``round(linspace(0, T-1, n))`` in float64, rounding half to even."""
    return tuple(int(i) for i in np.round(np.linspace(0, num_frames - 1, num_slow_frames, dtype=np.float64)))


class LitaSlowFast(nn.Module):
    """Fast tokens of every frame, then ``n`` slow frames pooled with ``stride``.

    Fast pathway: with ``fast_stride=None`` each frame gives one token, the mean of all its
    patches (LITA's ``temporal_spatial_pool``); with an int each frame is average-pooled by that
    stride (the variant Table 5 of the LLaVA-Video paper compares). Slow pathway: frames at
    `lita_slow_frames`, average-pooled with ``stride`` (floor mode). Output order: all fast tokens
    in frame order, then the slow frames, frame-major and row-major. Slow frames also appear in the
    fast pathway.

    Args:
        num_slow_frames: ``n``, slow frames; the reducer raises when ``T < n``.
        stride: The slow frames' pooling factor.
        fast_stride: ``None`` for one mean token per frame, else the fast frames' pooling factor.
    """

    def __init__(self, num_slow_frames: int = 4, stride: int = 2, fast_stride: int | None = None) -> None:
        super().__init__()
        self.num_slow_frames = check_positive_int(num_slow_frames, name="num_slow_frames")
        self.stride = check_stride(stride)
        self.fast_stride = None if fast_stride is None else check_stride(fast_stride)

    @property
    def min_frames(self) -> int:
        """``T`` must be at least ``num_slow_frames``."""
        return self.num_slow_frames

    def extra_repr(self) -> str:
        return f"num_slow_frames={self.num_slow_frames}, stride={self.stride}, fast_stride={self.fast_stride}"

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Fast block then slow block.

        Shapes:
            x: (B, T, N, D) -> (B, T * f + n * a*a, D), f = 1 or the fast frames' pooled size
        """
        grid = check_patches(x, grid, self.min_frames, type(self).__name__)
        if self.fast_stride is None:
            # avg_pool2d over the whole grid: the mean of x over N, ~10x faster than x.mean(2) for bfloat16 on CPU
            frames = rearrange(x, "b t (h w) d -> (b t) d h w", h=grid[0], w=grid[1])  # -> (B*T, D, h, w)
            fast = rearrange(F.avg_pool2d(frames, grid), "(b t) d 1 1 -> b t d", b=x.shape[0])  # -> (B, T, D)
        else:
            fast = pool_frames(x, grid, self.fast_stride, "avg").flatten(1, 2)  # -> (B, T*f, D)
        index = torch.tensor(lita_slow_frames(x.shape[1], self.num_slow_frames), device=x.device)
        slow = pool_frames(x.index_select(1, index), grid, self.stride, "avg")  # (B, n, a*a, D)
        return torch.cat([fast, slow.flatten(1, 2)], dim=1)  # (B, L, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """The fast block (one row when ``fast_stride=None``, else a grid per frame), then slow frames."""
        check_frames(num_frames, self.min_frames, type(self).__name__)
        grid = check_grid(grid)
        if self.fast_stride is None:
            fast: tuple[Segment, ...] = (Segment(range(num_frames), 1, num_frames, "fast"),)
        else:
            fast = frame_segments(num_frames, *pooled_grid(grid, self.fast_stride, "avg"), "fast")
        rows, cols = pooled_grid(grid, self.stride, "avg")
        slow = tuple(
            Segment(range(t, t + 1), rows, cols, "slow") for t in lita_slow_frames(num_frames, self.num_slow_frames)
        )
        return fast + slow

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """Fast tokens plus ``n * a*a``."""
        return count_tokens(self.segments(num_frames, grid))
