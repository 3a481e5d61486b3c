"""Build TemporalStride from its YAML, as the training job does, and check it against the reducer contract.

Run from anywhere: ``python docs/how_to/scripts/check_reducer.py`` (my_reducers.py sits next to it).
"""

from pathlib import Path

import torch
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from videolmm.layout import SeparatorLayout, visual_token_count
from videolmm.reducers import SpatialPool, TokenReducer

CONF = Path(__file__).resolve().parent / "conf"  # holds reducer/temporal_stride.yaml

with initialize_config_module("videolmm.conf", version_base="1.3"):
    cfg = compose("train", overrides=["reducer=temporal_stride", f"hydra.searchpath=[file://{CONF}]"])
reducer = instantiate(cfg.reducer)
print(reducer)
assert isinstance(reducer, TokenReducer)

# The contract: forward's length is num_tokens and the sum of the segments; gradients reach the input.
grid, T = (7, 7), 8  # the tiny encoder's patch grid and the synthetic clips' frames
x = torch.randn(2, T, grid[0] * grid[1], 16, requires_grad=True)  # (B, T, N, D)
out = reducer(x, grid)  # (B, L, D)
segments = reducer.segments(T, grid)
assert out.shape == (2, reducer.num_tokens(T, grid), 16)
assert out.shape[1] == sum(s.rows * s.cols for s in segments)
out.sum().backward()
assert x.grad is not None
assert x.grad.abs().sum() > 0
print(f"x {tuple(x.shape)} -> {tuple(out.shape)}; frames kept: {[s.frames.start for s in segments]}")

# What it costs next to the built-in reducer it starts from, with a newline after every row.
layout = SeparatorLayout(position="grid")
print(f"{'frames':>6} {'grid':>6} {'avg_pool_2x2':>13} {'temporal_stride':>16}")
for frames, (h, w) in [(8, (7, 7)), (64, (27, 27))]:
    base = visual_token_count(SpatialPool(stride=2, mode="avg"), layout, frames, (h, w))
    ours = visual_token_count(reducer, layout, frames, (h, w))
    print(f"{frames:>6} {f'{h}x{w}':>6} {base:>13,} {ours:>16,}")
