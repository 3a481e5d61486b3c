"""`SlowFastLlava`: SlowFast-LLaVA's slow block of a few frames, then a fast block of every frame."""

from enum import StrEnum

import torch
import torch.nn.functional as F
from einops import rearrange, reduce
from torch import Tensor, nn

from videolmm.reducers.base import Segment, check_frames, check_grid, check_patches, count_tokens, frame_segments
from videolmm.reducers.pooling import check_mode, pool_frames, pooled_grid
from videolmm.shapes import Grid, check_positive_int


class SlowPool(StrEnum):
    """How the slow frames are pooled: pairs of flattened tokens (1-D) or 2x2 windows (2-D), max or mean."""

    MAX_1D = "1d_max"
    AVG_1D = "1d_avg"
    MAX_2D = "2d_max"
    AVG_2D = "2d_avg"

    @property
    def two_dimensional(self) -> bool:
        """2x2 windows on the patch grid (else pairs along the flattened row-major tokens)."""
        return self.value.startswith("2d")

    @property
    def mode(self) -> str:
        """``"max"`` or ``"avg"``."""
        return self.value.split("_")[1]


SLOW_POOLS: tuple[str, ...] = tuple(pool.value for pool in SlowPool)


def slowfast_llava_slow_frames(num_frames: int, num_slow_frames: int) -> tuple[int, ...]:
    """SlowFast-LLaVA's slow frames: ``trunc(linspace(0, T, n + 1))[:-1]`` with a float32 linspace."""
    points = torch.linspace(0, num_frames, num_slow_frames + 1, dtype=torch.float32)
    return tuple(int(i) for i in points.trunc().long()[:-1])


class SlowFastLlava(nn.Module):
    """Slow frames at high resolution, then every frame at ``fast_size``; no separators of its own.

    Slow pathway: frames `slowfast_llava_slow_frames`, pooled by pairs along the flattened
    row-major tokens (``1d_max`` / ``1d_avg``: ``floor(N/2)`` tokens; on an odd grid the pairs
    straddle rows and the last token is dropped) or 2x2 in floor mode (``2d_max`` / ``2d_avg``).
    Fast pathway: every frame adaptive-average-pooled to ``fast_size``. Output: the slow block
    (frame-major, row-major), then the fast block.

    Args:
        num_slow_frames: ``n``, slow frames; the reducer raises when ``T < n``.
        slow_pool: A `SlowPool` or its value: ``"1d_max"``, ``"1d_avg"``, ``"2d_max"`` or ``"2d_avg"``.
        fast_size: ``(rows, cols)`` of every fast frame.
    """

    def __init__(
        self,
        num_slow_frames: int = 10,
        slow_pool: SlowPool | str = SlowPool.MAX_1D,
        fast_size: tuple[int, int] = (4, 4),
    ) -> None:
        super().__init__()
        self.num_slow_frames = check_positive_int(num_slow_frames, name="num_slow_frames")
        self.slow_pool = SlowPool(check_mode(str(slow_pool), SLOW_POOLS))
        self.fast_size = check_grid(tuple(fast_size))

    @property
    def min_frames(self) -> int:
        """``T`` must be at least ``num_slow_frames``."""
        return self.num_slow_frames

    def extra_repr(self) -> str:
        return f"num_slow_frames={self.num_slow_frames}, slow_pool={self.slow_pool.value!r}, fast_size={self.fast_size}"

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Slow block then fast block.

        Shapes:
            x: (B, T, N, D) -> (B, n * slow_tokens + T * fast_rows * fast_cols, D)
        """
        h, w = check_patches(x, grid, self.min_frames, type(self).__name__)
        index = torch.tensor(slowfast_llava_slow_frames(x.shape[1], self.num_slow_frames), device=x.device)
        slow = x.index_select(1, index)  # (B, n, N, D)
        mode = self.slow_pool.mode
        if not self.slow_pool.two_dimensional:
            pairs = slow[:, :, : 2 * (h * w // 2)]  # an odd last token has no partner and is dropped
            slow = reduce(pairs, "b t (n two) d -> b t n d", "max" if mode == "max" else "mean", two=2)
        else:
            slow = pool_frames(slow, (h, w), 2, mode)  # (B, n, (h//2)*(w//2), D)
        frames = rearrange(x, "b t (h w) d -> (b t) d h w", h=h, w=w)  # (B, T, N, D) -> (B*T, D, h, w)
        fast = F.adaptive_avg_pool2d(frames, self.fast_size)  # -> (B*T, D, fh, fw)
        fast = rearrange(fast, "(b t) d h w -> b (t h w) d", b=x.shape[0])  # -> (B, T*fh*fw, D)
        return torch.cat([slow.flatten(1, 2), fast], dim=1)  # (B, L, D)

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """``n`` slow segments, then one ``fast_size`` segment per frame."""
        check_frames(num_frames, self.min_frames, type(self).__name__)
        h, w = check_grid(grid)
        if self.slow_pool.two_dimensional:
            rows, cols = pooled_grid((h, w), 2, self.slow_pool.mode)
        elif w % 2 == 0:
            rows, cols = h, w // 2  # pairs stay inside a row
        else:
            rows, cols = 1, h * w // 2  # pairs straddle rows: not a spatial grid
        slow = tuple(
            Segment(range(t, t + 1), rows, cols, "slow")
            for t in slowfast_llava_slow_frames(num_frames, self.num_slow_frames)
        )
        return slow + frame_segments(num_frames, *self.fast_size, "fast")

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """``n * slow_tokens + T * fast_rows * fast_cols``."""
        return count_tokens(self.segments(num_frames, grid))
