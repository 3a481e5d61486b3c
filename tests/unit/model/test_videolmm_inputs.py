"""Bad input to VideoLMM fails before the encoder runs, with a ValueError that names the numbers."""

import pytest
import torch

from videolmm.reducers import LitaSlowFast

from .test_videolmm import VIDEO_ID, prompt, tiny_model, video


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def test_too_few_placeholders_name_both_counts(model):
    ids = prompt(model, 3)[None]  # 49 placeholders
    with pytest.raises(ValueError, match="sample 0 has 49 placeholder ids \\(id 63\\) but its video gives 65 visual"):
        model(ids, None, [video(4)])


def test_too_many_placeholders_name_both_counts(model):
    ids = torch.cat([prompt(model, 2), torch.tensor([VIDEO_ID])])[None]
    with pytest.raises(ValueError, match=r"has 34 placeholder ids .* gives 33 visual tokens"):
        model(ids, None, [video(2)])


def test_placeholders_without_a_video_are_rejected(model):
    ids = torch.stack([prompt(model, 1, seed=1), prompt(model, 1, seed=2)])
    with pytest.raises(ValueError, match=r"sample 1 has 17 placeholder ids .* no video"):
        model(ids, None, [video(1), None])


def test_frames_of_the_wrong_size_name_both_sizes(model):
    ids = prompt(model, 2)[None]
    with pytest.raises(ValueError, match=r"expects frames of 3x28x28 .* got 3x32x32"):
        model(ids, None, [torch.randn(2, 3, 32, 32)])


def test_fewer_frames_than_the_reducer_needs():
    m = tiny_model(reducer=LitaSlowFast(num_slow_frames=4, stride=2), position="none")
    ids = torch.randint(0, 60, (1, 8))
    with pytest.raises(ValueError, match="needs at least 4 frames, got T=2"):
        m(ids, None, [video(2)])


@pytest.mark.parametrize(
    ("videos", "message"),
    [
        (torch.randn(3, 2, 3, 28, 28), "B=1 \\(the batch of input_ids\\), got \\(3, 2, 3, 28, 28\\)"),
        ([video(2), video(2)], "got 2 videos \\(or None\\) for 1 samples"),
        ([torch.randn(3, 28, 28)], "video of sample 0 must be \\(T, C, H, W\\), got shape \\(3, 28, 28\\)"),
    ],
)
def test_videos_must_match_the_batch(model, videos, message):
    with pytest.raises(ValueError, match=message):
        model(prompt(model, 2)[None], None, videos)
