"""``videolmm-tokens``: print the visual token budget of a reducer + separators configuration.

Examples::

    videolmm-tokens reducer=avg_pool_2x2 num_frames=32
    videolmm-tokens reducer=llava_video_slowfast separators=grid_slowfast num_frames=64
    videolmm-tokens reducer=lita num_frames=100 grid=16
"""

from collections.abc import Sequence
from itertools import pairwise

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from videolmm.layout import SeparatorLayout, visual_token_count
from videolmm.paper_budget import PAPER_M, paper_representation
from videolmm.reducers import Segment, TokenReducer
from videolmm.reducers.base import check_grid
from videolmm.shapes import Grid

__all__ = ["format_budget", "grid_and_frames", "main", "parse_grid"]


def parse_grid(grid: int | Sequence[int]) -> Grid:
    """``27`` or ``[27, 27]`` -> ``(27, 27)``."""
    return check_grid((grid, grid) if isinstance(grid, int) else tuple(grid))


def _frames(frames: list[int]) -> str:
    """Compact frame list: ``0-2``, ``0,3,..,9``, ``1,2,4,..,62``."""
    if len(frames) == 1:
        return str(frames[0])
    steps = {b - a for a, b in pairwise(frames)}
    if steps == {1}:
        return f"{frames[0]}-{frames[-1]}"
    if len(steps) == 1 and len(frames) > 3:
        return f"{frames[0]},{frames[1]},..,{frames[-1]}"
    if len(frames) > 4:
        return f"{frames[0]},{frames[1]},{frames[2]},..,{frames[-1]}"
    return ",".join(map(str, frames))


def format_budget(
    reducer: TokenReducer,
    layout: SeparatorLayout,
    num_frames: int,
    grid: Grid,
    paper_m: int = PAPER_M,
    verbose: bool = False,
) -> str:
    """The report ``videolmm-tokens`` prints: total, per-segment breakdown, and the paper's formula."""
    segments = reducer.segments(num_frames, grid)
    reduced = reducer.num_tokens(num_frames, grid)
    total = visual_token_count(reducer, layout, num_frames, grid)
    h, w = grid
    lines = [
        f"reducer     {reducer}",
        f"separators  {layout}",
        f"input       T={num_frames} frames, grid {h}x{w} (N={h * w})",
        "",
        f"{'pathway':<8} {'frames':<14} {'grid':>7} {'tokens':>7} {'+sep':>5} {'segments':>9} {'total':>8}",
    ]
    groups: dict[tuple, list[Segment]] = {}
    for i, seg in enumerate(segments):
        key = (i,) if verbose else (seg.pathway, seg.rows, seg.cols, layout.after(seg))
        groups.setdefault(key, []).append(seg)
    for group in groups.values():
        seg, sep, n = group[0], layout.after(group[0]), len(group)
        frames = sorted({t for g in group for t in g.frames})
        lines.append(
            f"{seg.pathway:<8} {_frames(frames):<14} {f'{seg.rows}x{seg.cols}':>7} {seg.num_tokens:>7} {sep:>5} "
            f"{n:>9} {n * (seg.num_tokens + sep):>8}"
        )
    if layout.position == "end":
        lines.append(f"{'end':<8} {'':<14} {'':>7} {0:>7} {1:>5} {'':>9} {1:>8}")
    lines += ["", f"visual tokens: {total:,} (reducer {reduced:,} + separators {total - reduced:,})"]
    paper = paper_representation(reducer, num_frames)
    if paper is None:
        lines.append("paper formula: n/a")
    else:
        form = "all frames fast" if paper.all_fast else "the other frames fast" if paper.slow_every > 1 else "all slow"
        lines.append(
            f"paper formula: {paper.tokens(paper_m):,} (V=(T={paper.num_frames}, M={paper_m}, s={paper.slow_every}, "
            f"p={paper.stride}), {form})"
        )
    return "\n".join(lines)


def grid_and_frames(cfg: DictConfig) -> tuple[Grid, int, list[str]]:
    """The patch grid and frame count of the config, and where they came from.

    With an ``encoder`` option the grid is the encoder's, read from a meta-device build (nothing is
    allocated); with a ``frames`` option T is what the sampler takes from a ``long_video_seconds``
    clip at 30 fps. Otherwise ``grid`` and ``num_frames`` are used as given.
    """
    notes = []
    grid, num_frames = parse_grid(cfg.grid), int(cfg.num_frames)
    if "encoder" in cfg:  # an optional group: present only when chosen
        import torch  # a meta-device build reads the geometry without allocating weights

        with torch.device("meta"):
            encoder = instantiate(cfg.encoder)
        grid = encoder.grid(encoder.image_size)
        notes.append(f"grid {grid[0]}x{grid[1]} from {type(encoder).__name__} at {encoder.image_size} px")
    if "frames" in cfg:
        sampler = instantiate(cfg.frames)
        num_frames = len(sampler(int(cfg.long_video_seconds * 30), 30.0))
        notes.append(f"T={num_frames} from {sampler!r} on a {cfg.long_video_seconds} s clip")
    return grid, num_frames, notes


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="tokens")
def main(cfg: DictConfig) -> None:
    """Compose the configuration, build the reducer and the separator layout, print the budget."""
    reducer = instantiate(cfg.reducer)
    layout = instantiate(cfg.separators)
    grid, num_frames, notes = grid_and_frames(cfg)
    for note in notes:
        print(note)
    print(format_budget(reducer, layout, num_frames, grid, cfg.paper_m, cfg.verbose))


if __name__ == "__main__":
    main()
