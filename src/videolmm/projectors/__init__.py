"""Projectors: per-token maps from the encoder width ``D`` to the LLM width ``E``."""

from videolmm.projectors.linear import LinearProjector
from videolmm.projectors.mlp import MLPProjector

__all__ = ["LinearProjector", "MLPProjector"]
