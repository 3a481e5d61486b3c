"""Reading runs back and tabulating them: pooled kinds, the chance row, the order of job folders."""

import csv
import json
import math

import pytest

from videolmm.eval.comparison import comparison_rows, markdown_table, read_runs, write_comparison


def write_run(folder, label, tokens, results, seconds=12.0, v=(8, 49, 1, 2)):
    folder.mkdir(parents=True)
    run = {"label": label, "visual_tokens": tokens, "frames": 8.0, "paper_v": list(v) if v else None,
           "paper_tokens": 98 if v else None, "train_seconds": seconds, "steps": 2}  # fmt: skip
    rows = [{"group": g, "n": n, "accuracy": a, "chance": c} for g, n, a, c in results]
    (folder / "eval.json").write_text(json.dumps({"config": {}, "run": run, "results": rows}))


RESULTS = [
    ("overall", 40, 0.5, 0.3),
    ("temporal questions", 20, 0.4, 1 / 3),
    ("control questions", 20, 0.6, 0.25),
    ("when (Temporal), multiple_choice", 10, 0.8, 1 / 3),
    ("when (Temporal), open_ended", 30, 0.4, 1 / 3),
    ("colour (Description-Object), open_ended", 20, 0.6, 0.25),
]


def test_both_answer_formats_of_a_kind_are_pooled_by_sample_count(tmp_path):
    write_run(tmp_path / "0_simple", "simple", 72, RESULTS)
    (run,) = read_runs(tmp_path)
    assert run.by_kind()["when"] == pytest.approx((0.5, 1 / 3))  # (0.8 * 10 + 0.4 * 30) / 40
    row, chance = comparison_rows([run])
    assert (row["method"], row["runs"], row["V"], row["visual tokens"], row["when"], row["train time (s)"]) == (
        "simple", 1, "(8, 49, 1, 2)", 72, pytest.approx(0.5), 12
    )  # fmt: skip
    assert chance["method"] == "chance"
    assert chance["overall"] == pytest.approx(0.3)


def test_job_folders_are_read_in_numeric_order_and_folders_without_results_ignored(tmp_path):
    for num in (10, 2, 1):
        write_run(tmp_path / str(num), f"job{num}", 10 * num, RESULTS)
    (tmp_path / "3").mkdir()  # a job that crashed before writing eval.json
    assert [r.run["label"] for r in read_runs(tmp_path)] == ["job1", "job2", "job10"]


def test_a_kind_missing_from_one_run_shows_as_a_dash(tmp_path):
    write_run(tmp_path / "0", "a", 72, RESULTS)
    write_run(tmp_path / "1", "b", 49, RESULTS[:3], v=None)
    rows = comparison_rows(read_runs(tmp_path))
    assert math.isnan(rows[1]["when"])
    table = markdown_table(rows)
    assert "| b | 1 | - | 49 | - |" in table
    assert table.count("\n") == 2 + 3  # header, rule, two runs, chance


def test_write_comparison_writes_markdown_csv_and_a_png(tmp_path):
    write_run(tmp_path / "0", "a", 72, RESULTS)
    write_run(tmp_path / "1", "b", 49, RESULTS, seconds=30.4)
    paths = write_comparison(read_runs(tmp_path), tmp_path / "out", title="t")
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [r["method"] for r in rows] == ["a", "b", "chance"]
    assert rows[1]["train time (s)"] == "30"
    assert paths["md"].read_text().startswith("| method | runs | V | visual tokens | paper formula | overall |")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_folder_without_runs_is_an_error_that_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no run folder with an eval\.json"):
        read_runs(tmp_path)
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "eval.json").write_text(json.dumps({"results": []}))
    with pytest.raises(FileNotFoundError, match=r"1 eval\.json without a run block"):
        read_runs(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        read_runs(tmp_path / "missing")


def test_runs_sharing_a_label_are_averaged_into_one_row(tmp_path):
    write_run(tmp_path / "0_seed0", "lita", 66, RESULTS, seconds=10.0)
    worse = [(g, n, acc - 0.2, ch) for g, n, acc, ch in RESULTS]
    write_run(tmp_path / "1_seed1", "lita", 66, worse, seconds=20.0)
    write_run(tmp_path / "2_seed0", "simple", 72, RESULTS)
    rows = comparison_rows(read_runs(tmp_path))
    assert [(r["method"], r["runs"]) for r in rows] == [("lita", 2), ("simple", 1), ("chance", "")]
    assert rows[0]["overall"] == pytest.approx(0.4)
    assert rows[0]["when"] == pytest.approx(0.4)  # (0.5 + 0.3) / 2
    assert rows[0]["train time (s)"] == 15
