"""Benchmark readers: local copies of published benchmarks -> `videolmm.eval.BenchmarkSample` lists.

Each reader is a class called with no arguments (``reader()``) after construction; the
``benchmark`` config group picks one. Where each expects its files is in its module docstring and
in the evaluation how-to.
"""

from videolmm.eval.readers.activitynetqa import ActivityNetQA
from videolmm.eval.readers.egoschema import EgoSchema
from videolmm.eval.readers.files import find_video, read_table
from videolmm.eval.readers.longvideobench import LongVideoBench
from videolmm.eval.readers.mlvu import MLVU
from videolmm.eval.readers.nextqa import NExTQA
from videolmm.eval.readers.perceptiontest import PerceptionTest
from videolmm.eval.readers.synthetic import SyntheticBenchmark
from videolmm.eval.readers.videomme import VideoMME

__all__ = [
    "MLVU",
    "ActivityNetQA",
    "EgoSchema",
    "LongVideoBench",
    "NExTQA",
    "PerceptionTest",
    "SyntheticBenchmark",
    "VideoMME",
    "find_video",
    "read_table",
]
