"""Models for inference: built from config (random), from a HF LLaVA directory, or from our own checkpoint.

* ``checkpoint=None``: the model is built from config with random weights (say so to the user).
* A directory: a HF ``LlavaOnevision`` / ``LlavaNextVideo`` directory, through
  `videolmm.checkpoint.from_hf_pretrained` (safetensors, local files only). Its tokenizer is read
  from the directory when it has one (`checkpoint_tokenizer`).
* A file: a checkpoint written by videolmm's training (a Lightning ``.ckpt``, or a bare state
  dict), read with ``torch.load(weights_only=True)`` into the config-built model, strictly.

`with_representation` swaps a loaded model's reducer and separator position for an evaluation
setting's (LLaVA-Video is trained with bilinear pooling and evaluated with average pooling; the
learned newline vector is kept).
"""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from omegaconf import DictConfig

from videolmm.data.transforms import FrameTransform, transform_from
from videolmm.model.build import build_model
from videolmm.model.separators import Separators
from videolmm.model.videolmm import VideoLMM

if TYPE_CHECKING:
    from videolmm.encoders import VisionEncoder

_MODULE_PREFIX = "model."


def load_model(model_cfg: DictConfig, checkpoint: str | Path | None = None) -> tuple[VideoLMM, str]:
    """The model and a one-line description of where its weights came from (see the module docstring)."""
    if checkpoint is None:
        return build_model(model_cfg).eval(), "random weights (built from config, no checkpoint given)"
    path = Path(checkpoint)
    if path.is_dir():
        from videolmm.checkpoint.hf_llava import from_hf_pretrained

        return from_hf_pretrained(path).eval(), f"HF LLaVA directory {path}"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path} (a HF LLaVA directory or a videolmm .ckpt file)")
    model = build_model(model_cfg)
    load_state(model, path)
    return model.eval(), f"videolmm checkpoint {path}"


def load_state(model: VideoLMM, path: str | Path) -> None:
    """Load a videolmm training checkpoint (``state_dict`` of the LightningModule, keys ``model.*``) strictly."""
    data: Any = torch.load(path, map_location="cpu", weights_only=True)
    state = data["state_dict"] if isinstance(data, dict) and "state_dict" in data else data
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict or a checkpoint with 'state_dict', got {type(state).__name__}")
    prefixed = all(k.startswith(_MODULE_PREFIX) for k in state)
    state = {k[len(_MODULE_PREFIX) :] if prefixed else k: v for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(
            f"{path} does not fit the configured model: {len(result.missing_keys)} missing keys "
            f"{result.missing_keys[:5]}, {len(result.unexpected_keys)} unexpected keys {result.unexpected_keys[:5]}"
        )


def checkpoint_tokenizer(checkpoint: str | Path | None) -> Any | None:
    """The tokenizer saved in a HF checkpoint directory, or ``None`` when there is none."""
    if checkpoint is None or not Path(checkpoint).is_dir():
        return None
    folder = Path(checkpoint)
    if not any((folder / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json")):
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(folder, local_files_only=True, trust_remote_code=False)


def with_representation(model: VideoLMM, reducer: Any, position: str) -> VideoLMM:
    """Give ``model`` another reducer and separator position, keeping its learned vectors.

    Raises:
        ValueError: The new position needs a newline vector the model never learned.
    """
    old = model.separators
    separators = Separators(old.dim, replace(old.layout, position=position))
    for name in separators.layout.vectors:
        new, learned = getattr(separators, name), getattr(old, name)
        if learned is None:
            raise ValueError(f"separator position {position!r} needs a learned {name}; the model has none")
        with torch.no_grad():
            new.copy_(learned)
    parameter = next(model.parameters())
    model.reducer = reducer
    model.separators = separators.to(parameter.device, parameter.dtype)
    return model


def matched_transform(encoder: "VisionEncoder") -> FrameTransform:
    """The frame transform an encoder was trained with: the one its ``preprocessing`` declares."""
    return transform_from(encoder.preprocessing)
