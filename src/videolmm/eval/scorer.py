"""`BenchmarkScorer`: routes each reply to the metric of its sample's format and collects the results.

Multiple-choice samples go to `MultipleChoiceAccuracy`; open-ended samples go to
`ExactMatchAccuracy`, or to `JudgedAccuracy` when a judge is given. It is an ``nn.Module`` so that
the metrics move with the LightningModule that owns it (their states must be on the device for
cross-rank synchronisation).
"""

import warnings
from collections.abc import Sequence
from typing import Any

from torch import nn

from videolmm.eval.groups import DurationBuckets
from videolmm.eval.judge import Judge
from videolmm.eval.metrics import ExactMatchAccuracy, GroupedAccuracy, JudgedAccuracy, MultipleChoiceAccuracy
from videolmm.eval.results import EvalResults
from videolmm.eval.schema import BenchmarkSample


class BenchmarkScorer(nn.Module):
    """Score replies to benchmark samples of either format.

    Args:
        judge: Rates open-ended replies; ``None`` uses normalised exact match.
        buckets: Duration buckets for samples without a benchmark duration label.
    """

    def __init__(self, judge: Judge | None = None, buckets: DurationBuckets | None = None) -> None:
        super().__init__()
        buckets = buckets if buckets is not None else DurationBuckets()
        self.choice = MultipleChoiceAccuracy(buckets)
        self.open: GroupedAccuracy = ExactMatchAccuracy(buckets) if judge is None else JudgedAccuracy(judge, buckets)

    def metric(self, sample: BenchmarkSample) -> GroupedAccuracy:
        """The metric that scores ``sample``."""
        return self.choice if sample.format == "multiple_choice" else self.open

    def update(self, replies: Sequence[str], samples: Sequence[BenchmarkSample]) -> None:
        """Record every reply in the metric of its sample's format."""
        if len(replies) != len(samples):
            raise ValueError(f"got {len(replies)} replies for {len(samples)} samples")
        for metric in (self.choice, self.open):
            pairs = [(r, s) for r, s in zip(replies, samples, strict=True) if self.metric(s) is metric]
            if pairs:
                metric.update([r for r, _ in pairs], [s for _, s in pairs])

    def assess(self, reply: str, sample: BenchmarkSample) -> dict[str, float]:
        """The value row of one reply by column name (for per-sample prediction logs)."""
        metric = self.metric(sample)
        return dict(zip(metric.COLUMNS, metric.assess(reply, sample), strict=True))

    def results(self, meta: dict[str, Any] | None = None) -> EvalResults:
        """Merged rows of both metrics (synchronised across ranks when running distributed)."""
        with warnings.catch_warnings():  # a metric without samples (on every rank) is computed too: it is a collective
            warnings.filterwarnings("ignore", message=r".*compute.*before.*update.*")
            scores = [self.choice.compute(), self.open.compute()]
        return EvalResults.from_scores(*scores, meta=meta)

    def reset(self) -> None:
        """Forget every recorded reply."""
        self.choice.reset()
        self.open.reset()
