"""Frame transforms equal the Hugging Face image processors (built locally from their classes)."""

import pytest
import torch
from transformers import CLIPImageProcessor, CLIPImageProcessorPil, SiglipImageProcessor, SiglipImageProcessorPil

from videolmm.data import ClipTransform, SiglipTransform


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
