"""2-D pooling primitives shared by the reducers, batched over all frames at once.

Output sides follow PyTorch semantics exactly (reference_algorithms.md §0.3):

* ``avg`` / ``max``: kernel = stride = ``p``, floor mode. A 27x27 grid gives 13x13; the last row
  and column are dropped.
* ``bilinear``: resize to ``ceil(h / p) x ceil(w / p)``, ``align_corners=False``, no antialias.
  A 27x27 grid gives 14x14.
"""

from typing import Literal, get_args

import torch.nn.functional as F
from einops import rearrange
from torch import Tensor

from videolmm.shapes import Grid, check_positive_int

PoolMode = Literal["avg", "max", "bilinear"]
POOL_MODES: tuple[str, ...] = get_args(PoolMode)


def check_mode(mode: str, allowed: tuple[str, ...] = POOL_MODES) -> str:
    """Return ``mode`` if it is one of ``allowed``, else raise `ValueError`."""
    if mode not in allowed:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(allowed)}")
    return mode


def check_stride(stride: int) -> int:
    """Return ``stride`` if it is a positive int, else raise `ValueError`."""
    return check_positive_int(stride, name="stride")


def pooled_grid(grid: Grid, stride: int, mode: str) -> Grid:
    """The (h', w') grid that `pool_frames` produces for ``grid``."""
    h, w = grid
    if mode == "bilinear":
        return -(-h // stride), -(-w // stride)
    if h < stride or w < stride:
        raise ValueError(f"{mode} pooling with stride {stride} needs a grid of at least {stride}x{stride}, got {h}x{w}")
    return h // stride, w // stride


def pool_frames(x: Tensor, grid: Grid, stride: int, mode: str) -> Tensor:
    """Pool every frame of ``x`` spatially.

    Args:
        x: Patches (B, T, N, D), row-major ``N = h * w``.
        grid: ``(h, w)``.
        stride: Pooling factor ``p``.
        mode: ``avg``, ``max`` or ``bilinear``.

    Returns:
        (B, T, h' * w', D), row-major within each frame.
    """
    h, w = grid
    B = x.shape[0]
    oh, ow = pooled_grid(grid, stride, mode)
    y = rearrange(x, "b t (h w) d -> (b t) d h w", h=h, w=w)  # (B, T, N, D) -> (B*T, D, h, w), channels-last view
    if mode == "avg":
        y = F.avg_pool2d(y, stride)
    elif mode == "max":
        y = F.max_pool2d(y, stride)
    else:
        y = F.interpolate(y, size=(oh, ow), mode="bilinear", align_corners=False)
    return rearrange(y, "(b t) d h w -> b t (h w) d", b=B)  # (B*T, D, h', w') -> (B, T, h'*w', D)
