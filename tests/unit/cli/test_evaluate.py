"""``videolmm-eval``: the synthetic test split, a videolmm checkpoint, the evaluation settings as config."""

import json
import sys

import pytest
import torch
from hydra import compose, initialize_config_module

from tests.unit.eval.conftest import model_config
from videolmm.cli.evaluate import main
from videolmm.model import build_model


def test_evaluates_a_checkpoint_on_the_synthetic_test_split(tmp_path, monkeypatch, capsys):
    torch.manual_seed(2)
    model = build_model(model_config(separators="none"))
    checkpoint = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}, "epoch": 1}, checkpoint)
    out = tmp_path / "results"
    args = ["videolmm-eval", f"checkpoint={checkpoint}", "limit=6", f"output={out}", "batch_size=3"]
    monkeypatch.setattr(sys, "argv", args)
    main()
    printed = capsys.readouterr().out
    assert f"model: videolmm checkpoint {checkpoint}" in printed
    assert "benchmark: 6 of 512 samples" in printed
    rows = json.loads((out / "test.json").read_text())["rows"]
    assert rows[0]["benchmark"] == "all"
    assert rows[0]["n"] == 6
    assert {r["group"] for r in rows if r["benchmark"] == "synthetic"} >= {"all", "format: multiple_choice"}
    assert (out / "test.md").read_text() in printed
    assert len((out / "predictions-test-rank0.jsonl").read_text().splitlines()) == 6


def test_a_checkpoint_for_another_model_is_refused(tmp_path, monkeypatch):
    torch.save({"state_dict": {"model.unknown.weight": torch.zeros(1)}}, tmp_path / "bad.ckpt")
    monkeypatch.setattr(sys, "argv", ["videolmm-eval", f"checkpoint={tmp_path / 'bad.ckpt'}", "limit=1"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")  # Hydra re-raises instead of exiting
    with pytest.raises(ValueError, match="does not fit the configured model"):
        main()


def test_published_and_training_settings_differ_as_documented():
    with initialize_config_module("videolmm.conf", version_base="1.3"):
        published = compose("eval", overrides=["eval=llava_video_7b"])
        training = compose("eval", overrides=["eval=llava_video_train"])
        tiny = compose("eval")
    assert (published.reducer.mode, training.reducer.mode, tiny.reducer.mode) == ("avg", "bilinear", "avg")
    assert published.separators.position == training.separators.position == "grid"
    assert published.frames == training.frames
    assert (published.frames.max_frames, published.frames.force_sample) == (64, True)
    assert (published.evaluation.time_instruction, training.evaluation.time_instruction) == (False, True)
    assert published.model.reducer == published.reducer  # the model is built with the setting's representation
    assert tiny.frames.num_frames == 8
