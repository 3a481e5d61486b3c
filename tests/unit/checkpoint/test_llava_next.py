"""Original LLaVA-NeXT / LLaVA-Video checkpoints: strict loading with every bad key listed."""

import pytest
import torch

from videolmm.checkpoint import llava_next_keymap, load_llava_next, read_weights, save_llava_next, write_weights

from .tiny import llava_video_slowfast, next_video_like, run


def test_saved_checkpoint_loads_into_a_fresh_model_with_equal_outputs(tmp_path):
    torch.manual_seed(1)
    source = llava_video_slowfast()
    save_llava_next(source, tmp_path)
    assert "model.faster_token" in read_weights(tmp_path)
    target = llava_video_slowfast()
    assert not torch.equal(run(target), run(source))
    load_llava_next(target, tmp_path)
    torch.testing.assert_close(run(target), run(source), atol=0, rtol=0)


def test_parts_the_composition_never_reads_are_skipped(tmp_path):
    source = next_video_like()  # CLIP: 3 stored layers, layer -2 -> the last layer is not built
    state = {llava_next_keymap(source).to_theirs(k): v for k, v in source.state_dict().items() if "lm_head" not in k}
    tower = "model.vision_tower.vision_tower.vision_model."
    # as the original CLIPVisionTower stores it: every layer and the post-layernorm
    state[f"{tower}encoder.layers.2.mlp.fc1.weight"] = torch.randn(64, 32)
    state[f"{tower}post_layernorm.weight"] = torch.ones(32)
    write_weights(tmp_path, state)
    target = next_video_like()
    load_llava_next(target, tmp_path)
    torch.testing.assert_close(run(target), run(source), atol=0, rtol=0)


def test_missing_unexpected_and_misshaped_keys_are_all_listed(tmp_path):
    model = llava_video_slowfast()
    state = {llava_next_keymap(model).to_theirs(k): v for k, v in model.state_dict().items()}
    del state["model.image_newline"], state["model.layers.1.mlp.up_proj.weight"]
    state["model.vision_resampler.weight"] = torch.zeros(1)
    state["model.mm_projector.0.bias"] = torch.zeros(7)
    write_weights(tmp_path, state)
    with pytest.raises(ValueError, match="cannot load") as err:
        load_llava_next(llava_video_slowfast(), tmp_path)
    message = str(err.value)
    assert "2 missing keys: llm.model.model.layers.1.mlp.up_proj.weight, separators.newline" in message
    assert "1 unexpected keys: model.vision_resampler.weight" in message
    assert "1 shape mismatches: projector.linear_1.bias: checkpoint (7,) vs model (48,)" in message


def test_a_newline_the_composition_lacks_is_unexpected(tmp_path):
    state = {llava_next_keymap(next_video_like()).to_theirs(k): v for k, v in next_video_like().state_dict().items()}
    state["model.image_newline"] = torch.zeros(48)
    write_weights(tmp_path, {k: v for k, v in state.items() if k != "lm_head.weight"})
    with pytest.raises(ValueError, match=r"1 unexpected keys: model.image_newline \(as separators.newline\)"):
        load_llava_next(next_video_like(), tmp_path)


def test_tied_head_is_loaded_once_and_must_agree(tmp_path):
    model = next_video_like()  # Llama with tied embeddings
    state = {llava_next_keymap(model).to_theirs(k): v for k, v in model.state_dict().items()}
    assert "lm_head.weight" in state  # state_dict() lists the alias...
    save_llava_next(model, tmp_path / "saved")
    assert "lm_head.weight" not in read_weights(tmp_path / "saved")  # ...the file holds it once
    state["lm_head.weight"] = state["lm_head.weight"] + 1
    write_weights(tmp_path / "bad", {k: v.clone() for k, v in state.items()})
    with pytest.raises(
        ValueError, match=r"llm\.model\.lm_head\.weight is tied to llm\.model\.model\.embed_tokens\.weight"
    ):
        load_llava_next(next_video_like(), tmp_path / "bad")
