"""HF LLaVA directories: what cannot be expressed is refused, and bad weights are listed."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import LlavaOnevisionForConditionalGeneration

from videolmm.checkpoint import from_hf_pretrained, save_hf_pretrained
from videolmm.layout import SeparatorLayout
from videolmm.model import Separators, VideoLMM

from .tiny import VIDEO_ID, llava_video_slowfast, onevision_like, run


def test_round_trip_through_our_own_files(tmp_path):
    source = onevision_like()
    save_hf_pretrained(source, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "llava_onevision"
    assert (config["video_token_index"], config["vision_feature_layer"]) == (VIDEO_ID, -1)
    loaded = from_hf_pretrained(tmp_path)
    torch.testing.assert_close(run(loaded), run(source), atol=0, rtol=0)


def test_dtype_and_attention_are_chosen_at_load(tmp_path):
    source = onevision_like()
    save_hf_pretrained(source, tmp_path)
    loaded = from_hf_pretrained(tmp_path, dtype=torch.float64, attn_implementation="eager")
    assert {p.dtype for p in loaded.parameters()} == {torch.float64}
    assert loaded.llm.config._attn_implementation == loaded.encoder.config._attn_implementation == "eager"
    torch.testing.assert_close(run(loaded).float(), run(source), atol=1e-5, rtol=0)


def test_tied_embeddings_round_trip_into_hf(tmp_path):
    source = onevision_like(tied=True)  # as Qwen2-0.5B (LLaVA-OneVision 0.5B)
    save_hf_pretrained(source, tmp_path)
    assert "language_model.lm_head.weight" not in load_file(tmp_path / "model.safetensors")
    hf = LlavaOnevisionForConditionalGeneration.from_pretrained(tmp_path).eval()
    assert hf.lm_head.weight is hf.model.language_model.embed_tokens.weight
    loaded = from_hf_pretrained(tmp_path)
    assert loaded.llm.tied
    torch.testing.assert_close(run(loaded), run(source), atol=0, rtol=0)


def test_compositions_without_an_hf_class_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"no HF class computes this composition.*separators 'grid'"):
        save_hf_pretrained(llava_video_slowfast(), tmp_path)
    m = onevision_like()
    grid = VideoLMM(m.encoder, m.reducer, m.projector, Separators(48, SeparatorLayout("grid")), m.llm, VIDEO_ID)
    with pytest.raises(ValueError, match="LlavaOnevision needs SpatialPool\\(2, 'bilinear'\\)"):
        save_hf_pretrained(grid, tmp_path)


def test_missing_and_unexpected_weights_are_listed(tmp_path):
    save_hf_pretrained(onevision_like(), tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    del state["multi_modal_projector.linear_1.bias"]
    state["vision_tower.encoder.layers.5.mlp.fc1.bias"] = torch.zeros(64)  # a layer the config does not have
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ValueError, match="cannot load") as err:
        from_hf_pretrained(tmp_path)
    assert "1 missing keys: projector.linear_1.bias" in str(err.value)
    assert "1 unexpected keys: vision_tower.encoder.layers.5.mlp.fc1.bias (as encoder.layers.5.mlp.fc1.bias)" in str(
        err.value
    )


def test_unsupported_hf_settings_are_refused(tmp_path):
    save_hf_pretrained(onevision_like(), tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    for key, value, message in [
        ("projector_hidden_act", "relu", "only 'gelu'"),
        ("vision_feature_layer", [-2, -1], "only a single layer"),
        ("vision_feature_select_strategy", "default", "SigLIP has no CLS token"),
    ]:
        (tmp_path / "config.json").write_text(json.dumps({**config, key: value}))
        with pytest.raises(ValueError, match=message):
            from_hf_pretrained(tmp_path)
