"""SIGKILL during training and during checkpoint writes: ``resume=auto`` continues from the last complete
checkpoint and ends with the same weights as an uninterrupted run; a half-written file is never taken.

Each case runs the real ``videolmm-train`` in a subprocess (through ``fault_train.py``, which only adds
the kill), then restarts it with the installed console script and ``resume=auto``.
"""

import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.reliability.conftest import (
    EVERY,
    FAULT_TRAIN,
    TRAIN_STEPS,
    assert_same_weights,
    run_process,
    train_overrides,
)
from videolmm.training.checkpoints import checkpoint_step

pytestmark = pytest.mark.slow

PARTIAL_BYTES = 100_000
"""Bytes of a checkpoint on disk when the write is cut (a tiny-model checkpoint is about 1.7 MB)."""


@pytest.fixture(scope="module")
def reference(tmp_path_factory, data_root) -> Path:
    """``last.ckpt`` of an uninterrupted run."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    done = run_process(
        [console_script("videolmm-train", skip_missing=True), *train_overrides(run_dir, data_root)], run_dir.parent
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return run_dir / "checkpoints" / "last.ckpt"


def killed_run(tmp_path: Path, data_root: Path, fault: dict[str, str]) -> Path:
    """Run with ``fault`` and check the process died by SIGKILL; returns the run folder."""
    run_dir = tmp_path / "run"
    died = run_process([sys.executable, str(FAULT_TRAIN), *train_overrides(run_dir, data_root)], tmp_path, env=fault)
    assert died.returncode == -signal.SIGKILL, (died.returncode, died.stderr[-3000:])
    return run_dir


def resume(run_dir: Path, data_root: Path) -> str:
    """Restart with ``resume=auto`` through the console script; returns its output (the log)."""
    command = [console_script("videolmm-train", skip_missing=True), *train_overrides(run_dir, data_root, "resume=auto")]
    done = run_process(command, run_dir.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def steps_on_disk(run_dir: Path) -> dict[str, int]:
    """``{file name: global_step}`` of the complete checkpoints in ``run_dir/checkpoints``."""
    return {path.name: checkpoint_step(path) for path in sorted((run_dir / "checkpoints").glob("*.ckpt"))}


def test_sigkill_mid_run_resumes_from_the_last_checkpoint_with_the_same_final_weights(tmp_path, data_root, reference):
    run_dir = killed_run(tmp_path, data_root, {"FAULT_KILL_AT_STEP": "5"})
    assert steps_on_disk(run_dir) == {"last.ckpt": EVERY, f"step-{EVERY:07d}.ckpt": EVERY}  # step 4 and 5 are lost
    log = resume(run_dir, data_root)
    assert f"resuming from {run_dir / 'checkpoints' / 'last.ckpt'}" in log
    assert steps_on_disk(run_dir)["last.ckpt"] == TRAIN_STEPS
    assert_same_weights(run_dir / "checkpoints" / "last.ckpt", reference)


def test_sigkill_while_writing_a_checkpoint_never_takes_the_half_written_file(tmp_path, data_root, reference):
    # writes: 1 step-3, 2 last (step 3), 3 step-6 <- killed after PARTIAL_BYTES, 4 last (step 6)
    run_dir = killed_run(tmp_path, data_root, {"FAULT_KILL_IN_WRITE": f"3:{PARTIAL_BYTES}"})
    folder = run_dir / "checkpoints"
    partial = folder / f".step-{TRAIN_STEPS:07d}.ckpt.partial"
    assert partial.stat().st_size == PARTIAL_BYTES
    assert steps_on_disk(run_dir) == {"last.ckpt": EVERY, f"step-{EVERY:07d}.ckpt": EVERY}
    log = resume(run_dir, data_root)
    assert f"resuming from {folder / 'last.ckpt'}" in log
    assert not partial.exists()  # the next write of the same name replaced it
    assert steps_on_disk(run_dir) == {"last.ckpt": 6, "step-0000003.ckpt": 3, "step-0000006.ckpt": 6}
    assert_same_weights(folder / "last.ckpt", reference)


def test_sigkill_between_two_writes_resumes_from_the_newer_step_file_not_the_older_last(tmp_path, data_root, reference):
    # write 4 (last.ckpt at step 6) is complete on disk as .partial but never renamed: last.ckpt still says step 3
    run_dir = killed_run(tmp_path, data_root, {"FAULT_KILL_BEFORE_RENAME": "4"})
    folder = run_dir / "checkpoints"
    assert steps_on_disk(run_dir) == {"last.ckpt": EVERY, f"step-{EVERY:07d}.ckpt": EVERY, "step-0000006.ckpt": 6}
    assert (folder / ".last.ckpt.partial").stat().st_size > PARTIAL_BYTES
    log = resume(run_dir, data_root)
    assert f"resuming from {folder / 'step-0000006.ckpt'}" in log  # the newest complete checkpoint
    assert_same_weights(folder / "step-0000006.ckpt", reference)
