"""The composition of a video LMM: `VideoLMM`, `build_model`, splice, the learned separator vectors.

The separator layout and the visual token budget are in `videolmm.layout` (no model needed to count
tokens); the paper's Table 5 formula is in `videolmm.paper_budget`. `build_model` (from a Hydra
config) is imported on first use, so that importing the components loads neither Hydra nor OmegaConf.
"""

from typing import TYPE_CHECKING, Any

from videolmm.model.separators import Separators
from videolmm.model.splice import placeholder_mask, scatter_visual
from videolmm.model.videolmm import VideoLMM, VideoLMMOutput, Videos

if TYPE_CHECKING:
    from videolmm.model.build import build_model

__all__ = [
    "Separators",
    "VideoLMM",
    "VideoLMMOutput",
    "Videos",
    "build_model",
    "placeholder_mask",
    "scatter_visual",
]


def __getattr__(name: str) -> Any:
    """Import `build_model` (and with it Hydra) when it is first asked for."""
    if name == "build_model":
        from videolmm.model.build import build_model

        return build_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
