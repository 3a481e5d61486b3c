"""`LlavaVideoSlowFast`: the LLaVA-Video SlowFast representation V = (T, M, s, p)."""

from functools import lru_cache

import torch
from torch import Tensor, nn

from videolmm.reducers.base import Pathway, Segment, check_frames, check_grid, check_patches, count_tokens
from videolmm.reducers.pooling import check_mode, check_stride, pool_frames, pooled_grid
from videolmm.shapes import Grid, check_positive_int


class LlavaVideoSlowFast(nn.Module):
    """Slow frames pooled with stride ``p``, every other frame fast and pooled with ``2p``.

    Frame ``t`` is slow iff ``t % s == 0``, so ``ceil(T/s)`` frames are slow (the released
    LLaVA-Video code; the paper's formula writes ``floor(T/s)``). Frames stay in time order. With
    ``s = 1`` every frame is slow and the reducer equals `SpatialPool` with the same stride and mode.
    Pooling follows `SpatialPool`: floor for ``avg``/``max`` (27 -> 13 and 27 -> 6), ceil for
    ``bilinear`` (27 -> 14 and 27 -> 7).

    Args:
        slow_every: ``s``, every ``s``-th frame is slow.
        stride: ``p``, the slow frames' pooling factor; fast frames use ``2p``.
        mode: ``"avg"``, ``"max"`` or ``"bilinear"``.
    """

    min_frames = 1

    def __init__(self, slow_every: int = 3, stride: int = 2, mode: str = "avg") -> None:
        super().__init__()
        self.slow_every = check_positive_int(slow_every, name="slow_every")
        self.stride = check_stride(stride)
        self.mode = check_mode(mode)

    def extra_repr(self) -> str:
        return f"slow_every={self.slow_every}, stride={self.stride}, mode={self.mode!r}"

    def forward(self, x: Tensor, grid: Grid) -> Tensor:
        """Pool slow and fast frames and interleave them in time order.

        Shapes:
            x: (B, T, N, D) -> (B, ceil(T/s) * a*a + (T - ceil(T/s)) * b*b, D)
        """
        grid = check_patches(x, grid, self.min_frames, type(self).__name__)
        T = x.shape[1]
        slow = pool_frames(x[:, :: self.slow_every], grid, self.stride, self.mode)  # (B, T_slow, a*a, D)
        fast_frames = _fast_frames(T, self.slow_every)
        if not fast_frames:
            return slow.flatten(1, 2)  # (B, T, a*a, D) -> (B, L, D)
        # Pooling every frame at 2p and keeping the fast ones reads the input once; gathering the fast frames
        # first would copy two thirds of it.
        fast = pool_frames(x, grid, 2 * self.stride, self.mode)  # (B, T, b*b, D)
        fast = fast.index_select(1, torch.tensor(fast_frames, device=x.device))  # -> (B, T_fast, b*b, D)
        blocks = torch.cat([slow.flatten(1, 2), fast.flatten(1, 2)], dim=1)  # slow block, then fast block
        order = _time_order(T, self.slow_every, slow.shape[2], fast.shape[2])
        return blocks.index_select(1, torch.tensor(order, device=x.device))  # -> frames in time order

    def segments(self, num_frames: int, grid: Grid) -> tuple[Segment, ...]:
        """One segment per frame in time order, ``a x a`` when slow, ``b x b`` when fast."""
        check_frames(num_frames, self.min_frames, type(self).__name__)
        grid = check_grid(grid)
        slow = pooled_grid(grid, self.stride, self.mode)
        fast = pooled_grid(grid, 2 * self.stride, self.mode) if num_frames > 1 and self.slow_every > 1 else slow
        return tuple(
            Segment(range(t, t + 1), *(slow if t % self.slow_every == 0 else fast), _pathway(t, self.slow_every))
            for t in range(num_frames)
        )

    def num_tokens(self, num_frames: int, grid: Grid) -> int:
        """Slow frames x ``a*a`` plus fast frames x ``b*b``."""
        return count_tokens(self.segments(num_frames, grid))


def _pathway(t: int, slow_every: int) -> Pathway:
    return "slow" if t % slow_every == 0 else "fast"


@lru_cache(maxsize=64)
def _fast_frames(num_frames: int, slow_every: int) -> tuple[int, ...]:
    return tuple(t for t in range(num_frames) if t % slow_every)


@lru_cache(maxsize=64)
def _time_order(num_frames: int, slow_every: int, slow_len: int, fast_len: int) -> tuple[int, ...]:
    """Positions in [slow block ++ fast block] of the tokens of frames 0..T-1, in time order."""
    num_slow = -(-num_frames // slow_every)
    order: list[int] = []
    for t in range(num_frames):
        if t % slow_every == 0:
            start = (t // slow_every) * slow_len
            order.extend(range(start, start + slow_len))
        else:
            start = num_slow * slow_len + (t - t // slow_every - 1) * fast_len
            order.extend(range(start, start + fast_len))
    return tuple(order)
