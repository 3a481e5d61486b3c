"""Resume checkpoints: written atomically next to their target, verified before use, read weights-only.

What Lightning 2.6 does by itself (``TorchCheckpointIO`` and ``_atomic_save``): ``torch.save`` into a
memory buffer, write the buffer to a ``tempfile.mkstemp()`` file in ``$TMPDIR``, then ``shutil.move``
it onto the target. On one file system the move is an atomic rename, but across file systems
(``$TMPDIR`` on a local disk or tmpfs, the run on a network file system) it is a copy onto the
target's name, so a kill during the copy leaves a truncated ``last.ckpt``; nothing is fsynced; a
killed process leaves its whole temporary checkpoint in ``$TMPDIR``. Loading passes
``weights_only=None`` to ``torch.load``, which torch resolves to ``True`` unless the environment sets
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``. And ``torch.load`` does not check the zip archive's CRC-32s: a
flipped byte in a tensor loads silently.

Here:

* `AtomicCheckpointIO` writes ``.{name}.partial`` in the target's own folder, fsyncs it, renames it
  onto the target (atomic within a folder) and fsyncs the folder. It loads only with
  ``weights_only=True``, after `verify_checkpoint`.
* `verify_checkpoint`: the file is a complete zip archive whose every member matches its CRC-32, it
  loads with ``weights_only=True`` and holds what Lightning resumes from.
* `choose_resume_checkpoint`: among ``last*.ckpt`` and ``step-*.ckpt``, the verified one with the
  highest step, with a warning naming every file refused and the one taken instead.
* `VerifiedModelCheckpoint`: Lightning's ``ModelCheckpoint`` that refuses a Trainer whose checkpoint IO is
  not `AtomicCheckpointIO` (`videolmm.training.assembly.build_trainer` passes it as a Trainer plugin).
"""

import logging
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from fsspec.utils import get_protocol
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint

__all__ = [
    "CANDIDATE_PATTERNS",
    "RESUME_KEYS",
    "AtomicCheckpointIO",
    "CheckpointError",
    "VerifiedModelCheckpoint",
    "check_archive",
    "check_checkpoint_archive",
    "check_safe_loading",
    "checkpoint_step",
    "choose_resume_checkpoint",
    "keep_storage",
    "load_weights_only",
    "resume_candidates",
    "save_atomically",
    "verify_checkpoint",
]

log = logging.getLogger("videolmm.train")

RESUME_KEYS = ("state_dict", "global_step", "loops", "optimizer_states")
"""What a checkpoint needs for Lightning to resume training from it."""

CANDIDATE_PATTERNS = ("last*.ckpt", "step-*.ckpt")
"""The files in ``run_dir/checkpoints`` that ``resume=auto`` considers."""

DISTRIBUTED_INDEX, DISTRIBUTED_META = ".metadata", "meta.pt"
DISTRIBUTED_META_KEYS = ("global_step", "loops")
"""A distributed checkpoint folder: torch's index, and Lightning's weights-only file of everything but tensors."""

UNSAFE_LOAD_VARIABLE = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"
"""The environment variable that makes ``torch.load(weights_only=None)`` unpickle anything."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from.

    Args:
        path: The file (or folder).
        reason: What is wrong with it.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def check_archive(path: Path) -> None:
    """Raise `CheckpointError` unless ``path`` is a complete zip archive whose members match their CRC-32.

    ``torch.save`` writes a zip archive with a CRC-32 per member; ``torch.load`` never checks them.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except Exception as error:  # any failure to read the archive means the same: not a whole checkpoint
        raise CheckpointError(path, f"not a complete checkpoint archive ({_first_line(error)})") from None
    if damaged is not None:
        raise CheckpointError(path, f"member {damaged} fails its CRC-32 check (the file is corrupted)")


def load_weights_only(path: Path, mmap: bool = False) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; `CheckpointError` if torch refuses the file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as error:  # the weights-only unpickler's refusal, or a damaged archive
        raise CheckpointError(path, f"torch.load(weights_only=True) refuses it ({_first_line(error)})") from None


def checkpoint_step(path: str | Path) -> int:
    """The ``global_step`` of a checkpoint, read weights-only (tensors are memory-mapped, not read).

    A folder is a distributed (FSDP2) checkpoint: its ``meta.pt`` is read, and ``.metadata`` must exist.

    Raises:
        CheckpointError: Missing or empty file, refused by the weights-only unpickler, or not a
            Lightning training checkpoint (the missing keys are named).
    """
    path = Path(path)
    file = path
    needed: tuple[str, ...] = RESUME_KEYS
    if path.is_dir():
        if not (path / DISTRIBUTED_INDEX).is_file():
            raise CheckpointError(path, f"a folder without {DISTRIBUTED_INDEX} is not a distributed checkpoint")
        file, needed = path / DISTRIBUTED_META, DISTRIBUTED_META_KEYS
    if not file.is_file():
        raise CheckpointError(file, "no such file")
    if file.stat().st_size == 0:
        raise CheckpointError(file, "0 bytes")
    data = load_weights_only(file, mmap=True)
    missing = [key for key in needed if not isinstance(data, dict) or key not in data]
    if missing:
        raise CheckpointError(file, f"not a training checkpoint: no {', '.join(missing)}")
    if not isinstance(data["global_step"], int):
        raise CheckpointError(file, f"global_step is {type(data['global_step']).__name__}, not int")
    return data["global_step"]


def check_checkpoint_archive(path: str | Path) -> None:
    """`check_archive` of a checkpoint file, or of a distributed checkpoint's ``meta.pt``.

    The shard files of a distributed checkpoint are torch's own format, without checksums. The check
    reads the whole file (CRC-32 runs at ~5 GB/s from the page cache: disk speed bounds it); resuming
    does it twice, when choosing the checkpoint and when Lightning loads it.
    """
    path = Path(path)
    check_archive(path / DISTRIBUTED_META if path.is_dir() else path)


def verify_checkpoint(path: str | Path) -> int:
    """Check a checkpoint completely (`checkpoint_step`, then every CRC-32) and return its step.

    Raises:
        CheckpointError: Saying what is wrong.
    """
    step = checkpoint_step(path)
    check_checkpoint_archive(path)
    return step


def resume_candidates(directory: str | Path) -> list[Path]:
    """The checkpoint files ``resume=auto`` considers, by name (half-written ``.partial`` files never match)."""
    directory = Path(directory)
    return sorted({path for pattern in CANDIDATE_PATTERNS for path in directory.glob(pattern)})


def choose_resume_checkpoint(directory: str | Path) -> Path | None:
    """The verified checkpoint with the highest step in ``directory`` (``last.ckpt`` on a tie), or ``None``.

    Steps are read first (cheap); then candidates are fully verified, newest first, until one passes.
    Every file refused is logged as a warning that names it, says why, and names the file taken.

    Raises:
        CheckpointError: There are candidates but none is usable.
    """
    refused: list[CheckpointError] = []
    ranked: list[tuple[int, bool, Path]] = []
    for path in resume_candidates(directory):
        try:
            ranked.append((checkpoint_step(path), path.name.startswith("last"), path))
        except CheckpointError as error:
            refused.append(error)
    chosen = None
    for step, _, path in sorted(ranked, reverse=True):
        try:
            check_checkpoint_archive(path)
        except CheckpointError as error:
            refused.append(error)
            continue
        chosen = (step, path)
        break
    if chosen is None:
        if refused:
            reasons = "; ".join(str(error) for error in refused)
            raise CheckpointError(directory, f"no usable checkpoint ({reasons}); remove them or set resume=never")
        return None
    step, path = chosen
    for bad in refused:
        log.warning(
            "checkpoint %s is unusable (%s); resuming from %s (step %d) instead", bad.path, bad.reason, path, step
        )
    return path


def check_safe_loading() -> None:
    """Refuse to resume when the environment makes ``torch.load(weights_only=None)`` unpickle anything.

    Lightning's strategies pass ``weights_only=None`` (FSDP2's distributed checkpoints too).
    """
    if os.environ.get(UNSAFE_LOAD_VARIABLE, "0").lower() in ("1", "y", "yes", "true"):
        raise RuntimeError(
            f"{UNSAFE_LOAD_VARIABLE} is set: torch.load would run any code in a checkpoint. "
            f"Unset it; videolmm checkpoints load with weights_only=True"
        )


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def save_atomically(checkpoint: dict[str, Any], target: Path) -> None:
    """Write ``checkpoint`` to ``target`` so that ``target`` is either the old file or the whole new one.

    The bytes go to ``.{name}.partial`` in the same folder, are fsynced, and replace ``target`` by one
    rename; the folder is fsynced so the rename survives a crash of the machine.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "wb") as stream:
            torch.save(checkpoint, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def keep_storage(storage: Any, location: str) -> Any:
    """``map_location`` that keeps every storage where it was saved to load (Lightning's default)."""
    return storage


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO, with atomic local writes and verified, weights-only loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        """`save_atomically` for local paths; object stores (one upload per object) go through Lightning."""
        if storage_options is not None or get_protocol(str(path)) != "file":
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        save_atomically(checkpoint, Path(path))

    def load_checkpoint(
        self, path: Any, map_location: Callable | None = keep_storage, weights_only: bool | None = None
    ) -> dict[str, Any]:
        """`verify_checkpoint` (local files), then load with ``weights_only=True``, whatever the caller asks.

        Raises:
            ValueError: The caller asked for ``weights_only`` set to False.
            CheckpointError: The file fails verification.
        """
        if weights_only is False:
            raise ValueError(f"{path}: videolmm loads checkpoints only with weights_only=True")
        if get_protocol(str(path)) == "file":
            verify_checkpoint(path)
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)


class VerifiedModelCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` that only runs in a Trainer writing and loading through `AtomicCheckpointIO`.

    The checkpoint IO is the Trainer's own (``L.Trainer(plugins=[AtomicCheckpointIO()])``); this
    callback changes nothing, it checks in ``setup``, before any checkpoint is restored or saved.
    """

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Refuse a Trainer whose strategy's checkpoint IO is not `AtomicCheckpointIO`.

        Raises:
            TypeError: Naming the checkpoint IO found and how to pass `AtomicCheckpointIO`.
        """
        super().setup(trainer, pl_module, stage)
        io = trainer.strategy.checkpoint_io
        if not isinstance(io, AtomicCheckpointIO):
            raise TypeError(
                f"VerifiedModelCheckpoint needs a Trainer whose checkpoint IO is AtomicCheckpointIO, got "
                f"{type(io).__name__}: build it with L.Trainer(plugins=[AtomicCheckpointIO()], ...)"
            )
