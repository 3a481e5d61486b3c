"""HF ``LlavaOnevisionForConditionalGeneration`` / ``LlavaNextVideoForConditionalGeneration`` directories.

`from_hf_pretrained` reads ``config.json`` (through ``transformers``' config classes, local files
only, no remote code) and the safetensors weights, builds the equivalent composition and loads
it strictly:

* LLaVA-OneVision: SigLIP (or CLIP) tower at ``vision_feature_layer``, projector on every
  patch, ``SpatialPool(2, "bilinear")``, one newline at the end (``SeparatorLayout("end")``).
* LLaVA-NeXT-Video: the tower, ``SpatialPool(stride, "avg" | "max")`` **before** the projector,
  no separators (``SeparatorLayout("none")``; the image-only ``image_newline`` is dropped).

`save_hf_pretrained` writes such a composition back as a directory HF loads. The tower is
written with only the layers we hold and ``vision_feature_layer=-1`` (the same features). HF's
tower class always has a post-layernorm, which the LLaVA path never reads: it is written with
LayerNorm's initial values (weight 1, bias 0). LLaVA-NeXT-Video's image-only ``image_newline``
is not written (HF initialises it; videos never use it).
"""

import copy
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    CLIPVisionConfig,
    LlavaNextVideoConfig,
    LlavaOnevisionConfig,
    PretrainedConfig,
    SiglipVisionConfig,
)

from videolmm.checkpoint.keymap import KeyMap
from videolmm.checkpoint.load import export_mapped, load_mapped
from videolmm.checkpoint.towers import tower_rules
from videolmm.checkpoint.weights import read_weights, write_weights
from videolmm.encoders import ClipEncoder, SiglipEncoder
from videolmm.layout import SeparatorLayout
from videolmm.llm import CausalLM
from videolmm.model.separators import Separators
from videolmm.model.videolmm import VideoLMM
from videolmm.projectors import MLPProjector
from videolmm.reducers import SpatialPool

HF_ALIASES: tuple[tuple[str, str], ...] = (
    ("model.language_model.", "language_model.model."),
    ("lm_head.", "language_model.lm_head."),
    ("model.vision_tower.", "vision_tower."),
    ("model.multi_modal_projector.", "multi_modal_projector."),
    ("model.image_newline", "image_newline"),
)
"""The in-memory spellings of ``transformers`` 5 (``model.language_model.*``), read as the file spellings."""

_POOL_MODES = {"average": "avg", "max": "max"}


def hf_keymap(model: VideoLMM) -> KeyMap:
    """The key map between ``model`` and a HF LLaVA directory (canonical names as HF writes them)."""
    rules, tower_aliases, dropped = tower_rules(model.encoder, "vision_tower.", ("vision_tower.vision_model.",))
    rules += (
        ("multi_modal_projector.", "projector."),
        ("language_model.model.", "llm.model.model."),
        ("language_model.lm_head.", "llm.model.lm_head."),
        ("image_newline", "separators.newline"),
    )
    if model.separators.layout.position == "none":
        dropped += ("image_newline$",)  # LLaVA-NeXT-Video keeps it for images only
    return KeyMap(rules=rules, aliases=HF_ALIASES + tower_aliases, dropped=dropped)


def _encoder(vision: PretrainedConfig, layer: int | list[int], strategy: str, attn: str) -> SiglipEncoder | ClipEncoder:
    if not isinstance(layer, int):
        raise ValueError(f"vision_feature_layer={layer!r}: only a single layer is supported")
    if vision.num_channels != 3:
        raise ValueError(f"vision towers with {vision.num_channels} channels are not supported (expected 3)")
    shape = {
        "hidden_size": vision.hidden_size,
        "intermediate_size": vision.intermediate_size,
        "num_layers": vision.num_hidden_layers,
        "num_heads": vision.num_attention_heads,
        "image_size": vision.image_size,
        "patch_size": vision.patch_size,
        "layer_norm_eps": vision.layer_norm_eps,
        "hidden_act": vision.hidden_act,
        "select_layer": layer,
        "attn_implementation": attn,
    }
    if isinstance(vision, SiglipVisionConfig):
        if strategy != "full":
            raise ValueError(f"SigLIP has no CLS token; vision_feature_select_strategy={strategy!r} is not supported")
        return SiglipEncoder(**shape)
    if isinstance(vision, CLIPVisionConfig):
        return ClipEncoder(**shape, drop_cls=strategy == "default")
    raise ValueError(f"unsupported vision tower {type(vision).__name__}; expected SigLIP or CLIP")


def _parts(config: PretrainedConfig, attn: str) -> tuple[SiglipEncoder | ClipEncoder, MLPProjector, CausalLM]:
    """Tower, projector and LLM of either HF class."""
    if config.projector_hidden_act != "gelu":
        raise ValueError(f"projector_hidden_act={config.projector_hidden_act!r}: only 'gelu' (mlp2x_gelu) is supported")
    encoder = _encoder(config.vision_config, config.vision_feature_layer, config.vision_feature_select_strategy, attn)
    llm = CausalLM(config.text_config, attn_implementation=attn)
    projector = MLPProjector(encoder.embed_dim, llm.hidden_size, bias=config.multimodal_projector_bias)
    return encoder, projector, llm


def _build(config: PretrainedConfig, attn: str) -> VideoLMM:
    """The composition equivalent to a HF config."""
    encoder, projector, llm = _parts(config, attn)
    if isinstance(config, LlavaOnevisionConfig):
        reducer, position, after = SpatialPool(stride=2, mode="bilinear"), "end", True
    elif isinstance(config, LlavaNextVideoConfig):
        if config.spatial_pool_mode not in _POOL_MODES:
            raise ValueError(f"spatial_pool_mode={config.spatial_pool_mode!r} is not supported (average or max)")
        reducer = SpatialPool(stride=config.spatial_pool_stride, mode=_POOL_MODES[config.spatial_pool_mode])
        position, after = "none", False
    else:
        raise ValueError(f"unsupported HF config {type(config).__name__}: expected LlavaOnevision or LlavaNextVideo")
    separators = Separators(dim=llm.hidden_size, layout=SeparatorLayout(position=position))
    return VideoLMM(encoder, reducer, projector, separators, llm, config.video_token_id, after)


def from_hf_pretrained(
    path: str | Path, dtype: torch.dtype | None = None, attn_implementation: str = "sdpa"
) -> VideoLMM:
    """Load a local HF LlavaOnevision / LlavaNextVideo directory into the equivalent `VideoLMM`.

    Args:
        path: Directory with ``config.json`` and ``model.safetensors`` (or sharded safetensors).
        dtype: Cast the loaded model to this dtype (``None`` keeps float32).
        attn_implementation: Attention of the tower and the LLM.

    Raises:
        ValueError: Unsupported configuration, or missing / unexpected / mis-shaped weights (listed).
    """
    path = Path(path)
    config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    model = _build(config, attn_implementation)
    load_mapped(model, read_weights(path), hf_keymap(model), source=str(path))
    return model if dtype is None else model.to(dtype)


def hf_config(model: VideoLMM, image_token_id: int | None = None) -> PretrainedConfig:
    """The HF config of a composition, or `ValueError` when no HF class computes it.

    Only shapes and component types are read, so a model built on the meta device will do.
    """
    reducer, layout, projector = model.reducer, model.separators.layout, model.projector
    pooled = isinstance(reducer, SpatialPool) and not layout.slowfast_marker
    mlp = isinstance(projector, MLPProjector) and projector.linear_1.out_features == projector.out_dim
    onevision = pooled and model.reduce_after_projector and (reducer.stride, reducer.mode) == (2, "bilinear")
    onevision = onevision and layout.position == "end"
    next_video = pooled and not model.reduce_after_projector and reducer.mode in ("avg", "max")
    next_video = next_video and layout.position == "none"
    if not mlp or not (onevision or next_video) or not isinstance(model.encoder, SiglipEncoder | ClipEncoder):
        raise ValueError(
            "no HF class computes this composition: HF LlavaOnevision needs SpatialPool(2, 'bilinear') after an "
            "MLPProjector and separators 'end'; LlavaNextVideo needs SpatialPool(avg|max) before it and "
            f"separators 'none'; both need a SiglipEncoder or ClipEncoder. Got {model.encoder.__class__.__name__}, "
            f"{reducer!r}, {type(projector).__name__}, separators {layout.position!r}, "
            f"reduce_after_projector={model.reduce_after_projector}"
        )
    drop_cls = isinstance(model.encoder, ClipEncoder) and model.encoder.drop_cls
    common: dict[str, Any] = {
        # copies: the HF composite config resets the attention setting of the configs it is given
        "vision_config": copy.deepcopy(model.encoder.config),
        "text_config": copy.deepcopy(model.llm.config),
        "video_token_id": model.video_token_id,
        "vision_feature_layer": -1,
        "vision_feature_select_strategy": "default" if drop_cls else "full",
        "projector_hidden_act": "gelu",
        "multimodal_projector_bias": projector.linear_1.bias is not None,
        "tie_word_embeddings": model.llm.tied,
    }
    if image_token_id is not None:
        common["image_token_id"] = image_token_id
    if onevision:
        return LlavaOnevisionConfig(**common, architectures=["LlavaOnevisionForConditionalGeneration"])
    mode = {v: k for k, v in _POOL_MODES.items()}[reducer.mode]
    return LlavaNextVideoConfig(
        **common,
        spatial_pool_mode=mode,
        spatial_pool_stride=reducer.stride,
        architectures=["LlavaNextVideoForConditionalGeneration"],
    )


def save_hf_pretrained(
    model: VideoLMM, path: str | Path, image_token_id: int | None = None, max_shard_bytes: int = 5 * 2**30
) -> None:
    """Write ``model`` as a HF LlavaOnevision / LlavaNextVideo directory (config.json + safetensors).

    Args:
        model: A composition one of the two HF classes computes (see the module docstring).
        path: Output directory (created).
        image_token_id: The HF config's image token id (``None``: the HF class default).
        max_shard_bytes: Shard the weights above this size.

    Raises:
        ValueError: No HF class computes this composition.
    """
    config = hf_config(model, image_token_id)
    state = export_mapped(model, hf_keymap(model))
    width, dtype = model.encoder.embed_dim, next(model.encoder.parameters()).dtype
    state["vision_tower.post_layernorm.weight"] = torch.ones(width, dtype=dtype)  # never read on the LLaVA path
    state["vision_tower.post_layernorm.bias"] = torch.zeros(width, dtype=dtype)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(path)
    write_weights(path, state, max_shard_bytes=max_shard_bytes)
