"""Evaluation results: merged per-group rows, written as JSON and as a Markdown table.

`EvalResults.from_scores` merges the group sums of the multiple-choice and open-ended metrics
(a group holding both kinds of question, e.g. a benchmark with both, gets one row whose accuracy
is over all its samples). Columns: ``n``, ``accuracy``, ``answered`` (share of multiple-choice
replies in which a letter was found) and ``score`` (mean judge score), the last two empty when
the group has no such samples.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from videolmm.eval.groups import GroupKey
from videolmm.eval.metrics import GroupScore


@dataclass(frozen=True)
class ResultRow:
    """One group's results.

    Attributes:
        benchmark: The benchmark (``"all"`` for the whole run).
        group: ``"all"`` or ``"{facet}: {value}"``.
        n: Samples.
        accuracy: Share answered correctly.
        answered: Share of multiple-choice replies with an option letter (``None``: no such sample).
        score: Mean judge score (``None``: no judged sample).
    """

    benchmark: str
    group: str
    n: int
    accuracy: float
    answered: float | None = None
    score: float | None = None


def _merge(parts: list[GroupScore]) -> tuple[int, dict[str, float], dict[str, int]]:
    """Total n, summed columns, and how many samples contributed to each column."""
    n = 0
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for part in parts:
        n += part.n
        for column, value in part.sums.items():
            sums[column] = sums.get(column, 0.0) + value
            counts[column] = counts.get(column, 0) + part.n
    return n, sums, counts


@dataclass
class EvalResults:
    """The rows of a run plus what describes it (model, setting, counts).

    Attributes:
        rows: One row per group, overall first.
        meta: Free-form description written with the results (model, checkpoint, setting, ...).
    """

    rows: list[ResultRow]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_scores(cls, *scores: Mapping[GroupKey, GroupScore], meta: dict[str, Any] | None = None) -> "EvalResults":
        """Merge the group sums of several metrics into rows (see the module docstring)."""
        grouped: dict[GroupKey, list[GroupScore]] = {}
        for score in scores:
            for key, value in score.items():
                grouped.setdefault(key, []).append(value)
        rows = []
        for key in sorted(grouped, key=GroupKey.sort_key):
            n, sums, counts = _merge(grouped[key])
            mean = {c: sums[c] / counts[c] for c in sums}
            extra = (mean.get("answered"), mean.get("score"))
            rows.append(ResultRow(key.benchmark, key.label, n, mean["correct"], *extra))
        return cls(rows, dict(meta or {}))

    def row(self, benchmark: str = "all", group: str = "all") -> ResultRow:
        """The row of one group; `KeyError` if the run has no such group."""
        for row in self.rows:
            if (row.benchmark, row.group) == (benchmark, group):
                return row
        raise KeyError(f"no results for benchmark {benchmark!r}, group {group!r}")

    def to_json(self) -> dict[str, Any]:
        """``{"meta": ..., "rows": [...]}``."""
        return {"meta": self.meta, "rows": [asdict(row) for row in self.rows]}

    def markdown(self) -> str:
        """A Markdown document: the run's description, then one table of every row."""
        lines = ["# Evaluation results", ""]
        lines += [f"- {name}: {value}" for name, value in self.meta.items()]
        lines += ["", "| benchmark | group | n | accuracy | answered | score |", "|---|---|---:|---:|---:|---:|"]
        for r in self.rows:
            answered = "" if r.answered is None else f"{r.answered:.3f}"
            score = "" if r.score is None else f"{r.score:.3f}"
            lines.append(f"| {r.benchmark} | {r.group} | {r.n} | {r.accuracy:.3f} | {answered} | {score} |")
        return "\n".join(lines) + "\n"


def write_results(results: EvalResults, directory: str | Path, stem: str = "results") -> tuple[Path, Path]:
    """Write ``{stem}.json`` and ``{stem}.md`` into ``directory`` (created); returns both paths."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    json_path.write_text(json.dumps(results.to_json(), indent=2) + "\n")
    md_path.write_text(results.markdown())
    return json_path, md_path
