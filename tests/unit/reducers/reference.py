"""Plainly written reference reductions: explicit loops over frames and output cells, float64.

They restate reference_algorithms.md §0.3 and §1 cell by cell, independently of the library's
batched implementation, so the golden tests compare two different computations.
"""

import math

import torch
from torch import Tensor


def frame_grid(x: Tensor, grid: tuple[int, int]) -> Tensor:
    """One frame's (N, D) patches as (h, w, D)."""
    return x.reshape(grid[0], grid[1], x.shape[-1])


def block_pool(frame: Tensor, grid: tuple[int, int], p: int, op: str) -> Tensor:
    """Kernel = stride = p, floor mode: (N, D) -> (floor(h/p) * floor(w/p), D)."""
    g = frame_grid(frame, grid)
    cells = []
    for i in range(grid[0] // p):
        for j in range(grid[1] // p):
            block = g[i * p : (i + 1) * p, j * p : (j + 1) * p].reshape(p * p, -1)
            cells.append(block.mean(0) if op == "avg" else block.amax(0))
    return torch.stack(cells)


def _bilinear_taps(out: int, size: int) -> list[tuple[int, int, float]]:
    """For each output index: (i0, i1, weight of i1), align_corners=False, source clamped at 0."""
    taps = []
    for i in range(out):
        src = max((i + 0.5) * size / out - 0.5, 0.0)
        i0 = min(math.floor(src), size - 1)
        taps.append((i0, min(i0 + 1, size - 1), src - i0))
    return taps


def bilinear(frame: Tensor, grid: tuple[int, int], p: int) -> Tensor:
    """Resize to ceil(h/p) x ceil(w/p): (N, D) -> (h' * w', D)."""
    g = frame_grid(frame, grid)
    rows, cols = _bilinear_taps(-(-grid[0] // p), grid[0]), _bilinear_taps(-(-grid[1] // p), grid[1])
    cells = []
    for r0, r1, a in rows:
        for c0, c1, b in cols:
            top = (1 - b) * g[r0, c0] + b * g[r0, c1]
            bottom = (1 - b) * g[r1, c0] + b * g[r1, c1]
            cells.append((1 - a) * top + a * bottom)
    return torch.stack(cells)


def pool(frame: Tensor, grid: tuple[int, int], p: int, mode: str) -> Tensor:
    """Dispatch to the reference of ``mode``."""
    return bilinear(frame, grid, p) if mode == "bilinear" else block_pool(frame, grid, p, mode)


def adaptive_bins(out: int, size: int) -> list[range]:
    """PyTorch's adaptive pooling bins: [floor(i*n/o), ceil((i+1)*n/o))."""
    return [range((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def adaptive_avg2d(frame: Tensor, grid: tuple[int, int], size: tuple[int, int]) -> Tensor:
    """Adaptive average pooling of one frame to ``size``: (N, D) -> (rows * cols, D)."""
    g = frame_grid(frame, grid)
    return torch.stack(
        [
            g[r.start : r.stop, c.start : c.stop].reshape(-1, g.shape[-1]).mean(0)
            for r in adaptive_bins(size[0], grid[0])
            for c in adaptive_bins(size[1], grid[1])
        ]
    )


def adaptive_avg3d(video: Tensor, grid: tuple[int, int], size: tuple[int, int, int]) -> Tensor:
    """Adaptive average pooling of (T, N, D) over (T, h, w) to ``size``: -> (t * rows * cols, D)."""
    v = video.reshape(video.shape[0], grid[0], grid[1], video.shape[-1])
    cells = []
    for t in adaptive_bins(size[0], video.shape[0]):
        for r in adaptive_bins(size[1], grid[0]):
            for c in adaptive_bins(size[2], grid[1]):
                cells.append(v[t.start : t.stop, r.start : r.stop, c.start : c.stop].reshape(-1, v.shape[-1]).mean(0))
    return torch.stack(cells)
