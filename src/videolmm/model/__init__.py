"""The composition of a video LMM: `VideoLMM`, `build_model`, splice, separators, the visual token budget."""

from videolmm.model.budget import PAPER_M, PaperRepresentation, paper_representation, paper_tokens, visual_token_count
from videolmm.model.build import build_model
from videolmm.model.separators import Separators
from videolmm.model.splice import placeholder_mask, scatter_visual
from videolmm.model.videolmm import VideoLMM, VideoLMMOutput, Videos

__all__ = [
    "PAPER_M",
    "PaperRepresentation",
    "Separators",
    "VideoLMM",
    "VideoLMMOutput",
    "Videos",
    "build_model",
    "paper_representation",
    "paper_tokens",
    "placeholder_mask",
    "scatter_visual",
    "visual_token_count",
]
