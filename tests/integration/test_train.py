"""The training job end to end on the tiny twins: it trains, scores, checkpoints and resumes exactly."""

import csv
import re
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_module

from videolmm.eval.choice import score_split
from videolmm.training.assembly import build_datamodule, build_module, build_trainer, fit, resume_checkpoint


def train_config(tmp_path: Path, *overrides: str):
    small = [
        f"run_dir={tmp_path / 'run'}",
        f"data.shards.root={tmp_path / 'data'}",
        "data.shards.train=48",
        "data.shards.val=8",
        "data.shards.test=16",
        "data.shards.samples_per_shard=16",
        "data.batch_size=4",
        "data.shuffle_buffer=8",
        "trainer.max_steps=6",
        "trainer.log_every_n_steps=1",
        "trainer.enable_progress_bar=false",
        "checkpoint.every_n_train_steps=3",
        "log.throughput_window=2",
    ]
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(config_name="train", overrides=[*small, *overrides])


class KeyRecorder(L.Callback):
    """Records the sample keys of every training batch."""

    def __init__(self) -> None:
        self.keys: list[list[str]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.keys.append(list(batch["keys"]))


class StopAt(L.Callback):
    """Stops training after ``step`` optimizer steps, as an interruption would (the schedule still spans max_steps)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def run(cfg, stop_at: int | None = None) -> tuple:
    L.seed_everything(cfg.seed, workers=True)
    data, module, trainer = build_datamodule(cfg), build_module(cfg), build_trainer(cfg)
    recorder = KeyRecorder()
    trainer.callbacks.append(recorder)
    if stop_at is not None:
        trainer.callbacks.append(StopAt(stop_at))
    trainer.fit(module, datamodule=data, ckpt_path=resume_checkpoint(cfg))
    return module, data, recorder.keys


def losses(run_dir: Path) -> dict[int, float]:
    """Training loss by step over every attempt's log (logs/version_N/metrics.csv)."""
    steps = {}
    for path in sorted((run_dir / "logs").glob("version_*/metrics.csv")):
        with open(path) as f:
            steps.update({int(r["step"]): float(r["train/loss"]) for r in csv.DictReader(f) if r["train/loss"]})
    return steps


def test_default_job_trains_checkpoints_and_scores_the_test_split(tmp_path):
    cfg = train_config(tmp_path)
    module, data, trainer = fit(cfg)
    assert trainer.global_step == 6
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    assert checkpoints == ["last.ckpt", "step-0000003.ckpt", "step-0000006.ckpt"]
    logged = losses(tmp_path / "run")
    assert sorted(logged) == [0, 1, 2, 3, 4, 5]
    assert all(torch.isfinite(torch.tensor(v)) for v in logged.values())
    tally = score_split(module.model, data, "test")
    rows = {g: n for g, n, _, _ in tally.rows()}
    assert rows["overall"] == 16
    assert rows["temporal questions"] + rows["control questions"] == 16
    assert "perf/tokens_per_s" in trainer.callback_metrics


def test_resume_continues_with_the_same_losses_data_and_weights(tmp_path):
    straight, _, straight_keys = run(train_config(tmp_path / "a"))
    run(train_config(tmp_path / "b"), stop_at=3)
    resumed, _, resumed_keys = run(train_config(tmp_path / "b", "resume=auto"))
    assert resumed_keys == straight_keys[3:]  # the next sample after the checkpoint, mid-epoch
    a, b = losses(tmp_path / "a" / "run"), losses(tmp_path / "b" / "run")
    assert sorted(b) == [0, 1, 2, 3, 4, 5]
    for step in range(6):
        assert b[step] == pytest.approx(a[step], abs=1e-6), step
    for (name, x), (_, y) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6, msg=name)


def test_resume_never_and_explicit_paths(tmp_path):
    cfg = train_config(tmp_path, "resume=never")
    assert resume_checkpoint(cfg) is None
    with pytest.raises(FileNotFoundError, match="no such checkpoint"):
        resume_checkpoint(train_config(tmp_path, f"resume={tmp_path / 'missing.ckpt'}"))


def test_a_placeholder_id_that_is_not_the_tokenizers_is_refused(tmp_path):
    with pytest.raises(ValueError, match=re.escape("video_token_id=7 but the data tokenizer's <|video_pad|> is 3")):
        build_datamodule(train_config(tmp_path, "video_token_id=7"))


def test_export_writes_a_hf_llava_onevision_directory_that_loads_back(tmp_path):
    from videolmm.checkpoint.hf_llava import from_hf_pretrained, save_hf_pretrained
    from videolmm.config import train_config_problems

    out = tmp_path / "hf"
    cfg = train_config(
        tmp_path, "reducer=bilinear_2x2", "separators=end", "trainer.max_steps=2", f"export_hf_dir={out}"
    )
    assert train_config_problems(cfg) == []
    module, _, _ = fit(cfg)
    save_hf_pretrained(module.model, out)  # what videolmm-train does after fit
    assert (out / "config.json").is_file()
    loaded = from_hf_pretrained(out)
    for (name, x), (_, y) in zip(module.model.state_dict().items(), loaded.state_dict().items(), strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0, msg=name)


def test_export_of_a_composition_no_hf_class_computes_is_refused_at_start_up(tmp_path):
    from videolmm.config import train_config_problems

    problems = train_config_problems(train_config(tmp_path, f"export_hf_dir={tmp_path / 'hf'}"))
    assert len(problems) == 1
    assert problems[0].startswith("export_hf_dir is set but no HF class computes this composition")
