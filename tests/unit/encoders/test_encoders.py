"""Encoders: shapes, equality with the HF towers they wrap, timm twin, chunking, input checks."""

import pytest
import torch
from transformers import CLIPVisionConfig, CLIPVisionModel, SiglipVisionConfig, SiglipVisionModel

from videolmm.checkpoint import siglip_to_timm, timm_to_siglip
from videolmm.encoders import ClipEncoder, SiglipEncoder, TimmSiglipEncoder, VisionEncoder, kept_layers, patch_grid

TINY = {"hidden_size": 32, "intermediate_size": 64, "num_heads": 4, "image_size": 28, "patch_size": 4}


def tiny_siglip(**kw) -> SiglipEncoder:
    return SiglipEncoder(**{**TINY, "num_layers": 2, **kw}).eval()


def hf_siglip(num_layers: int) -> SiglipVisionModel:
    config = SiglipVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=num_layers, num_attention_heads=4,
        image_size=28, patch_size=4, vision_use_head=False,
    )  # fmt: skip
    return SiglipVisionModel(config).eval()


def tower_state(hf: torch.nn.Module, drop: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """A HF tower's state dict in our encoder's names, without the ``drop`` prefixes."""
    renames = (("encoder.layers.", "layers."), ("pre_layrnorm.", "pre_layernorm."))
    state = {}
    for key, value in hf.state_dict().items():
        if key.startswith(drop):
            continue
        for old, new in renames:
            key = new + key[len(old) :] if key.startswith(old) else key
        state[key] = value
    return state


def test_grid_floors_like_the_patch_convolution():
    assert patch_grid(384, 14) == (27, 27)  # SigLIP so400m: 729 patches
    assert patch_grid(336, 14) == (24, 24)  # CLIP ViT-L/14-336: 576
    assert patch_grid(224, 14) == (16, 16)  # CLIP ViT-L/14 at 224 (LITA): 256
    with pytest.raises(ValueError, match="smaller than patch_size 14"):
        patch_grid(10, 14)


def test_kept_layers_counts_hidden_states_from_the_embeddings():
    assert kept_layers(24, -2) == 23  # LLaVA's CLIP: the last layer is never run
    assert kept_layers(26, -1) == 26
    assert kept_layers(3, 1) == 1
    for bad in (0, -4, 4):
        with pytest.raises(ValueError, match=f"select_layer={bad}"):
            kept_layers(3, bad)


def test_siglip_maps_frames_to_patches_of_its_grid():
    enc = tiny_siglip()
    assert isinstance(enc, VisionEncoder)
    out = enc(torch.randn(2, 3, 3, 28, 28))
    assert out.shape == (2, 3, 7 * 7, 32)
    assert enc.grid(enc.image_size) == (7, 7)
    assert enc.block_classes
    assert all(isinstance(layer, enc.block_classes) for layer in enc.layers)


def test_siglip_equals_hf_last_hidden_state_before_post_layernorm():
    hf = hf_siglip(num_layers=2)
    enc = tiny_siglip()
    enc.load_state_dict(tower_state(hf, drop=("post_layernorm",)))
    pixels = torch.randn(4, 3, 28, 28)
    with torch.no_grad():
        want = hf(pixels, output_hidden_states=True).hidden_states[-1]
        got = enc(pixels.view(2, 2, 3, 28, 28))
    torch.testing.assert_close(got.flatten(0, 1), want, atol=1e-6, rtol=0)


def test_siglip_select_layer_stops_early_like_hf_hidden_states():
    hf = hf_siglip(num_layers=3)
    enc = tiny_siglip(num_layers=3, select_layer=-2)
    assert len(enc.layers) == 2
    enc.load_state_dict(tower_state(hf, drop=("post_layernorm", "encoder.layers.2.")))
    pixels = torch.randn(2, 3, 28, 28)
    with torch.no_grad():
        want = hf(pixels, output_hidden_states=True).hidden_states[-2]
        got = enc(pixels.unsqueeze(0))[0]
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_clip_layer_minus_two_without_cls_equals_hf():
    config = CLIPVisionConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, image_size=24, patch_size=4,
    )  # fmt: skip
    hf = CLIPVisionModel(config).eval()
    enc = ClipEncoder(**{**TINY, "image_size": 24}, num_layers=3).eval()
    assert len(enc.layers) == 2
    enc.load_state_dict(tower_state(hf, drop=("post_layernorm", "encoder.layers.2.")))
    pixels = torch.randn(3, 3, 24, 24)
    with torch.no_grad():
        want = hf(pixels, output_hidden_states=True).hidden_states[-2][:, 1:]
        got = enc(pixels.unsqueeze(0))[0]
    assert got.shape == (3, 36, 32)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_clip_keeps_cls_when_asked():
    enc = ClipEncoder(**{**TINY, "image_size": 24}, num_layers=2, select_layer=-1, drop_cls=False)
    assert enc(torch.randn(1, 2, 3, 24, 24)).shape == (1, 2, 36 + 1, 32)


def test_timm_siglip_equals_hf_siglip_with_converted_weights():
    hf_based = tiny_siglip()
    timm_based = TimmSiglipEncoder(**TINY, num_layers=2).eval()
    converted = siglip_to_timm(hf_based.state_dict())
    assert set(converted) == set(timm_based.state_dict())
    timm_based.load_state_dict(converted)
    frames = torch.randn(2, 2, 3, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(timm_based(frames), hf_based(frames), atol=1e-5, rtol=0)
    back = timm_to_siglip(timm_based.state_dict())
    assert back.keys() == hf_based.state_dict().keys()
    assert all(torch.equal(back[k], v) for k, v in hf_based.state_dict().items())


def test_timm_siglip_sizes_its_mlp_exactly():
    enc = TimmSiglipEncoder(num_layers=1, image_size=28)  # so400m width: 1152 -> 4304 -> 1152
    assert enc.vit.blocks[0].mlp.fc1.out_features == 4304
    assert enc.vit.blocks[0].mlp.act.__class__.__name__ == "GELUTanh"


@pytest.mark.parametrize("encoder_cls", [SiglipEncoder, TimmSiglipEncoder])
def test_chunked_encoding_equals_encoding_all_frames_at_once(encoder_cls):
    enc = encoder_cls(**TINY, num_layers=2).eval()
    frames = torch.randn(2, 3, 3, 28, 28)
    with torch.no_grad():
        whole = enc(frames)
        enc.chunk_size = 4  # 6 images in chunks of 4 and 2
        chunked = enc(frames)
    torch.testing.assert_close(chunked, whole, atol=1e-6, rtol=0)


def test_frames_are_encoded_independently():
    enc = tiny_siglip()
    frames = torch.randn(2, 3, 3, 28, 28)
    with torch.no_grad():
        together = enc(frames)
        alone = enc(frames[1:, 2:])
    torch.testing.assert_close(together[1:, 2:], alone, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 2, 3, 32, 32), "expects frames of 3x28x28 \\(C x H x W\\), got 3x32x32"),
        ((1, 2, 1, 28, 28), "got 1x28x28"),
        ((2, 3, 28, 28), "got rank 4"),
    ],
)
def test_frames_of_the_wrong_shape_raise_with_the_sizes(shape, message):
    with pytest.raises(ValueError, match=message):
        tiny_siglip()(torch.randn(shape))


def test_gradients_reach_every_encoder_parameter():
    for enc in (tiny_siglip(), TimmSiglipEncoder(**TINY, num_layers=2), ClipEncoder(**{**TINY, "image_size": 24})):
        side = enc.image_size
        enc(torch.randn(1, 2, 3, side, side)).square().mean().backward()
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in enc.parameters())


def test_encoder_output_follows_the_parameter_dtype():
    enc = tiny_siglip().to(torch.float64)
    assert enc(torch.randn(1, 1, 3, 28, 28)).dtype == torch.float64
