"""Exact parity with HF LLaVA-OneVision and LLaVA-NeXT-Video (tiny random models, float32, CPU).

Each HF model is saved to a temporary directory, loaded with `videolmm.checkpoint.from_hf_pretrained`, and
run on the same video + prompt: the logits agree to 1e-5 and the visual token count equals the
number of video features HF scatters into the prompt. `save_hf_pretrained` output loads back
into the HF class with equal logits. Configurations: reference_algorithms.md §5.3.
"""

import pytest
import torch
from transformers import (
    CLIPVisionConfig,
    LlamaConfig,
    LlavaNextVideoConfig,
    LlavaNextVideoForConditionalGeneration,
    LlavaOnevisionConfig,
    LlavaOnevisionForConditionalGeneration,
    Qwen2Config,
    SiglipVisionConfig,
)

from videolmm.checkpoint import from_hf_pretrained, save_hf_pretrained

VIDEO_ID = 199
TEXT = {"vocab_size": 200, "hidden_size": 48, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4}
TOWER = {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4}


def onevision(image_size: int = 28, patch_size: int = 4) -> LlavaOnevisionForConditionalGeneration:
    config = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(
            **TOWER, num_hidden_layers=2, image_size=image_size, patch_size=patch_size, vision_use_head=False
        ),
        text_config=Qwen2Config(**TEXT, num_key_value_heads=2),
        image_token_index=198,
        video_token_index=VIDEO_ID,
    )
    return LlavaOnevisionForConditionalGeneration(config).eval()


def next_video(
    image_size: int = 24, patch_size: int = 4, mode: str = "average"
) -> LlavaNextVideoForConditionalGeneration:
    config = LlavaNextVideoConfig(
        vision_config=CLIPVisionConfig(
            **TOWER, num_hidden_layers=3, image_size=image_size, patch_size=patch_size, projection_dim=16
        ),
        text_config=LlamaConfig(**TEXT, num_key_value_heads=4),
        image_token_index=198,
        video_token_index=VIDEO_ID,
        vision_feature_layer=-2,
        vision_feature_select_strategy="default",
        spatial_pool_mode=mode,
        spatial_pool_stride=2,
    )
    return LlavaNextVideoForConditionalGeneration(config).eval()


def batch(num_tokens: int, num_frames: int, side: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two samples: text, the placeholder run, text (the second left-padded by 2), and their videos."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 198, (2, 9 + num_tokens), generator=g)
    ids[:, 4 : 4 + num_tokens] = VIDEO_ID
    ids[1, :2] = 0
    mask = torch.ones_like(ids)
    mask[1, :2] = 0
    return ids, mask, torch.randn(2, num_frames, 3, side, side, generator=g)


def hf_video_tokens(hf, videos: torch.Tensor) -> int:
    """How many features HF scatters into the prompt for one video."""
    with torch.no_grad():
        return hf.model.get_video_features(videos[:1], return_dict=True).pooler_output.shape[1]


def hf_logits(hf, ids, mask, videos) -> torch.Tensor:
    with torch.no_grad():
        return hf(input_ids=ids, attention_mask=mask, pixel_values_videos=videos).logits


CASES = {
    "onevision": (onevision, 28, 3 * 4 * 4 + 1),  # 7x7 grid -> bilinear 4x4 per frame + 1 newline
    "next_video": (next_video, 24, 3 * 3 * 3),  # 6x6 grid + CLS -> avg 3x3 per frame
}


@pytest.mark.parametrize("name", CASES)
def test_logits_and_token_counts_equal_hf(name, tmp_path):
    make, side, tokens = CASES[name]
    hf = make()
    hf.save_pretrained(tmp_path, max_shard_size="200KB")  # sharded safetensors
    assert (tmp_path / "model.safetensors.index.json").exists()
    ours = from_hf_pretrained(tmp_path).eval()
    ids, mask, videos = batch(tokens, 3, side)
    assert ours.num_visual_tokens(3) == hf_video_tokens(hf, videos) == tokens
    with torch.no_grad():
        got = ours(ids, mask, videos).logits
    torch.testing.assert_close(got, hf_logits(hf, ids, mask, videos), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", CASES)
def test_saved_directory_loads_back_into_hf(name, tmp_path):
    make, side, tokens = CASES[name]
    hf = make()
    hf.save_pretrained(tmp_path / "hf")
    ours = from_hf_pretrained(tmp_path / "hf")
    save_hf_pretrained(ours, tmp_path / "ours")
    again = type(hf).from_pretrained(tmp_path / "ours").eval()
    ids, mask, videos = batch(tokens, 3, side)
    torch.testing.assert_close(hf_logits(again, ids, mask, videos), hf_logits(hf, ids, mask, videos), atol=1e-5, rtol=0)


def test_max_pooling_next_video_equals_hf(tmp_path):
    hf = next_video(mode="max")
    hf.save_pretrained(tmp_path)
    ours = from_hf_pretrained(tmp_path).eval()
    ids, mask, videos = batch(2 * 9, 2, 24)
    with torch.no_grad():
        torch.testing.assert_close(ours(ids, mask, videos).logits, hf_logits(hf, ids, mask, videos), atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    ("make", "side", "per_frame", "extra"),
    [
        pytest.param(lambda: onevision(image_size=54, patch_size=2), 54, 196, 1, id="onevision-27x27-as-siglip-384"),
        pytest.param(lambda: next_video(image_size=48, patch_size=2), 48, 144, 0, id="next_video-24x24-as-clip-336"),
    ],
)
def test_full_size_grids_give_hf_token_counts(make, side, per_frame, extra, tmp_path):
    hf = make()
    hf.save_pretrained(tmp_path)
    ours = from_hf_pretrained(tmp_path)
    for frames in (1, 2):
        videos = torch.randn(1, frames, 3, side, side)
        assert ours.num_visual_tokens(frames) == hf_video_tokens(hf, videos) == per_frame * frames + extra


def test_loss_equals_hf_loss(tmp_path):
    hf = onevision()
    hf.save_pretrained(tmp_path)
    ours = from_hf_pretrained(tmp_path).eval()
    ids, mask, videos = batch(49, 3, 28)
    labels = ids.masked_fill((ids == VIDEO_ID) | (mask == 0), -100)
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask, pixel_values_videos=videos, labels=labels).loss
        got = ours(ids, mask, videos, labels=labels, return_logits=False).loss
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
