"""The evaluation how-to's Python block runs on an EgoSchema-format fixture and writes what it says."""

import json
import re
from pathlib import Path

from tests.unit.eval.conftest import moving_square_mp4

PAGE = Path(__file__).resolve().parents[3] / "docs" / "how_to" / "evaluate.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_the_python_block_evaluates_an_egoschema_copy(tmp_path, monkeypatch, capsys):
    (block,) = python_blocks(PAGE.read_text())
    root = tmp_path / "data" / "egoschema"
    (root / "videos").mkdir(parents=True)
    questions = []
    for i in range(3):
        options = {f"option {k}": word for k, word in enumerate(["left", "right", "up", "down", "nowhere"])}
        questions.append({"q_uid": f"q{i}", "question": "where does the square go ?", **options})
        (root / "videos" / f"q{i}.mp4").write_bytes(moving_square_mp4())
    (root / "questions.json").write_text(json.dumps(questions))
    (root / "subset_answers.json").write_text(json.dumps({"q0": 1, "q1": 1, "q2": 1}))
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(PAGE), "exec"), {"__name__": "__docs__"})  # the page's own code
    printed = capsys.readouterr().out
    assert printed.startswith("random weights (built from config, no checkpoint given)")
    rows = json.loads((tmp_path / "eval_results" / "results.json").read_text())["rows"]
    assert rows[0]["n"] == 3
    assert {(r["benchmark"], r["group"]) for r in rows} >= {("egoschema", "duration: 120-900s"), ("all", "all")}
    assert "| egoschema | all | 3 |" in printed
