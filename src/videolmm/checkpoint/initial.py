"""Where a training run's weights start: the ``init`` config group's callables.

Each takes the freshly built `VideoLMM` (before the stage freezes parts and before sharding) and
fills it in place, through the one loader (`videolmm.checkpoint.load_mapped`) with its strict key,
shape and coverage checks. A resumed run then overwrites them with its own checkpoint.
"""

from pathlib import Path

from videolmm.model.videolmm import VideoLMM

from .hf_llava import hf_keymap
from .load import load_mapped
from .weights import read_weights

__all__ = ["keep_random_init", "load_hf_llava"]


def keep_random_init(model: VideoLMM) -> None:
    """Leave the model as built from its config (random initialization): ``init=random``."""
    del model


def load_hf_llava(model: VideoLMM, path: str | Path) -> None:
    """Fill ``model`` from a local HF LlavaOnevision / LlavaNextVideo directory's safetensors.

    The composition comes from the config, not from the directory's ``config.json``: the weights
    must cover it key for key and shape for shape, or the load fails and lists the differences.

    Raises:
        ValueError: Missing, unexpected or mis-shaped weights (all listed).
    """
    load_mapped(model, read_weights(path), hf_keymap(model), source=str(path))
