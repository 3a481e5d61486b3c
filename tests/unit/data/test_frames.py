"""Frame samplers reproduce their reference rules, including for videos shorter than requested."""

import numpy as np
import pytest

from videolmm.data import (
    BadSampleError,
    FpsFrames,
    FrameSampler,
    PllavaFrames,
    SegmentMidpointFrames,
    UniformFrames,
    time_instruction,
)


def test_uniform_is_truncated_linspace_with_endpoints():
    sel = UniformFrames(8)(100, 25.0)
    assert sel.indices == (0, 14, 28, 42, 56, 70, 84, 99)
    assert sel.times == pytest.approx([i / 25.0 for i in sel.indices])


def test_uniform_repeats_frames_of_a_short_video():
    assert UniformFrames(8)(5, 10.0).indices == (0, 0, 1, 1, 2, 2, 3, 4)


def test_fps_takes_one_frame_per_second_with_the_reference_times():
    sel = FpsFrames(fps=1.0, max_frames=64)(300, 30.0)
    assert sel.indices == tuple(range(0, 300, 30))
    assert sel.times == tuple(float(i) for i in range(10))  # index / step, as LLaVA-NeXT writes it


def test_fps_caps_long_videos_and_force_sample_always_resamples():
    capped = FpsFrames(fps=1.0, max_frames=4)(300, 30.0)
    assert capped.indices == (0, 99, 199, 299)
    assert capped.times == pytest.approx([0.0, 3.3, 199 / 30, 299 / 30])
    short = FpsFrames(fps=1.0, max_frames=4, force_sample=True)(60, 30.0)  # 2 candidates, still 4 frames
    assert short.indices == (0, 19, 39, 59)
    assert FpsFrames(fps=1.0, max_frames=4)(60, 30.0).indices == (0, 30)


def test_segment_midpoints_match_slowfast_llava():
    assert SegmentMidpointFrames(4)(100, 25.0).indices == (12, 37, 62, 86)
    assert SegmentMidpointFrames(6)(3, 25.0).indices == (0, 1, 1, 1, 1, 1)  # 3 midpoints, last one repeated


def test_pllava_middle_in_evaluation():
    assert PllavaFrames(4)(100, 25.0).indices == (12, 37, 62, 87)
    assert PllavaFrames(4)(2, 25.0).indices == (0, 1, 1, 1)


def test_pllava_random_in_training_stays_in_each_segment_but_off_its_last_frame():
    rng = np.random.default_rng(0)
    segments = [(0, 24), (25, 49), (50, 74), (75, 99)]
    draws = [PllavaFrames(4)(100, 25.0, rng=rng, train=True).indices for _ in range(200)]
    for i, (a, b) in enumerate(segments):
        seen = {d[i] for d in draws}
        assert min(seen) >= a
        assert max(seen) <= b - 1
        assert len(seen) > 10
    again = PllavaFrames(4)(100, 25.0, rng=np.random.default_rng(0), train=True)
    assert again.indices == draws[0]


def test_pllava_falls_back_to_sorted_distinct_frames_when_segments_are_too_short():
    sel = PllavaFrames(4)(5, 25.0, rng=np.random.default_rng(3), train=True)
    assert list(sel.indices) == sorted(set(sel.indices))
    assert len(sel.indices) == 4


def test_pllava_training_needs_an_rng():
    with pytest.raises(ValueError, match="rng"):
        PllavaFrames(4)(100, 25.0, train=True)


@pytest.mark.parametrize("sampler", [UniformFrames(4), FpsFrames(), SegmentMidpointFrames(4), PllavaFrames(4)])
def test_every_sampler_fits_the_contract_and_rejects_an_empty_video(sampler):
    assert isinstance(sampler, FrameSampler)
    with pytest.raises(BadSampleError) as error:
        sampler(0, 25.0)
    assert error.value.reason == "too_few_frames"


def test_time_instruction_is_llava_videos_text():
    text = time_instruction(5.28, UniformFrames(3)(132, 25.0))
    assert text == (
        "The video lasts for 5.28 seconds, and 3 frames are uniformly sampled from it. These frames are located "
        "at 0.00s,2.60s,5.24s.Please answer the following questions related to this video."
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: UniformFrames(0), "num_frames"),
        (lambda: FpsFrames(fps=0), "fps"),
        (lambda: FpsFrames(max_frames=0, force_sample=True), "max_frames"),
    ],
)
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()
