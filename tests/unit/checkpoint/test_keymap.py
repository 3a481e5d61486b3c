"""Key maps: longest prefix wins both ways; every key of a composition round-trips; golden names."""

import pytest

from videolmm.checkpoint import KeyMap, hf_keymap, llava_next_keymap

from .tiny import llava_video_slowfast, next_video_like, onevision_like


def test_longest_prefix_wins_in_both_directions():
    km = KeyMap(rules=(("model.", "llm.model."), ("model.mm_projector.0.", "projector.linear_1.")))
    assert km.to_ours("model.layers.0.w") == "llm.model.layers.0.w"
    assert km.to_ours("model.mm_projector.0.bias") == "projector.linear_1.bias"
    assert km.to_theirs("projector.linear_1.bias") == "model.mm_projector.0.bias"
    assert km.to_theirs("llm.model.norm.weight") == "model.norm.weight"
    assert km.to_ours("unknown.x") is None
    assert km.to_theirs("unknown.x") is None


def test_aliases_rewrite_in_order_and_dropped_patterns_match_canonical_keys():
    km = KeyMap(
        rules=(("tower.", "encoder."),),
        aliases=(("model.tower.", "tower."), ("tower.inner.", "tower.")),
        dropped=(r"tower\.post\.",),
    )
    assert km.canonical("model.tower.inner.a") == "tower.a"
    assert km.to_ours("model.tower.inner.a") == "encoder.a"
    assert km.is_dropped(km.canonical("model.tower.post.w"))
    assert not km.is_dropped("tower.a")


@pytest.mark.parametrize(
    ("keymap", "make"),
    [
        (hf_keymap, onevision_like),
        (hf_keymap, next_video_like),
        (llava_next_keymap, onevision_like),
        (llava_next_keymap, next_video_like),
        (llava_next_keymap, llava_video_slowfast),
    ],
)
def test_every_key_round_trips(keymap, make):
    model = make()
    km = keymap(model)
    for key in model.state_dict():
        theirs = km.to_theirs(key)
        assert theirs is not None, key
        assert km.to_ours(theirs) == key
        assert not km.is_dropped(theirs)


def test_hf_names_are_the_ones_transformers_writes():
    km = hf_keymap(onevision_like())
    assert (
        km.to_theirs("encoder.layers.1.self_attn.q_proj.weight")
        == "vision_tower.encoder.layers.1.self_attn.q_proj.weight"
    )
    assert km.to_theirs("projector.linear_2.bias") == "multi_modal_projector.linear_2.bias"
    assert km.to_theirs("separators.newline") == "image_newline"
    assert km.to_theirs("llm.model.model.norm.weight") == "language_model.model.norm.weight"
    assert km.to_theirs("llm.model.lm_head.weight") == "language_model.lm_head.weight"
    # the spellings of older files and of transformers 5 in memory read the same
    assert (
        km.to_ours("vision_tower.vision_model.embeddings.patch_embedding.weight")
        == "encoder.embeddings.patch_embedding.weight"
    )
    assert km.to_ours("model.vision_tower.encoder.layers.0.mlp.fc1.bias") == "encoder.layers.0.mlp.fc1.bias"
    assert km.to_ours("model.language_model.embed_tokens.weight") == "llm.model.model.embed_tokens.weight"
    assert km.to_ours("lm_head.weight") == "llm.model.lm_head.weight"
    assert km.to_ours("model.image_newline") == "separators.newline"
    assert km.is_dropped("vision_tower.post_layernorm.weight")


def test_clip_pre_layernorm_keeps_hf_spelling_and_the_unused_last_layer_is_dropped():
    km = hf_keymap(next_video_like())  # 3 stored layers, layer -2 -> 2 kept
    assert km.to_theirs("encoder.pre_layernorm.weight") == "vision_tower.pre_layrnorm.weight"
    assert km.is_dropped("vision_tower.encoder.layers.2.mlp.fc1.weight")
    assert not km.is_dropped("vision_tower.encoder.layers.1.mlp.fc1.weight")
    assert km.is_dropped("image_newline")  # LLaVA-NeXT-Video: image path only


def test_llava_next_names():
    km = llava_next_keymap(llava_video_slowfast())
    tower = "model.vision_tower.vision_tower.vision_model."
    assert km.to_theirs("projector.linear_1.weight") == "model.mm_projector.0.weight"
    assert km.to_theirs("projector.linear_2.bias") == "model.mm_projector.2.bias"
    assert km.to_theirs("separators.newline") == "model.image_newline"
    assert km.to_theirs("separators.marker") == "model.faster_token"
    assert (
        km.to_theirs("encoder.embeddings.position_embedding.weight") == f"{tower}embeddings.position_embedding.weight"
    )
    assert km.to_theirs("llm.model.model.layers.0.self_attn.q_proj.bias") == "model.layers.0.self_attn.q_proj.bias"
    assert km.to_theirs("llm.model.lm_head.weight") == "lm_head.weight"
    assert llava_next_keymap(llava_video_slowfast(linear=True)).to_theirs("projector.linear.weight") == (
        "model.mm_projector.weight"
    )
