"""Constructor arguments are checked when the reducer is built, with the offending value in the message."""

import pytest

from videolmm.reducers import LitaSlowFast, LlavaVideoSlowFast, Pllava3DPool, SlowFastLlava, SlowPool, SpatialPool


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: SpatialPool(mode="average"), "unknown mode 'average'; expected one of avg, max, bilinear"),
        (lambda: LlavaVideoSlowFast(mode="conv"), "unknown mode 'conv'"),
        (lambda: SlowFastLlava(slow_pool="3d_max"), "unknown mode '3d_max'; expected one of 1d_max, 1d_avg"),
        (lambda: SpatialPool(stride=0), "stride must be a positive int, got 0"),
        (lambda: SpatialPool(stride=1.5), "stride must be a positive int, got 1.5"),
        (lambda: LlavaVideoSlowFast(slow_every=0), "slow_every must be a positive int, got 0"),
        (lambda: LitaSlowFast(fast_stride=0), "positive int, got 0"),
        (lambda: SlowFastLlava(fast_size=(4,)), r"grid must be a pair \(h, w\)"),
        (lambda: Pllava3DPool(output_size=(16, 12)), "output_size must be three positive ints"),
    ],
)
def test_bad_arguments_raise_value_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_a_grid_smaller_than_the_stride_is_rejected_with_the_numbers():
    with pytest.raises(ValueError, match="stride 4 needs a grid of at least 4x4, got 3x3"):
        LlavaVideoSlowFast(slow_every=2, stride=2).num_tokens(4, (3, 3))


def test_bilinear_accepts_any_grid_since_it_rounds_up():
    assert SpatialPool(stride=4, mode="bilinear").num_tokens(2, (3, 3)) == 2


def test_slow_pool_is_typed_once_at_construction():
    by_name, by_member = SlowFastLlava(slow_pool="2d_avg"), SlowFastLlava(slow_pool=SlowPool.AVG_2D)
    assert by_name.slow_pool is SlowPool.AVG_2D is by_member.slow_pool
    assert (SlowPool.AVG_2D.two_dimensional, SlowPool.AVG_2D.mode) == (True, "avg")
    assert (SlowPool.MAX_1D.two_dimensional, SlowPool.MAX_1D.mode) == (False, "max")
    assert "slow_pool='2d_avg'" in repr(by_name)


@pytest.mark.parametrize("build", [lambda: LitaSlowFast(num_slow_frames=0), lambda: SlowFastLlava(num_slow_frames=0)])
def test_a_frame_count_is_refused_as_a_frame_count_not_a_stride(build):
    with pytest.raises(ValueError, match="num_slow_frames must be a positive int, got 0"):
        build()
