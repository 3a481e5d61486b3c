"""Two CPU processes over gloo: the real ``videolmm-train`` under DDP and under FSDP2 (ModelParallelStrategy)."""

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import console_script, run_command

pytestmark = pytest.mark.slow

SMALL = [
    "data.shards.train=64",
    "data.shards.val=8",
    "data.shards.test=16",
    "data.shards.samples_per_shard=4",
    "data.batch_size=4",
    "data.shuffle_buffer=8",
    "trainer.max_steps=4",
    "trainer.devices=2",
    "trainer.enable_progress_bar=false",
    "checkpoint.every_n_train_steps=2",
    "log.throughput_window=2",
    "evaluate.max_samples=8",
]


def train(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    exe = console_script("videolmm-train")
    args = [exe, f"run_dir={tmp_path / 'run'}", f"data.shards.root={tmp_path / 'data'}", *SMALL, *overrides]
    return run_command(args, cwd=tmp_path, env={"OMP_NUM_THREADS": "1"}, timeout=600)


def test_ddp_two_processes_train_checkpoint_and_score(tmp_path):
    result = train(tmp_path, "strategy=ddp")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()
    results = json.loads((tmp_path / "run" / "eval.json").read_text())["results"]
    assert results[0]["group"] == "overall"
    assert results[0]["n"] == 8


def test_fsdp2_two_processes_shard_train_and_resume(tmp_path):
    fsdp2 = ["strategy=fsdp2", "strategy.data_parallel_size=2", "module.fsdp_param_dtype=null", "evaluate.split=null"]
    result = train(tmp_path, *fsdp2)
    assert result.returncode == 0, result.stderr[-3000:]
    last = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert last.is_dir()  # torch distributed checkpoint: a folder with a file per rank
    assert len(list(last.glob("*.distcp"))) == 2
    resumed = train(tmp_path, *fsdp2, "trainer.max_steps=6")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Restored all states" in resumed.stdout + resumed.stderr
