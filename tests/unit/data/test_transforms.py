"""Frame transforms equal the Hugging Face image processors (built locally) and declare their preprocessing."""

import pytest
import torch
from transformers import CLIPImageProcessor, CLIPImageProcessorPil, SiglipImageProcessor, SiglipImageProcessorPil

from videolmm.data import CLIP_MEAN, CLIP_STD, ClipTransform, SiglipTransform, check_transform, transform_from
from videolmm.preprocessing import SIGLIP_MEAN, SIGLIP_STD, Preprocessing, Resize


def frames(height: int, width: int, count: int = 3) -> torch.Tensor:
    return torch.randint(
        0, 256, (count, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )


def siglip(backend=SiglipImageProcessor):
    """LLaVA-OneVision / LLaVA-Video's SigLIP processor: 384x384 bicubic, mean = std = 0.5."""
    return backend(size={"height": 384, "width": 384}, resample=3, image_mean=[0.5] * 3, image_std=[0.5] * 3)


def clip(backend=CLIPImageProcessor):
    """CLIP ViT-L/14-336: shortest edge 336, center crop 336 (class defaults for mean/std)."""
    return backend(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336})


@pytest.mark.parametrize("shape", [(90, 160), (384, 384), (500, 301)])
def test_siglip_equals_the_hf_processor(shape):
    video = frames(*shape)
    expected = siglip()(images=list(video), return_tensors="pt").pixel_values
    out = SiglipTransform(384)(video)
    assert out.shape == (3, 3, 384, 384)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    assert out.min() >= -1
    assert out.max() <= 1


@pytest.mark.parametrize("shape", [(90, 160), (161, 90), (336, 336), (301, 500)])
def test_clip_equals_the_hf_processor(shape):
    video = frames(*shape, count=2)
    expected = clip()(images=list(video), return_tensors="pt").pixel_values
    out = ClipTransform(336, 336)(video)
    assert out.shape == (2, 3, 336, 336)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)


def test_pil_processors_agree_within_two_grey_levels():
    video = frames(90, 160, count=2)
    images = [f.permute(1, 2, 0).numpy() for f in video]  # (C, H, W) -> (H, W, C)
    for ours, theirs, std in (
        (SiglipTransform(384), siglip(SiglipImageProcessorPil), 0.5),
        (ClipTransform(), clip(CLIPImageProcessorPil), 0.26130258),
    ):
        diff = (ours(video) - theirs(images=images, return_tensors="pt").pixel_values).abs()
        assert diff.max() <= 2.01 / 255 / std
        assert diff.mean() < 0.05 / 255 / std


def test_transforms_refuse_float_or_channels_last_frames():
    with pytest.raises(ValueError, match="uint8"):
        SiglipTransform(16)(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        ClipTransform(8, 8)(torch.zeros(2, 8, 8, 3, dtype=torch.uint8))


def test_each_transform_declares_the_preprocessing_it_is_built_from():
    squash = Preprocessing(image_size=384, resize=Resize.SQUASH, mean=SIGLIP_MEAN, std=SIGLIP_STD)
    crop = Preprocessing(image_size=336, resize=Resize.SHORTER_SIDE_CROP, mean=CLIP_MEAN, std=CLIP_STD)
    assert SiglipTransform(384).preprocessing == squash
    assert ClipTransform(336, 336).preprocessing == crop
    for preprocessing in (squash, crop):
        assert transform_from(preprocessing).preprocessing == preprocessing
    assert repr(transform_from(squash)) == "SiglipTransform(size=384)"
    assert repr(transform_from(crop)) == "ClipTransform(size=336, crop=336)"
    video = frames(90, 160, count=2)
    torch.testing.assert_close(transform_from(crop)(video), ClipTransform(336, 336)(video), rtol=0, atol=0)


def test_a_crop_smaller_than_the_resize_declares_no_preprocessing():
    with pytest.raises(ValueError, match=r"resizes the shorter side to 336 and crops 224"):
        ClipTransform(336, 224).preprocessing  # noqa: B018


def test_check_transform_names_every_differing_value_of_both_sides():
    check_transform(SiglipTransform(28), SiglipTransform(28).preprocessing)
    with pytest.raises(ValueError, match=r"ClipTransform\(size=24, crop=24\) preprocesses frames otherwise") as refused:
        check_transform(ClipTransform(24, 24), SiglipTransform(28).preprocessing)
    message = str(refused.value)
    assert "image_size: 24 != 28" in message
    assert "resize: shorter_side_crop != squash" in message
    assert f"mean: {CLIP_MEAN} != {SIGLIP_MEAN}" in message
    assert f"std: {CLIP_STD} != {SIGLIP_STD}" in message


def test_preprocessing_refuses_impossible_values():
    with pytest.raises(ValueError, match="image_size must be positive, got 0"):
        Preprocessing(image_size=0, resize=Resize.SQUASH, mean=SIGLIP_MEAN, std=SIGLIP_STD)
    with pytest.raises(ValueError, match=r"std must be positive, got \(0.5, 0.0, 0.5\)"):
        Preprocessing(image_size=8, resize=Resize.SQUASH, mean=SIGLIP_MEAN, std=(0.5, 0.0, 0.5))


def test_a_transform_without_declared_preprocessing_is_refused_by_name():
    def plain(frames):
        return frames

    expected = SiglipTransform(size=28).preprocessing
    with pytest.raises(TypeError, match="declares no `preprocessing`"):
        check_transform(plain, expected)


def test_mean_and_std_need_one_value_per_channel():
    with pytest.raises(ValueError, match=r"mean needs one value per RGB channel \(3\), got 1"):
        SiglipTransform(size=28, mean=(0.5,))
