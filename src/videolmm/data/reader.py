"""`ShardReader`: an ``IterableDataset`` over WebDataset shards, deterministic per epoch and resumable.

Per epoch and seed, each loader worker of each rank runs the same pipeline:

1. shards: shuffled with ``(seed, epoch)`` (the same order on every rank), then split by rank
   (``order[rank::world_size]``) and by worker (``[worker::num_workers]``). With ``resampled``, each
   worker instead draws shards with replacement from an rng of ``(seed, epoch, rank, worker)``
   forever, and ``samples_per_epoch`` ends the epoch.
2. raw samples (bytes, nothing decoded) pass a shuffle buffer driven by ``(seed, epoch, rank, worker)``.
3. each raw sample is decoded in the worker by the `SampleProcessor`; a `BadSampleError` is counted by
   reason (or raised in strict mode) and the worker goes on.

Every yielded `ReadItem` carries its worker's position: raw samples consumed so far, samples
yielded, and skips by reason. Resuming replays a worker's raw stream (tar reads, no decoding) past
its consumed count, so the next sample is exactly the one that would have come next.
"""

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from videolmm.data.errors import SKIP_REASONS, BadSampleError, SkipCounter
from videolmm.data.sample import SampleProcessor, VideoSample
from videolmm.data.shards import RawSample, expand_urls, read_shard


@dataclass(frozen=True)
class WorkerPosition:
    """How far one worker has gone in the current epoch.

    Attributes:
        consumed: Raw samples taken from the shuffled stream (yielded or skipped).
        yielded: Samples yielded.
        skipped: Skips by reason, aligned with `SKIP_REASONS`.
    """

    consumed: int = 0
    yielded: int = 0
    skipped: tuple[int, ...] = (0,) * len(SKIP_REASONS)


@dataclass(frozen=True)
class ReadItem:
    """A sample and the position of the worker right after it."""

    sample: VideoSample
    worker: int
    position: WorkerPosition


def shuffle_buffer(items: Iterator[RawSample], size: int, rng: np.random.Generator) -> Iterator[RawSample]:
    """Reservoir-style shuffle: fill ``size`` items, then emit a random one for each new item, then drain."""
    if size <= 1:
        yield from items
        return
    buffer: list[RawSample] = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        i = int(rng.integers(len(buffer)))
        buffer[i], item = item, buffer[i]
        yield item
    while buffer:
        yield buffer.pop(int(rng.integers(len(buffer))))


class ShardReader(IterableDataset):
    """Samples from WebDataset shards (see the module docstring).

    Args:
        urls: Shard paths or URLs, brace patterns allowed.
        processor: Decodes and tokenises one sample (runs in the workers).
        train: Training mode (random frame sampling where the sampler has it).
        shuffle_shards: Shuffle the shard order every epoch.
        shuffle_buffer: Raw samples held for shuffling (they are undecoded bytes; keep it small for
            long videos); 0 or 1 keeps the shard order.
        resampled: Draw shards with replacement forever (needs ``samples_per_epoch``).
        samples_per_epoch: Samples per epoch and rank, split over the workers; ``None``: one pass.
        seed: Base seed of every random choice.
        strict: Raise on the first bad sample instead of counting it.
    """

    def __init__(
        self,
        urls: str | Sequence[str],
        processor: SampleProcessor,
        train: bool = True,
        shuffle_shards: bool = True,
        shuffle_buffer: int = 0,
        resampled: bool = False,
        samples_per_epoch: int | None = None,
        seed: int = 0,
        strict: bool = False,
    ) -> None:
        super().__init__()
        if resampled and not samples_per_epoch:
            raise ValueError("resampled=True draws shards forever: set samples_per_epoch")
        self.urls = expand_urls(urls)
        self.processor = processor
        self.train = bool(train)
        self.shuffle_shards = bool(shuffle_shards)
        self.shuffle_buffer = int(shuffle_buffer)
        self.resampled = bool(resampled)
        self.samples_per_epoch = samples_per_epoch
        self.seed = int(seed)
        self.strict = bool(strict)
        self.rank, self.world_size = 0, 1
        self.epoch = 0
        self.resume: dict[int, WorkerPosition] = {}
        self.rotation = 0
        self.final_counts: torch.Tensor | None = None

    def set_distributed(self, rank: int, world_size: int) -> None:
        """This process's rank among ``world_size`` (set by the DataModule; no torch.distributed here)."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, {world_size})")
        if not self.resampled and len(self.urls) < world_size:
            raise ValueError(f"{len(self.urls)} shards cannot be split over {world_size} ranks; use resampled=True")
        self.rank, self.world_size = int(rank), int(world_size)

    def start_epoch(
        self, epoch: int, resume: dict[int, WorkerPosition], final_counts: torch.Tensor, rotation: int = 0
    ) -> None:
        """Set the epoch, the positions to resume from and the shared (workers, 1 + reasons) count table.

        ``rotation`` maps loader process ``p`` to logical worker ``(p + rotation) % num_workers``, so that a
        resumed ``DataLoader``, which always starts its round robin at process 0, starts at the logical
        worker whose batch comes next.
        """
        self.epoch, self.resume, self.final_counts, self.rotation = int(epoch), dict(resume), final_counts, rotation

    def worker_shards(self, worker: int, num_workers: int) -> list[str]:
        """The shards a worker reads this epoch (without resampling)."""
        order = list(self.urls)
        if self.shuffle_shards:
            order = [order[i] for i in np.random.default_rng([self.seed, self.epoch]).permutation(len(order))]
        return order[self.rank :: self.world_size][worker::num_workers]

    def raw_stream(self, worker: int, num_workers: int) -> Iterator[RawSample]:
        """The worker's raw samples for this epoch, shuffled, undecoded."""
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker])
        if self.resampled:
            draws = iter(lambda: self.urls[int(rng.integers(len(self.urls)))], None)
            stream = (raw for url in draws for raw in read_shard(url))
        else:
            stream = (raw for url in self.worker_shards(worker, num_workers) for raw in read_shard(url))
        return shuffle_buffer(stream, self.shuffle_buffer, rng)

    def _limit(self, worker: int, num_workers: int) -> int | None:
        if not self.samples_per_epoch:
            return None
        share, extra = divmod(int(self.samples_per_epoch), num_workers)
        return share + (worker < extra)

    def sample_rng(self, key: str) -> np.random.Generator:
        """The rng of one sample's random choices (frame jitter): ``(seed, epoch, crc32(key))``."""
        return np.random.default_rng([self.seed, self.epoch, zlib.crc32(key.encode())])

    def _process(self, raw: RawSample, counter: SkipCounter) -> VideoSample | None:
        try:
            if raw.error is not None:
                raise raw.error
            return self.processor.from_shard(raw.members, raw.key, rng=self.sample_rng(raw.key), train=self.train)
        except BadSampleError as error:
            counter.skip(error if error.key else error.with_key(raw.key))
        except Exception as error:  # a worker never dies on one sample; the count says what happened
            counter.skip(BadSampleError("processing_error", f"{type(error).__name__}: {error}", raw.key))
        return None

    def __iter__(self) -> Iterator[ReadItem]:
        info = get_worker_info()
        worker, num_workers = ((info.id + self.rotation) % info.num_workers, info.num_workers) if info else (0, 1)
        start = self.resume.get(worker, WorkerPosition())
        counter = SkipCounter(self.strict)
        counter.counts.update({r: n for r, n in zip(SKIP_REASONS, start.skipped, strict=True) if n})
        consumed, yielded, limit = 0, start.yielded, self._limit(worker, num_workers)
        for raw in self.raw_stream(worker, num_workers):
            if limit is not None and yielded >= limit:
                break
            consumed += 1
            if consumed <= start.consumed:
                continue  # replaying up to the resume point: tar reads only, nothing decoded
            sample = self._process(raw, counter)
            if sample is not None:
                yielded += 1
                skipped = tuple(counter.counts[r] for r in SKIP_REASONS)
                yield ReadItem(sample, worker, WorkerPosition(consumed, yielded, skipped))
        if self.final_counts is not None:  # the skips after the last yielded sample reach the loader this way
            self.final_counts[worker, 1:] = torch.tensor([counter.counts[r] for r in SKIP_REASONS])
            self.final_counts[worker, 0] = 1
