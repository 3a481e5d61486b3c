"""Comparing training runs: what each run reports about itself, and the table across a multirun.

``videolmm-train`` writes ``run_dir/eval.json`` with the closed-set accuracies and a ``run`` block
(`run_block`): the run's label, its representation in the paper's ``V = (T, M, s, p)`` terms, the
visual tokens per video it really used, and its training time. `read_runs` reads every such file
under a multirun folder; `comparison_rows` turns them into one row per label (runs sharing a label,
such as the seeds of one method, are averaged) with the accuracy overall, on temporal and control
questions and per question kind (both answer formats pooled), and `write_comparison` writes the rows
as Markdown, CSV and a plot of accuracy against visual tokens.
"""

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videolmm.model.videolmm import VideoLMM
from videolmm.paper_budget import paper_representation

from .choice import ChoiceTally

__all__ = ["RunResult", "by_label", "comparison_rows", "markdown_table", "read_runs", "run_block", "write_comparison"]

SUMMARY_GROUPS = ("overall", "temporal questions", "control questions")


def run_block(model: VideoLMM, tally: ChoiceTally, label: str, train_seconds: float, steps: int) -> dict[str, Any]:
    """The ``run`` block of ``eval.json``: how this run represented videos and what it cost.

    Frames and visual tokens are the means over the scored videos (what the model really saw); ``V``
    uses ``M`` = the encoder's patches per frame, so ``paper_tokens`` is the paper's formula at this
    grid (``None`` where the formula does not describe the reducer).
    """
    frames = [t for t, _ in tally.sizes]
    tokens = [n for _, n in tally.sizes]
    mean_frames = round(sum(frames) / len(frames)) if frames else None
    v = paper_representation(model.reducer, mean_frames) if mean_frames else None
    patches = model.grid[0] * model.grid[1]
    return {
        "label": label,
        "reducer": type(model.reducer).__name__,
        "frames": sum(frames) / len(frames) if frames else None,
        "visual_tokens": sum(tokens) / len(tokens) if tokens else None,
        "grid": list(model.grid),
        "paper_v": None if v is None else [v.num_frames, patches, v.slow_every, v.stride],
        "paper_tokens": None if v is None else v.tokens(patches),
        "train_seconds": train_seconds,
        "steps": steps,
    }


@dataclass(frozen=True)
class RunResult:
    """One run of a multirun, as read back from its ``eval.json``.

    Attributes:
        path: The run's folder.
        run: Its ``run`` block (`run_block`).
        accuracy: Accuracy per result group (``"overall"``, ``"when (Temporal), open_ended"``, ...).
        chance: Chance accuracy per group.
        count: Scored samples per group.
    """

    path: Path
    run: dict[str, Any]
    accuracy: dict[str, float]
    chance: dict[str, float]
    count: dict[str, int]

    def by_kind(self) -> dict[str, tuple[float, float]]:
        """``kind -> (accuracy, chance)`` with both answer formats of a kind pooled (weighted by samples)."""
        hits: dict[str, float] = defaultdict(float)
        luck: dict[str, float] = defaultdict(float)
        total: dict[str, int] = defaultdict(int)
        for group, n in self.count.items():
            if group in SUMMARY_GROUPS:
                continue
            kind = group.split(" (", 1)[0]
            hits[kind] += self.accuracy[group] * n
            luck[kind] += self.chance[group] * n
            total[kind] += n
        return {kind: (hits[kind] / total[kind], luck[kind] / total[kind]) for kind in sorted(total)}


def read_runs(root: str | Path) -> list[RunResult]:
    """Every run under ``root`` (any depth) that wrote an ``eval.json`` with a ``run`` block, by folder name.

    Raises:
        FileNotFoundError: ``root`` is missing or holds no such run.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    runs, skipped = [], []
    for path in sorted(root.rglob("eval.json"), key=lambda p: _natural(p.parent.relative_to(root))):
        record = json.loads(path.read_text())
        if "run" not in record:
            skipped.append(str(path))
            continue
        results = record["results"]
        runs.append(
            RunResult(
                path=path.parent,
                run=record["run"],
                accuracy={r["group"]: r["accuracy"] for r in results},
                chance={r["group"]: r["chance"] for r in results},
                count={r["group"]: r["n"] for r in results},
            )
        )
    if not runs:
        hint = f" ({len(skipped)} eval.json without a run block, written by an older videolmm)" if skipped else ""
        raise FileNotFoundError(f"{root}: no run folder with an eval.json{hint}")
    return runs


def _natural(path: Path) -> list[Any]:
    """Sort key putting job folders 2 before 10."""
    return [int(part) if part.isdigit() else part for part in path.parts]


def by_label(runs: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    """Runs grouped by label (seeds of one method), in the order the labels first appear."""
    groups: dict[str, list[RunResult]] = {}
    for run in runs:
        groups.setdefault(run.run["label"], []).append(run)
    return groups


def comparison_rows(runs: Sequence[RunResult]) -> list[dict[str, Any]]:
    """One row per label (the mean over its runs) plus a last ``chance`` row.

    Columns: method, runs, V, visual tokens, the paper's formula, accuracy overall / temporal / control and
    per kind, train time.
    """
    kinds = sorted({kind for run in runs for kind in run.by_kind()})
    rows = []
    for label, group in by_label(runs).items():
        info, v = group[0].run, group[0].run["paper_v"]
        row: dict[str, Any] = {
            "method": label,
            "runs": len(group),
            "V": "-" if v is None else f"({v[0]}, {v[1]}, {v[2]}, {v[3]})",
            "visual tokens": _number(_mean(r.run["visual_tokens"] or math.nan for r in group)),
            "paper formula": "-" if info["paper_tokens"] is None else info["paper_tokens"],
        }
        row |= {g: _mean(r.accuracy.get(g, math.nan) for r in group) for g in SUMMARY_GROUPS}
        row |= {k: _mean(r.by_kind().get(k, (math.nan, math.nan))[0] for r in group) for k in kinds}
        row["train time (s)"] = round(_mean(r.run["train_seconds"] for r in group))
        rows.append(row)
    chance: dict[str, Any] = {"method": "chance", "runs": "", "V": "", "visual tokens": "", "paper formula": ""}
    chance |= {group: _mean(run.chance.get(group, math.nan) for run in runs) for group in SUMMARY_GROUPS}
    chance |= {kind: _mean(run.by_kind().get(kind, (math.nan, math.nan))[1] for run in runs) for kind in kinds}
    chance["train time (s)"] = ""
    return [*rows, chance]


def _number(value: float | None) -> int | float | str:
    if value is None or math.isnan(value):
        return "-"
    return int(value) if float(value).is_integer() else round(value, 1)


def _mean(values: Any) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """``rows`` as a GitHub-flavoured Markdown table (accuracies to 3 decimals)."""
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(row[key]) for key in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _csv_text(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def write_comparison(runs: Sequence[RunResult], out_dir: str | Path, title: str = "") -> dict[str, Path]:
    """Write ``comparison.md``, ``comparison.csv`` and ``comparison.png`` into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = comparison_rows(runs)
    paths = {"md": out_dir / "comparison.md", "csv": out_dir / "comparison.csv", "png": out_dir / "comparison.png"}
    paths["md"].write_text(markdown_table(rows))
    paths["csv"].write_text(_csv_text(rows))
    _plot(runs, paths["png"], title)
    return paths


def _plot(runs: Sequence[RunResult], path: Path, title: str) -> None:
    """Accuracy (overall, temporal, control) against visual tokens per video: each label's mean and range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
    for ax, group in zip(axes, SUMMARY_GROUPS, strict=True):
        for i, (label, members) in enumerate(by_label(runs).items()):
            tokens = _mean(r.run["visual_tokens"] or math.nan for r in members)
            values = [r.accuracy[group] for r in members if group in r.accuracy]
            if math.isnan(tokens) or not values:
                continue
            mean = sum(values) / len(values)
            spread = [[mean - min(values)], [max(values) - mean]]  # the runs' range around their mean
            ax.errorbar(tokens, mean, yerr=spread, fmt="o", color=f"C{i % 10}", capsize=3, zorder=3)
            ax.annotate(label, (tokens, mean), textcoords="offset points", xytext=(5, 4 if i % 2 else -10), fontsize=7)
        ax.axhline(_mean(run.chance.get(group, math.nan) for run in runs), color="grey", ls="--", lw=1, label="chance")
        ax.set(title=group, xlabel="visual tokens per video")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (closed set)")
    axes[-1].legend(fontsize=7, loc="lower right")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
