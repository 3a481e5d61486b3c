"""Compare the jobs of a ``videolmm-train --multirun`` sweep: one row per job.

Usage: ``python compare_runs.py SWEEP_DIR`` (the folder holding the numbered job folders). Each job
folder is its run_dir: ``.hydra/config.yaml``, ``logs/version_*/metrics.csv`` and ``eval.json``.
The reducers named in the configs must be importable (PYTHONPATH), as they were for training.
"""

import csv
import json
import sys
from pathlib import Path

from hydra.utils import instantiate
from omegaconf import OmegaConf

from videolmm.model import visual_token_count


def last_loss(job: Path) -> float:
    """The training loss of the last logged step."""
    rows = []
    for path in sorted(job.glob("logs/version_*/metrics.csv")):
        with path.open() as f:
            rows += [(int(r["step"]), float(r["train/loss"])) for r in csv.DictReader(f) if r["train/loss"]]
    return max(rows)[1]


def visual_tokens(job: Path) -> int:
    """Visual tokens per video under the job's reducer, separators, frames and encoder grid."""
    cfg = OmegaConf.load(job / ".hydra" / "config.yaml")
    side = cfg.encoder.image_size // cfg.encoder.patch_size
    reducer, separators = instantiate(cfg.reducer), instantiate(cfg.separators, dim=1)
    return visual_token_count(reducer, separators, cfg.frames.num_frames, (side, side))


def row(job: Path) -> dict[str, str]:
    """One job's reducer, cost and results."""
    overrides = OmegaConf.load(job / ".hydra" / "overrides.yaml")
    reducer = next(o.split("=", 1)[1] for o in overrides if o.startswith("reducer="))
    accuracy = {r["group"]: r for r in json.loads((job / "eval.json").read_text())["results"]}
    return {
        "job": job.name,
        "reducer": reducer,
        "visual tokens": str(visual_tokens(job)),
        "last train loss": f"{last_loss(job):.3f}",
        **{f"{g} acc": f"{accuracy[g]['accuracy']:.3f}" for g in ("overall", "temporal questions")},
        "test n": str(accuracy["overall"]["n"]),
    }


def main(sweep: Path) -> None:
    """Print the comparison table as Markdown and write it to ``SWEEP_DIR/comparison.md``."""
    jobs = sorted((p for p in sweep.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    rows = [row(job) for job in jobs]
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r[k] for k in header) + " |" for r in rows]
    table = "\n".join(lines)
    (sweep / "comparison.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
