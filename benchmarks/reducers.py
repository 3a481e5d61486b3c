"""Time every reducer in ``conf/reducer/`` against a per-frame Python loop doing the same reduction.

Usage::

    bash scripts/run.sh bench reducers [--frames 64] [--dim 3584] [--repeats 5]

Input: B=1, T=64, N=729 (27x27 SigLIP grid), D=3584 (Qwen2-7B width, i.e. after the projector),
bfloat16 where the device supports it. The loop versions call the same torch ops one frame at a
time (as LLaVA-NeXT and SlowFast-LLaVA do); their output is checked equal to the batched one
before timing, so the ratio compares like with like.
"""

import argparse
import statistics
import time
from functools import singledispatch
from pathlib import Path

import torch
import torch.nn.functional as F
from einops import rearrange
from hydra.utils import instantiate
from omegaconf import OmegaConf

import videolmm.conf
from videolmm.reducers import (
    Identity,
    LitaSlowFast,
    LlavaVideoSlowFast,
    Pllava3DPool,
    SlowFastLlava,
    SpatialPool,
    lita_slow_frames,
    slowfast_llava_slow_frames,
)


def _frame_grid(frame: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """(N, D) -> (1, D, h, w) as a channels-last view, the layout the batched reducers pool in."""
    return rearrange(frame, "(h w) d -> 1 d h w", h=grid[0], w=grid[1])


def _frame_pool(frame: torch.Tensor, grid: tuple[int, int], stride: int, mode: str) -> torch.Tensor:
    """One frame (N, D) -> (h'*w', D) with the same op as the library."""
    y = _frame_grid(frame, grid)  # (N, D) -> (1, D, h, w)
    if mode == "avg":
        y = F.avg_pool2d(y, stride)
    elif mode == "max":
        y = F.max_pool2d(y, stride)
    else:
        y = F.interpolate(y, size=(-(-grid[0] // stride), -(-grid[1] // stride)), mode="bilinear", align_corners=False)
    return y.flatten(2)[0].T  # (1, D, h', w') -> (h'*w', D)


@singledispatch
def per_frame_loop(reducer: object, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The same reduction as ``reducer(x, grid)``, one frame at a time (B=1)."""
    raise NotImplementedError(type(reducer).__name__)


@per_frame_loop.register
def _(reducer: Identity, x, grid):
    return torch.cat([f for f in x[0]])[None]


@per_frame_loop.register
def _(reducer: SpatialPool, x, grid):
    return torch.cat([_frame_pool(f, grid, reducer.stride, reducer.mode) for f in x[0]])[None]


@per_frame_loop.register
def _(reducer: LlavaVideoSlowFast, x, grid):
    s, p = reducer.slow_every, reducer.stride
    return torch.cat([_frame_pool(f, grid, p if t % s == 0 else 2 * p, reducer.mode) for t, f in enumerate(x[0])])[None]


@per_frame_loop.register
def _(reducer: LitaSlowFast, x, grid):
    video = x[0]
    if reducer.fast_stride is None:
        fast = [f.mean(0, keepdim=True) for f in video]
    else:
        fast = [_frame_pool(f, grid, reducer.fast_stride, "avg") for f in video]
    slow_frames = lita_slow_frames(len(video), reducer.num_slow_frames)
    slow = [_frame_pool(video[t], grid, reducer.stride, "avg") for t in slow_frames]
    return torch.cat(fast + slow)[None]


@per_frame_loop.register
def _(reducer: SlowFastLlava, x, grid):
    video = x[0]
    op, how = reducer.slow_pool.split("_")
    slow = []
    for t in slowfast_llava_slow_frames(len(video), reducer.num_slow_frames):
        f = video[t]
        if op == "1d":
            pairs = f[: 2 * (f.shape[0] // 2)].T[None]  # (N, D) -> (1, D, N)
            pooled = F.max_pool1d(pairs, 2) if how == "max" else F.avg_pool1d(pairs, 2)
            slow.append(pooled[0].T)
        else:
            slow.append(_frame_pool(f, grid, 2, how))
    fast = [F.adaptive_avg_pool2d(_frame_grid(f, grid), reducer.fast_size).flatten(2)[0].T for f in video]
    return torch.cat(slow + fast)[None]


@per_frame_loop.register
def _(reducer: Pllava3DPool, x, grid):
    video = x[0]
    t_out, rows, cols = reducer.output_size
    if len(video) < t_out:
        video = video.repeat_interleave(t_out // len(video) + 1, dim=0)[:t_out]
    T = len(video)
    out = []
    for i in range(t_out):  # temporal adaptive bin, then a spatial adaptive pool of the bin's mean
        mean = video[(i * T) // t_out : -(-((i + 1) * T) // t_out)].mean(0)
        out.append(F.adaptive_avg_pool2d(_frame_grid(mean, grid), (rows, cols)).flatten(2)[0].T)
    return torch.cat(out)[None]


def _time(fn, repeats: int, device: torch.device) -> float:
    """Median wall time in ms after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print one row per reducer config."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--grid", type=int, default=27)
    parser.add_argument("--dim", type=int, default=3584)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16
    grid = (args.grid, args.grid)
    x = torch.randn(1, args.frames, args.grid**2, args.dim, device=device, dtype=dtype)
    print(
        f"device={device} ({torch.get_num_threads()} threads) dtype={dtype} B=1 T={args.frames} "
        f"N={args.grid**2} D={args.dim}, median of {args.repeats}"
    )
    print(f"{'reducer':<22} {'L':>7} {'batched ms':>11} {'loop ms':>9} {'loop/batched':>13}")
    configs = sorted((Path(videolmm.conf.__file__).parent / "reducer").glob("*.yaml"))
    with torch.inference_mode():
        for path in configs:
            reducer = instantiate(OmegaConf.load(path))
            batched = reducer(x, grid)
            torch.testing.assert_close(per_frame_loop(reducer, x, grid), batched, rtol=2e-2, atol=2e-2)
            t_batched = _time(lambda r=reducer: r(x, grid), args.repeats, device)
            t_loop = _time(lambda r=reducer: per_frame_loop(r, x, grid), args.repeats, device)
            ratio = t_loop / t_batched
            print(f"{path.stem:<22} {batched.shape[1]:>7} {t_batched:>11.1f} {t_loop:>9.1f} {ratio:>12.2f}x")


if __name__ == "__main__":
    main()
