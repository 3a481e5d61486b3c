"""Building a ``transformers`` vision tower (CLIP, SigLIP) from its shape, randomly initialised.

`ClipEncoder` and `SiglipEncoder` keep parts of the tower this returns; the HF config it was built
from is ``tower.config``. Nothing is downloaded.
"""

from typing import Any

from torch import nn
from transformers import PreTrainedModel


def hf_vision_tower(
    model_class: type[PreTrainedModel],
    *,
    hidden_size: int,
    intermediate_size: int,
    num_layers: int,
    num_heads: int,
    image_size: int,
    patch_size: int,
    layer_norm_eps: float,
    hidden_act: str,
    attn_implementation: str,
    **config_options: Any,
) -> PreTrainedModel:
    """A ``model_class`` tower of ``num_layers`` layers with HF's random initialisation.

    Args:
        model_class: The HF vision model (``CLIPVisionModel``, ``SiglipVisionModel``); its
            ``config_class`` holds the shape.
        hidden_size: ``D``.
        intermediate_size: MLP width.
        num_layers: Layers to build (`videolmm.encoders.kept_layers` of the full tower).
        num_heads: Attention heads.
        image_size: Frame side in pixels.
        patch_size: Patch side in pixels.
        layer_norm_eps: LayerNorm epsilon.
        hidden_act: MLP activation (a ``transformers`` activation name).
        attn_implementation: ``"sdpa"``, ``"eager"`` or ``"flash_attention_2"``.
        **config_options: Further fields of the config (SigLIP's ``vision_use_head``).
    """
    config_class = model_class.config_class
    if config_class is None:
        raise TypeError(f"{model_class.__name__} declares no config_class to build its tower from")
    shape: dict[str, Any] = {  # the fields of CLIPVisionConfig / SiglipVisionConfig, not of the base class
        "hidden_size": hidden_size,
        "intermediate_size": intermediate_size,
        "num_hidden_layers": num_layers,
        "num_attention_heads": num_heads,
        "image_size": image_size,
        "patch_size": patch_size,
        "layer_norm_eps": layer_norm_eps,
        "hidden_act": hidden_act,
        "attn_implementation": attn_implementation,
    }
    return model_class(config_class(**shape, **config_options))


def tower_layers(tower: nn.Module) -> nn.ModuleList:
    """The tower's transformer layers (``tower.encoder.layers``), or `TypeError`."""
    layers = tower.get_submodule("encoder.layers")
    if not isinstance(layers, nn.ModuleList):
        raise TypeError(f"{type(tower).__name__}.encoder.layers is a {type(layers).__name__}, not an nn.ModuleList")
    return layers
