"""Original LLaVA-NeXT / LLaVA-Video checkpoints (``LlavaQwenForCausalLM`` and friends).

Their state dict is the LLM's (``model.embed_tokens``, ``model.layers.*``, ``model.norm``,
``lm_head``) plus the multimodal parts under ``model.``:

=====================================================  ===============================
theirs                                                 ours
=====================================================  ===============================
``model.vision_tower.vision_tower.vision_model.*``     ``encoder.*`` (HF tower names)
``model.mm_projector.0.*`` / ``model.mm_projector.2.*``  ``projector.linear_1.*`` / ``linear_2.*``
``model.mm_projector.*`` (``linear`` projector)        ``projector.linear.*``
``model.image_newline``                                ``separators.newline``
``model.faster_token`` (SlowFast)                      ``separators.marker``
``model.*`` (the rest)                                 ``llm.model.model.*``
``lm_head.*``                                          ``llm.model.lm_head.*``
=====================================================  ===============================

The model is built first (from Hydra config, e.g. SigLIP + bilinear + grid newlines +
Qwen2-7B for LLaVA-Video-7B) and `load_llava_next` fills it; it never builds anything.
"""

from pathlib import Path

from videolmm.checkpoint.keymap import KeyMap
from videolmm.checkpoint.load import export_mapped, load_mapped
from videolmm.checkpoint.towers import tower_rules
from videolmm.checkpoint.weights import read_weights, write_weights
from videolmm.model.videolmm import VideoLMM
from videolmm.projectors import LinearProjector, MLPProjector

TOWER_PREFIX = "model.vision_tower.vision_tower.vision_model."
"""Where LLaVA-NeXT's ``SigLipVisionTower`` / ``CLIPVisionTower`` keep the HF vision model."""


def llava_next_keymap(model: VideoLMM) -> KeyMap:
    """The key map between ``model`` and an original LLaVA-NeXT / LLaVA-Video state dict."""
    rules, aliases, dropped = tower_rules(model.encoder, TOWER_PREFIX)
    projector: tuple[tuple[str, str], ...]
    if isinstance(model.projector, MLPProjector):
        projector = (("model.mm_projector.0.", "projector.linear_1."), ("model.mm_projector.2.", "projector.linear_2."))
    elif isinstance(model.projector, LinearProjector):
        projector = (("model.mm_projector.", "projector.linear."),)
    else:
        raise ValueError(f"{type(model.projector).__name__} has no LLaVA-NeXT name (mlp2x_gelu or linear)")
    rules += (
        *projector,
        ("model.image_newline", "separators.newline"),
        ("model.faster_token", "separators.marker"),
        ("model.", "llm.model.model."),
        ("lm_head.", "llm.model.lm_head."),
    )
    return KeyMap(rules=rules, aliases=aliases, dropped=dropped)


def load_llava_next(model: VideoLMM, path: str | Path) -> None:
    """Fill a built `VideoLMM` from an original LLaVA-NeXT / LLaVA-Video checkpoint.

    Args:
        model: The composition the checkpoint was trained as.
        path: A checkpoint directory (sharded or single safetensors, or ``.bin`` read with
            ``weights_only=True``) or one weight file.

    Raises:
        ValueError: Missing, unexpected or mis-shaped weights (all listed).
    """
    load_mapped(model, read_weights(path), llava_next_keymap(model), source=str(path))


def save_llava_next(model: VideoLMM, path: str | Path) -> None:
    """Write ``model``'s weights with LLaVA-NeXT names (``model.safetensors``; no config)."""
    write_weights(path, export_mapped(model, llava_next_keymap(model)))
