"""Results rows merge the metrics' sums and are written as JSON and Markdown."""

import json

import pytest

from tests.unit.eval.conftest import mc, oe
from videolmm.eval import EvalResults, ExactMatchAccuracy, MultipleChoiceAccuracy, write_results


def test_rows_merge_both_formats_and_files_hold_every_row(tmp_path):
    choice, open_ = MultipleChoiceAccuracy(), ExactMatchAccuracy()
    choice.update(["A", "B", "?"], [mc("1", "A"), mc("2", "A", qtype="t2"), mc("3", "C")])
    open_.update(["yes"], [oe("4", "yes")])
    results = EvalResults.from_scores(choice.compute(), open_.compute(), meta={"model": "tiny", "setting": "tiny"})
    overall = results.row()
    assert overall.n == 4
    assert overall.accuracy == 0.5
    assert overall.answered == pytest.approx(2 / 3)  # over the 3 multiple-choice replies only
    assert results.row("bench", "format: open_ended").answered is None
    json_path, md_path = write_results(results, tmp_path / "out", stem="test")
    data = json.loads(json_path.read_text())
    assert data["meta"] == {"model": "tiny", "setting": "tiny"}
    assert len(data["rows"]) == len(results.rows)
    assert data["rows"][0] == {"benchmark": "all", "group": "all", "n": 4, "accuracy": 0.5,
                               "answered": pytest.approx(2 / 3), "score": None}  # fmt: skip
    markdown = md_path.read_text()
    assert "| all | all | 4 | 0.500 | 0.667 |  |" in markdown
    assert "| bench | question_type: t2 | 1 | 0.000 | 1.000 |  |" in markdown
    assert "- setting: tiny" in markdown
