"""The groups a scored sample counts in: overall, per benchmark, per question type, duration and format.

Every sample counts in five groups (`sample_groups`): the overall group, its benchmark, its
benchmark's question type, its duration bucket and its answer format. The duration bucket is the
benchmark's own label when it publishes one (Video-MME ``short`` / ``medium`` / ``long``,
LongVideoBench ``8-15s`` ...), otherwise `DurationBuckets` of the duration in seconds.
"""

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from videolmm.eval.schema import BenchmarkSample

FACETS: tuple[str, ...] = ("all", "question_type", "duration", "format")
"""The facets a benchmark's results are broken down by, in table order."""

_SEPARATOR = "\x1f"


class GroupKey(NamedTuple):
    """One group of results: ``(benchmark, facet, value)``.

    ``benchmark`` is ``"all"`` for every sample of the run; ``facet`` is one of `FACETS`; ``value``
    is the question type, duration bucket or format (``"all"`` for the facet ``"all"``). A named
    tuple, because metric outputs go through ``apply_to_collection``, which rejects frozen dataclasses.
    """

    benchmark: str
    facet: str
    value: str

    def encode(self) -> str:
        """The key as one string (what the metrics store and synchronise)."""
        return _SEPARATOR.join((self.benchmark, self.facet, self.value))

    @classmethod
    def decode(cls, text: str) -> "GroupKey":
        """Inverse of `encode`."""
        benchmark, facet, value = text.split(_SEPARATOR)
        return cls(benchmark, facet, value)

    @property
    def label(self) -> str:
        """``"all"`` for a facet-wide group, else ``"question_type: Counting Problem"``."""
        return "all" if self.facet == "all" else f"{self.facet}: {self.value}"

    def sort_key(self) -> tuple:
        """Overall first, then by benchmark, facet order and value."""
        return (self.benchmark != "all", self.benchmark, FACETS.index(self.facet), self.value)


OVERALL = GroupKey("all", "all", "all")
"""Every sample of the run, whatever its benchmark."""


class DurationBuckets:
    """Duration buckets from increasing edges in seconds: ``(120, 900)`` gives ``0-120s``, ``120-900s``, ``>=900s``.

    Args:
        edges: Increasing bucket boundaries in seconds (a duration equal to an edge goes up).
    """

    def __init__(self, edges: Sequence[float] = (120.0, 900.0)) -> None:
        edges = tuple(float(e) for e in edges)
        if any(b <= a for a, b in itertools.pairwise(edges)) or any(e <= 0 for e in edges):
            raise ValueError(f"duration edges must be positive and increasing, got {edges}")
        self.edges = edges

    def __repr__(self) -> str:
        return f"DurationBuckets(edges={self.edges})"

    def __call__(self, seconds: float | None) -> str:
        """The bucket label of a duration; ``"unknown"`` when the duration is not known."""
        if seconds is None:
            return "unknown"
        lower = 0.0
        for edge in self.edges:
            if seconds < edge:
                return f"{lower:g}-{edge:g}s"
            lower = edge
        return f">={lower:g}s"


def sample_groups(sample: BenchmarkSample, buckets: DurationBuckets) -> list[GroupKey]:
    """The five groups ``sample`` counts in (see the module docstring)."""
    duration = sample.duration_group if sample.duration_group is not None else buckets(sample.duration)
    name = sample.benchmark
    return [
        OVERALL,
        GroupKey(name, "all", "all"),
        GroupKey(name, "question_type", sample.question_type),
        GroupKey(name, "duration", duration),
        GroupKey(name, "format", sample.format),
    ]
