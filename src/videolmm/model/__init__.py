"""The composition of a video LMM: separators, the visual token budget (the model lands with issue 4)."""

from videolmm.model.budget import PAPER_M, PaperRepresentation, paper_representation, paper_tokens, visual_token_count
from videolmm.model.separators import Separators

__all__ = [
    "PAPER_M",
    "PaperRepresentation",
    "Separators",
    "paper_representation",
    "paper_tokens",
    "visual_token_count",
]
