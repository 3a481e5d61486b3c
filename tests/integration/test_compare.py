"""``videolmm-compare`` on a real multirun: two tiny trainings swept by Hydra, then one table and one plot."""

import csv
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import console_script, run_command


def run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess:
    return run_command(command, cwd=cwd, env={"VIDEOLMM_DATA": str(cwd / "data")}, timeout=300)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A 2-job multirun (debug=tiny: 2 steps each) over two reducers, as a user would launch it."""
    cwd = tmp_path_factory.mktemp("compare")
    done = run(
        [console_script("videolmm-train"), "-m", "debug=tiny", "reducer=avg_pool_2x2,lita", "hydra.sweep.dir=sweep"],
        cwd,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return cwd


def test_each_job_reports_its_representation_tokens_and_time(sweep):
    runs = [json.loads((sweep / "sweep" / job / "eval.json").read_text())["run"] for job in ("0", "1")]
    assert [r["label"] for r in runs] == ["avg_pool_2x2", "lita"]  # the reducer option names the run by default
    assert [r["visual_tokens"] for r in runs] == [72, 44]  # 8 frames on the tiny 7x7 grid: 8 x 3x3; 8 + 4 x 3x3
    assert runs[0]["paper_v"] == [8, 49, 1, 2]
    assert runs[1]["paper_v"] is None  # LITA's default (4 slow frames of 8) is outside the paper's formula
    assert all(r["steps"] == 2 and r["train_seconds"] > 0 for r in runs)


def test_compare_writes_one_table_and_a_plot_for_the_multirun(sweep):
    done = run([console_script("videolmm-compare"), "sweep"], sweep)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(
        "| method | runs | V | visual tokens | paper formula | overall | temporal questions |"
    )
    rows = list(csv.DictReader((sweep / "sweep" / "comparison.csv").open()))
    assert [r["method"] for r in rows] == ["avg_pool_2x2", "lita", "chance"]
    assert [r["visual tokens"] for r in rows[:2]] == ["72", "44"]
    assert {"overall", "direction", "when", "colour", "train time (s)"} <= set(rows[0])
    scored = json.loads((sweep / "sweep" / "0" / "eval.json").read_text())["results"]
    assert float(rows[0]["overall"]) == pytest.approx(scored[0]["accuracy"])
    assert (sweep / "sweep" / "comparison.md").read_text() in done.stdout
    assert (sweep / "sweep" / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_on_a_folder_without_runs_exits_2_with_a_message(tmp_path):
    done = run([console_script("videolmm-compare"), tmp_path], tmp_path)
    assert done.returncode == 2
    assert "no run folder with an eval.json" in done.stderr
    assert "Traceback" not in done.stderr
