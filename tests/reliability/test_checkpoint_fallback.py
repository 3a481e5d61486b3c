"""A damaged latest checkpoint: verification refuses it, resume falls back to the previous good one with a
warning naming both files, and training from there ends with the weights of an uninterrupted run.

The checkpoints are real ones from a tiny run; the damage is done to their bytes on disk.
"""

import logging
import shutil
import tempfile
import threading
import zipfile
from pathlib import Path

import pytest
import torch

from tests.reliability.conftest import EVERY, TRAIN_STEPS, assert_same_weights, train_config
from videolmm.training.assembly import fit, resume_checkpoint
from videolmm.training.checkpoints import (
    AtomicCheckpointIO,
    CheckpointError,
    choose_resume_checkpoint,
    resume_candidates,
    save_atomically,
    verify_checkpoint,
)

LAST, STEP3, STEP6 = "last.ckpt", f"step-{EVERY:07d}.ckpt", f"step-{TRAIN_STEPS:07d}.ckpt"


@pytest.fixture(scope="module")
def straight(tmp_path_factory, data_root) -> Path:
    """The checkpoints folder of an uninterrupted tiny run (kept pristine; tests copy it)."""
    run_dir = tmp_path_factory.mktemp("straight") / "run"
    _, _, trainer = fit(train_config(run_dir, data_root))
    assert type(trainer.strategy.checkpoint_io) is AtomicCheckpointIO  # the Trainer plugin build_trainer passes
    folder = run_dir / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == [LAST, STEP3, STEP6]
    return folder


def copy_run(straight: Path, tmp_path: Path) -> Path:
    """A run folder whose checkpoints are copies of the straight run's; returns the run folder."""
    shutil.copytree(straight, tmp_path / "run" / "checkpoints")
    return tmp_path / "run"


def flip_byte(path: Path, where: float) -> None:
    """Invert one byte at fraction ``where`` of the file (bit rot, a bad sector, a buggy copy)."""
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path: Path, where: float) -> None:
    """Keep the first fraction ``where`` of the file (a copy or write cut short)."""
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * where)])


def member_offset(path: Path, largest: bool = True) -> float:
    """The middle of a member's bytes (the largest tensor, or the pickled structure ``data.pkl``), as a fraction.

    Damage must hit bytes that are read: a flipped byte in, say, the central directory's "version made by"
    field changes nothing that is loaded, and is rightly not refused.
    """
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        info = (
            max(members, key=lambda i: i.file_size)
            if largest
            else next(i for i in members if i.filename.endswith("data.pkl"))
        )
    return (info.header_offset + 200 + info.file_size // 2) / path.stat().st_size


def tensor_offset(path: Path) -> float:
    """`member_offset` of the largest tensor."""
    return member_offset(path)


DAMAGE = {
    "one byte flipped inside a tensor": lambda p: flip_byte(p, tensor_offset(p)),
    "one byte flipped in the pickled structure": lambda p: flip_byte(p, member_offset(p, largest=False)),
    "end-of-archive record overwritten": lambda p: p.write_bytes(p.read_bytes()[:-22] + b"\0" * 22),
    "cut at 99%": lambda p: truncate(p, 0.99),
    "cut in half": lambda p: truncate(p, 0.5),
    "cut to 10 bytes": lambda p: truncate(p, 10 / p.stat().st_size),
    "emptied": lambda p: p.write_bytes(b""),
    "overwritten with text": lambda p: p.write_text("not a checkpoint\n" * 100),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_every_kind_of_damage_is_refused_with_its_reason(straight, tmp_path, damage):
    path = tmp_path / LAST
    shutil.copy(straight / LAST, path)
    assert verify_checkpoint(path) == TRAIN_STEPS
    DAMAGE[damage](path)
    with pytest.raises(CheckpointError, match=str(path)):
        verify_checkpoint(path)


def test_torch_alone_loads_a_flipped_tensor_byte_silently_which_is_why_crcs_are_checked(straight, tmp_path):
    path = tmp_path / LAST
    shutil.copy(straight / LAST, path)
    flip_byte(path, tensor_offset(path))
    damaged = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]  # no error from torch
    original = torch.load(straight / LAST, map_location="cpu", weights_only=True)["state_dict"]
    assert any(not torch.equal(damaged[k], original[k]) for k in original)
    with pytest.raises(CheckpointError, match="fails its CRC-32 check"):
        verify_checkpoint(path)


def test_a_damaged_last_checkpoint_falls_back_to_the_step_file_of_the_same_step(straight, tmp_path, data_root, caplog):
    run_dir = copy_run(straight, tmp_path)
    folder = run_dir / "checkpoints"
    flip_byte(folder / LAST, tensor_offset(folder / LAST))
    with caplog.at_level(logging.WARNING, logger="videolmm.train"):
        chosen = resume_checkpoint(train_config(run_dir, data_root, "resume=auto"))
    assert chosen == str(folder / STEP6)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(folder / LAST) in warning
    assert f"resuming from {folder / STEP6}" in warning
    assert "CRC-32" in warning


def test_damaged_newest_checkpoints_fall_back_to_the_previous_good_one_and_training_catches_up(
    straight, tmp_path, data_root, caplog
):
    run_dir = copy_run(straight, tmp_path)
    folder = run_dir / "checkpoints"
    truncate(folder / LAST, 0.6)
    flip_byte(folder / STEP6, tensor_offset(folder / STEP6))
    cfg = train_config(run_dir, data_root, "resume=auto")
    with caplog.at_level(logging.WARNING, logger="videolmm.train"):
        assert resume_checkpoint(cfg) == str(folder / STEP3)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    for bad in (LAST, STEP6):
        (line,) = [w for w in warnings if str(folder / bad) in w]
        assert f"resuming from {folder / STEP3} (step {EVERY})" in line
    caplog.clear()
    _, _, trainer = fit(cfg)  # steps 4..6 again, from the step-3 checkpoint
    assert trainer.global_step == TRAIN_STEPS
    assert_same_weights(folder / LAST, straight / LAST)
    assert_same_weights(folder / STEP6, straight / STEP6)
    assert sorted(p.name for p in folder.iterdir()) == [LAST, STEP3, STEP6]  # damaged files replaced, no -v1 copies


def test_when_every_checkpoint_is_damaged_resume_stops_with_each_file_and_reason(straight, tmp_path, data_root):
    run_dir = copy_run(straight, tmp_path)
    folder = run_dir / "checkpoints"
    for name in (LAST, STEP3, STEP6):
        truncate(folder / name, 0.5)
    with pytest.raises(CheckpointError, match="no usable checkpoint") as refused:
        resume_checkpoint(train_config(run_dir, data_root, "resume=auto"))
    for name in (LAST, STEP3, STEP6):
        assert str(folder / name) in str(refused.value)


def test_an_explicit_damaged_checkpoint_is_refused_rather_than_replaced(straight, tmp_path, data_root):
    path = tmp_path / "chosen.ckpt"
    shutil.copy(straight / STEP3, path)
    truncate(path, 0.9)
    with pytest.raises(CheckpointError, match="zip archive"):
        resume_checkpoint(train_config(tmp_path / "run", data_root, f"resume={path}"))


def test_partial_files_are_never_candidates_even_when_complete_and_newer(straight, tmp_path):
    folder = copy_run(straight, tmp_path) / "checkpoints"
    (folder / STEP6).unlink()
    (folder / LAST).unlink()
    shutil.copy(straight / STEP6, folder / f".{STEP6}.partial")  # complete bytes, never renamed
    shutil.copy(straight / STEP6, folder / "notes.txt")
    assert [p.name for p in resume_candidates(folder)] == [STEP3]
    assert choose_resume_checkpoint(folder) == folder / STEP3


def test_atomic_save_writes_next_to_the_target_and_a_failed_save_keeps_the_old_file(straight, tmp_path, monkeypatch):
    spare_tmp = tmp_path / "tmpdir"
    spare_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare_tmp))  # Lightning's saver would write here first
    target = tmp_path / "ckpts" / LAST
    checkpoint = torch.load(straight / LAST, map_location="cpu", weights_only=True)
    AtomicCheckpointIO().save_checkpoint(checkpoint, target)
    assert verify_checkpoint(target) == TRAIN_STEPS
    assert list(spare_tmp.iterdir()) == []
    assert [p.name for p in target.parent.iterdir()] == [LAST]
    before = target.read_bytes()
    with pytest.raises(TypeError, match="cannot pickle"):  # a lock cannot be pickled: the write fails midway
        save_atomically({**checkpoint, "global_step": threading.Lock()}, target)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [LAST]  # the partial file is removed


def test_a_distributed_checkpoint_folder_is_verified_through_its_weights_only_meta_file(straight, tmp_path):
    folder = tmp_path / "checkpoints"
    complete, broken = folder / "step-0000009.ckpt", folder / "last.ckpt"
    for path in (complete, broken):
        path.mkdir(parents=True)
        meta = torch.load(straight / LAST, map_location="cpu", weights_only=True)
        torch.save(
            {k: v for k, v in meta.items() if k not in ("state_dict", "optimizer_states")} | {"global_step": 9},
            path / "meta.pt",
        )
    (complete / ".metadata").write_bytes(b"torch's shard index")
    assert verify_checkpoint(complete) == 9
    with pytest.raises(CheckpointError, match=r"without \.metadata"):
        verify_checkpoint(broken)  # a folder whose save never finished
    assert choose_resume_checkpoint(folder) == complete
