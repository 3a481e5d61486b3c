"""`ResumableLoader`: a ``DataLoader`` over a `ShardReader` with an exact mid-epoch ``state_dict``.

Every ``iter()`` is one epoch. Batches are collated in the workers and carry the position of the
worker that made them (``batch["_position"]``). A batch counts as consumed when it is committed:
at once (``commit_on_yield=True``) or by the caller once the batch is really used (the DataModule
commits in ``on_before_batch_transfer``, because Lightning fetches one batch ahead). The state is
the committed position of every worker, so ``load_state_dict`` + ``iter()`` continues with exactly
the next sample. The worker count must be the same when resuming. Since a ``DataLoader`` returns
its workers' batches in round robin starting at process 0 (skipping exhausted workers), the
resumed reader maps process ``p`` to logical worker ``(p + next_worker) % num_workers``, where
``next_worker`` follows the last committed batch's worker, so the interleaving continues unchanged.
Workers are not persistent: each epoch starts them with its own seed and positions.

With several ranks each rank has its own state (``state["ranks"]``); a checkpoint written by rank 0
only holds rank 0's, and other ranks refuse to resume from it rather than guess. Gather the states
of all ranks (``merge_loader_states``) to resume a multi-GPU run exactly.

A fresh epoch in which every sample is skipped raises `ValueError` with the counts by reason:
under ``max_epochs=-1`` such epochs would otherwise follow one another forever.
"""

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch.utils.data import DataLoader

from videolmm.data.collate import VideoCollator
from videolmm.data.errors import SKIP_REASONS, ordered_counts
from videolmm.data.reader import ReadItem, ShardReader, WorkerPosition

log = logging.getLogger("videolmm.data")


class PositionedCollate:
    """Collate `ReadItem` lists: the collator's batch plus ``_position`` of the worker that made it."""

    def __init__(self, collator: VideoCollator) -> None:
        self.collator = collator

    def __call__(self, items: Sequence[ReadItem]) -> dict:
        """Collate in the worker; the last item's position covers the whole batch."""
        batch = self.collator([item.sample for item in items])
        last = items[-1]
        batch["_position"] = {
            "worker": last.worker,
            "consumed": last.position.consumed,
            "yielded": last.position.yielded,
            "skipped": list(last.position.skipped),
        }
        return batch


def merge_loader_states(states: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One state holding every rank's positions (from every rank's ``state_dict()``)."""
    merged = dict(states[0])
    merged["ranks"] = {rank: entry for state in states for rank, entry in state["ranks"].items()}
    return merged


class ResumableLoader:
    """Iterate batches of a `ShardReader`, one epoch per ``iter()``, resumable mid-epoch.

    Args:
        dataset: The reader (its rank must be set before iterating).
        collator: Batches samples (padding / packing).
        batch_size: Samples per batch (from one worker).
        num_workers: Loader processes; decoding happens in them.
        commit_on_yield: Count a batch as consumed when it is yielded; else call `commit`.
        on_epoch_end: Called with ``(epoch, skips by reason)`` when an epoch is fully consumed.
        pin_memory: Pin batches for faster host-to-GPU copies.
        prefetch_factor: Batches prefetched per worker (``None``: PyTorch's default).
    """

    def __init__(
        self,
        dataset: ShardReader,
        collator: VideoCollator,
        batch_size: int = 1,
        num_workers: int = 0,
        commit_on_yield: bool = True,
        on_epoch_end: Callable[[int, dict[str, int]], None] | None = None,
        pin_memory: bool = False,
        prefetch_factor: int | None = None,
    ) -> None:
        if batch_size < 1 or num_workers < 0:
            raise ValueError(f"need batch_size >= 1 and num_workers >= 0, got {batch_size}, {num_workers}")
        self.dataset = dataset
        self.collate = PositionedCollate(collator)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.commit_on_yield = bool(commit_on_yield)
        self.on_epoch_end = on_epoch_end
        self.pin_memory = bool(pin_memory)
        self.prefetch_factor = prefetch_factor
        self.epoch = 0
        self._next_epoch = 0
        self._positions: dict[int, WorkerPosition] = {}
        self._next_worker = 0
        self._pending: Mapping[str, Any] | None = None
        self._yielded = self._committed = 0
        self._exhausted = self._completed = False
        self._final: torch.Tensor | None = None

    def _start(self) -> tuple[dict[int, WorkerPosition], int]:
        """Pick this iteration's epoch, resume positions and first worker."""
        resume: dict[int, WorkerPosition] = {}
        first = 0
        if self._pending is not None:
            state, self._pending = self._pending, None
            self.epoch = int(state["epoch"]) + 1 if state["completed"] else int(state["epoch"])
            if not state["completed"]:
                resume, first = self._positions_of(state)
        else:
            self.epoch = self._next_epoch
        self._next_epoch = self.epoch + 1
        self._positions, self._next_worker = dict(resume), first
        self._yielded = self._committed = 0
        self._exhausted = self._completed = False
        return resume, first

    def _positions_of(self, state: Mapping[str, Any]) -> tuple[dict[int, WorkerPosition], int]:
        """This rank's worker positions and the logical worker whose batch comes next."""
        if int(state["num_workers"]) != self.num_workers:
            raise ValueError(
                f"the state was saved with {state['num_workers']} workers, this loader has "
                f"{self.num_workers}: positions are per worker, resume with the same count"
            )
        rank = str(self.dataset.rank)
        if rank not in state["ranks"]:
            raise ValueError(
                f"the state holds loader positions of ranks {sorted(state['ranks'])}, not of rank "
                f"{rank}: gather every rank's state_dict() (merge_loader_states) to resume exactly"
            )
        entry = state["ranks"][rank]
        positions = {
            int(w): WorkerPosition(p["consumed"], p["yielded"], tuple(p["skipped"]))
            for w, p in entry["workers"].items()
        }
        return positions, int(entry["next_worker"])

    def __iter__(self) -> Iterator[dict]:
        resume, first = self._start()
        self._final = torch.zeros(max(1, self.num_workers), 1 + len(SKIP_REASONS), dtype=torch.int64).share_memory_()
        self.dataset.start_epoch(self.epoch, resume, self._final, rotation=first)
        loader = DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=self.collate,
            pin_memory=self.pin_memory,
            prefetch_factor=self.prefetch_factor if self.num_workers else None,
            persistent_workers=False,  # workers must see each epoch's seed and resume positions
        )
        for batch in loader:
            self._yielded += 1
            if self.commit_on_yield:
                self.commit(batch)
            yield batch
        self._exhausted = True
        self._maybe_finish()
        if self._yielded == 0 and not resume:
            self._refuse_empty_epoch()

    def _refuse_empty_epoch(self) -> None:
        """A fresh epoch that yields nothing would repeat forever under ``max_epochs=-1``: stop with the counts."""
        counts = self.skipped
        detail = ", ".join(f"{reason} {n}" for reason, n in counts.items()) or "the shards hold no samples"
        raise ValueError(
            f"epoch {self.epoch} yielded no batch: {sum(counts.values())} samples skipped ({detail}); "
            f"check the data and the config (every sample was refused)"
        )

    def commit(self, batch: dict) -> dict:
        """Mark ``batch`` as consumed (removes ``_position`` from it); returns the batch."""
        position = batch.pop("_position", None)
        if position is None:
            raise ValueError("this batch has no '_position': it was committed already or not made by this loader")
        worker = int(position["worker"])
        self._next_worker = (worker + 1) % max(1, self.num_workers)  # the DataLoader's round robin
        self._positions[worker] = WorkerPosition(
            int(position["consumed"]), int(position["yielded"]), tuple(int(n) for n in position["skipped"])
        )
        self._committed += 1
        self._maybe_finish()
        return batch

    def _maybe_finish(self) -> None:
        if not self._exhausted or self._completed or self._committed < self._yielded:
            return
        self._completed = True
        if self.on_epoch_end is not None:
            self.on_epoch_end(self.epoch, self.skipped)

    @property
    def skipped(self) -> dict[str, int]:
        """Skips by reason in the current epoch, up to the last committed batch (all of them at its end)."""
        counts: Counter[str] = Counter()
        final = self._final if self._completed else None
        for worker in range(max(1, self.num_workers)):
            row: Sequence[int]
            if final is not None and int(final[worker, 0]) == 1:
                row = final[worker, 1:].tolist()
            else:
                row = self._positions.get(worker, WorkerPosition()).skipped
            counts.update(dict(zip(SKIP_REASONS, row, strict=True)))
        return ordered_counts(counts)

    def state_dict(self) -> dict[str, Any]:
        """The committed position of every worker of this rank (JSON-ready)."""
        workers = {
            str(w): {"consumed": p.consumed, "yielded": p.yielded, "skipped": list(p.skipped)}
            for w, p in self._positions.items()
        }
        return {
            "epoch": self.epoch,
            "completed": self._completed,
            "num_workers": self.num_workers,
            "seed": self.dataset.seed,
            "ranks": {str(self.dataset.rank): {"next_worker": self._next_worker, "workers": workers}},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from ``state`` at the next ``iter()``."""
        if int(state["seed"]) != self.dataset.seed:
            log.warning("resuming with seed %s, the state was saved with seed %s", self.dataset.seed, state["seed"])
        self._pending = dict(state)
        self._next_epoch = int(state["epoch"]) + 1
