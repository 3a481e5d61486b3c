"""Run ``videolmm-train``'s real ``main`` with one fault injected, then die by SIGKILL (a test helper).

Usage: ``python fault_train.py OVERRIDES...`` with one of these environment variables:

``FAULT_KILL_AT_STEP=N``
    SIGKILL at the end of optimizer step N, in the middle of training (a callback added to the
    trainer the real ``build_trainer`` makes).
``FAULT_KILL_IN_WRITE=K:B``
    SIGKILL while the K-th checkpoint file (1-based) is being written, once B bytes of it are on
    disk: a file-system hook on the saver's ``open`` lets exactly B bytes through, then kills.
``FAULT_KILL_BEFORE_RENAME=K``
    SIGKILL once the K-th checkpoint file is completely written, just before it replaces its target.

The saver, the trainer and the checkpoint logic run unchanged; only the process dies, as a kill
from outside (OOM killer, pre-emption, ``kill -9``) would make it.
"""

import builtins
import os
import signal
import sys

import lightning as L

PARTIAL = ".partial"
"""The suffix `videolmm.training.checkpoints.save_atomically` writes under before the rename."""


def die() -> None:
    """SIGKILL this process: no handler, no flush, no clean-up runs."""
    os.kill(os.getpid(), signal.SIGKILL)


class KillAtStep(L.Callback):
    """SIGKILL at the end of optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        """Die once ``global_step`` reaches ``step``."""
        if trainer.global_step >= self.step:
            die()


class CutOffFile:
    """A file that lets ``limit`` bytes through, flushes them to disk, then kills the process."""

    def __init__(self, stream, limit: int) -> None:
        self.stream, self.limit, self.written = stream, limit, 0

    def write(self, data) -> int:
        """Write up to the limit; at the limit, flush, fsync and die."""
        room = self.limit - self.written
        if len(data) >= room:
            self.stream.write(bytes(data[:room]))
            self.stream.flush()
            os.fsync(self.stream.fileno())
            die()
        self.written += len(data)
        return self.stream.write(data)

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()


def hook_writes(target: int, limit: int) -> None:
    """Wrap the ``target``-th checkpoint file opened for writing in a `CutOffFile`."""
    real_open, count = builtins.open, [0]

    def open_(file, mode="r", *args, **kwargs):
        stream = real_open(file, mode, *args, **kwargs)
        if str(file).endswith(PARTIAL) and "w" in mode:
            count[0] += 1
            if count[0] == target:
                return CutOffFile(stream, limit)
        return stream

    builtins.open = open_


def hook_renames(target: int) -> None:
    """Die instead of the ``target``-th rename of a complete checkpoint file onto its name."""
    real_replace, count = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        if str(src).endswith(PARTIAL):
            count[0] += 1
            if count[0] == target:
                die()
        return real_replace(src, dst, *args, **kwargs)

    os.replace = replace


def hook_steps(step: int) -> None:
    """Add `KillAtStep` to the trainer the real ``build_trainer`` returns."""
    from videolmm.training import assembly

    build_trainer = assembly.build_trainer

    def with_fault(cfg):
        trainer = build_trainer(cfg)
        trainer.callbacks.append(KillAtStep(step))
        return trainer

    assembly.build_trainer = with_fault


def main() -> None:
    """Install the fault the environment names, then run ``videolmm-train`` on ``sys.argv``."""
    if "FAULT_KILL_AT_STEP" in os.environ:
        hook_steps(int(os.environ["FAULT_KILL_AT_STEP"]))
    if "FAULT_KILL_IN_WRITE" in os.environ:
        target, limit = os.environ["FAULT_KILL_IN_WRITE"].split(":")
        hook_writes(int(target), int(limit))
    if "FAULT_KILL_BEFORE_RENAME" in os.environ:
        hook_renames(int(os.environ["FAULT_KILL_BEFORE_RENAME"]))
    from videolmm.cli.train import main as train

    sys.argv[0] = "videolmm-train"
    train()


if __name__ == "__main__":
    main()
