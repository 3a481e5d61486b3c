"""A procedural temporal benchmark: real mp4s of moving coloured shapes with questions that need time.

The embedded default data of videolmm: small enough to train a tiny model on CPU in minutes,
built so that a reducer which averages time away loses on the temporal questions.
"""

from videolmm.data.synthetic.benchmark import (
    INSTRUCTIONS,
    SyntheticSample,
    SyntheticShards,
    TemporalBenchmark,
)
from videolmm.data.synthetic.questions import KINDS, Geometry, Kind, Question, blink_pattern
from videolmm.data.synthetic.scene import COLOURS, SHAPES, SceneObject, render, shape_mask
from videolmm.data.synthetic.vocabulary import synthetic_tokenizer, synthetic_vocabulary

__all__ = [
    "COLOURS",
    "INSTRUCTIONS",
    "KINDS",
    "SHAPES",
    "Geometry",
    "Kind",
    "Question",
    "SceneObject",
    "SyntheticSample",
    "SyntheticShards",
    "TemporalBenchmark",
    "blink_pattern",
    "render",
    "shape_mask",
    "synthetic_tokenizer",
    "synthetic_vocabulary",
]
