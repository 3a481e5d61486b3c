"""Every reducer against the plainly written references in `reference.py`, float64, odd grids."""

import pytest
import torch

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

from . import reference as ref

GRIDS = [(27, 27), (7, 5), (6, 8)]


def patches(T: int, grid: tuple[int, int], B: int = 2, D: int = 3) -> torch.Tensor:
    return torch.randn(B, T, grid[0] * grid[1], D, dtype=torch.float64)


def per_video(x: torch.Tensor, fn) -> torch.Tensor:
    return torch.stack([fn(video) for video in x])


def test_identity_keeps_every_patch_in_frame_order():
    x = patches(3, (4, 5))
    torch.testing.assert_close(Identity()(x, (4, 5)), x.reshape(2, 60, 3), rtol=0, atol=0)


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("mode", ["avg", "max", "bilinear"])
@pytest.mark.parametrize("stride", [2, 3])
def test_spatial_pool_matches_reference(grid, mode, stride):
    x = patches(3, grid)
    expected = per_video(x, lambda v: torch.cat([ref.pool(f, grid, stride, mode) for f in v]))
    torch.testing.assert_close(SpatialPool(stride=stride, mode=mode)(x, grid), expected)


def test_avg_pool_drops_last_row_and_column_of_27_grid():
    x = torch.zeros(1, 1, 729, 1, dtype=torch.float64)
    x.view(27, 27)[26, :] = 1e6  # the last row and column never enter a 2x2 block
    x.view(27, 27)[:, 26] = 1e6
    out = SpatialPool(stride=2, mode="avg")(x, (27, 27))
    assert out.shape == (1, 169, 1)
    assert out.abs().max() == 0


def test_bilinear_rounds_odd_grid_up_and_equals_avg_on_even_grid_halving():
    assert SpatialPool(stride=2, mode="bilinear").num_tokens(1, (27, 27)) == 196
    x = patches(2, (8, 6))
    torch.testing.assert_close(SpatialPool(2, "bilinear")(x, (8, 6)), SpatialPool(2, "avg")(x, (8, 6)))


@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize(("T", "s"), [(7, 3), (8, 3), (5, 2), (1, 3), (4, 1)])
@pytest.mark.parametrize("mode", ["avg", "bilinear"])
def test_llava_video_slowfast_interleaves_slow_and_fast_frames_in_time_order(grid, T, s, mode):
    x = patches(T, grid)

    def reference(video):
        return torch.cat([ref.pool(f, grid, 2 if t % s == 0 else 4, mode) for t, f in enumerate(video)])

    torch.testing.assert_close(LlavaVideoSlowFast(slow_every=s, stride=2, mode=mode)(x, grid), per_video(x, reference))


def test_llava_video_slowfast_with_s1_equals_spatial_pool():
    x = patches(5, (9, 9))
    torch.testing.assert_close(LlavaVideoSlowFast(1, 2, "avg")(x, (9, 9)), SpatialPool(2, "avg")(x, (9, 9)))


def test_llava_video_slowfast_counts_ceil_t_over_s_slow_frames():
    segments = LlavaVideoSlowFast(slow_every=3).segments(64, (27, 27))
    slow = [s.frames.start for s in segments if s.pathway == "slow"]
    assert slow == list(range(0, 64, 3))
    assert len(slow) == 22
    assert {(s.rows, s.cols) for s in segments if s.pathway == "fast"} == {(6, 6)}


@pytest.mark.parametrize(
    ("T", "n", "expected"),
    [(100, 4, (0, 33, 66, 99)), (10, 4, (0, 3, 6, 9)), (6, 3, (0, 2, 5)), (7, 4, (0, 2, 4, 6)), (4, 4, (0, 1, 2, 3))],
)
def test_lita_slow_frames_round_half_to_even(T, n, expected):
    assert lita_slow_frames(T, n) == expected


@pytest.mark.parametrize("grid", [(16, 16), (7, 5)])
@pytest.mark.parametrize("fast_stride", [None, 2])
def test_lita_fast_block_then_slow_frames(grid, fast_stride):
    T, n = 7, 3
    x = patches(T, grid)

    def reference(video):
        if fast_stride is None:
            fast = torch.stack([f.mean(0) for f in video])
        else:
            fast = torch.cat([ref.block_pool(f, grid, fast_stride, "avg") for f in video])
        slow = torch.cat([ref.block_pool(video[t], grid, 2, "avg") for t in lita_slow_frames(T, n)])
        return torch.cat([fast, slow])

    reducer = LitaSlowFast(num_slow_frames=n, stride=2, fast_stride=fast_stride)
    torch.testing.assert_close(reducer(x, grid), per_video(x, reference))


@pytest.mark.parametrize(
    ("T", "n", "expected"),
    [(50, 10, tuple(range(0, 50, 5))), (7, 3, (0, 2, 4)), (42, 21, tuple(range(0, 42, 2))), (5, 5, (0, 1, 2, 3, 4))],
)
def test_slowfast_llava_slow_frames_truncate_linspace(T, n, expected):
    assert slowfast_llava_slow_frames(T, n) == expected


@pytest.mark.parametrize("grid", [(24, 24), (7, 5), (6, 6)])
@pytest.mark.parametrize("slow_pool", ["1d_max", "1d_avg", "2d_max", "2d_avg"])
def test_slowfast_llava_slow_block_then_fast_block(grid, slow_pool):
    T, n, fast_size = 7, 3, (4, 3)
    x = patches(T, grid)
    op, how = slow_pool.split("_")

    def slow_frame(f):
        if op == "2d":
            return ref.block_pool(f, grid, 2, how)
        pairs = f[: 2 * (f.shape[0] // 2)].reshape(-1, 2, f.shape[-1])
        return pairs.amax(1) if how == "max" else pairs.mean(1)

    def reference(video):
        slow = torch.cat([slow_frame(video[t]) for t in slowfast_llava_slow_frames(T, n)])
        fast = torch.cat([ref.adaptive_avg2d(f, grid, fast_size) for f in video])
        return torch.cat([slow, fast])

    reducer = SlowFastLlava(num_slow_frames=n, slow_pool=slow_pool, fast_size=fast_size)
    torch.testing.assert_close(reducer(x, grid), per_video(x, reference))


def test_slowfast_llava_1d_pool_on_odd_grid_drops_last_token_and_is_one_row():
    reducer = SlowFastLlava(num_slow_frames=1, slow_pool="1d_max", fast_size=(1, 1))
    seg = reducer.segments(1, (27, 27))[0]
    assert (seg.rows, seg.cols) == (1, 364)
    assert reducer.segments(1, (24, 24))[0].rows == 24


@pytest.mark.parametrize("grid", [(27, 27), (6, 5)])
@pytest.mark.parametrize(("T", "size"), [(16, (16, 13, 13)), (9, (4, 3, 2)), (6, (6, 6, 5))])
def test_pllava_adaptive_3d_pool_matches_reference(grid, T, size):
    x = patches(T, grid)
    torch.testing.assert_close(Pllava3DPool(size)(x, grid), per_video(x, lambda v: ref.adaptive_avg3d(v, grid, size)))


def test_pllava_repeats_short_videos_as_pllava_does():
    # T=5 < 16: each frame repeated 16 // 5 + 1 = 4 times, cut to 16 -> frames 0,0,0,0,1,...,3,3,3,3; frame 4 is unused
    x = patches(5, (2, 2))
    repeated = x[:, [t for t in range(4) for _ in range(4)]]
    expected = per_video(repeated, lambda v: ref.adaptive_avg3d(v, (2, 2), (16, 1, 1)))
    reducer = Pllava3DPool((16, 1, 1))
    torch.testing.assert_close(reducer(x, (2, 2)), expected)
    assert [s.frames for s in reducer.segments(5, (2, 2))] == [range(t, t + 1) for t in range(4) for _ in range(4)]


def test_pllava_equals_avg_pool_when_grid_divides_and_time_is_kept():
    x = patches(16, (24, 24))
    torch.testing.assert_close(Pllava3DPool((16, 12, 12))(x, (24, 24)), SpatialPool(2, "avg")(x, (24, 24)))
