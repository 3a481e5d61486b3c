"""Load: the loader with 2 workers over a mix of good and bad samples leaks neither memory nor file descriptors.

Measured on Linux from ``/proc``: the resident set (``VmRSS``) and the open descriptors
(``/proc/<pid>/fd``) of the main process across many epochs (each epoch starts and stops its two
workers), and of each worker across one long epoch. Tolerances are stated next to the assertions.
"""

import os
from pathlib import Path

import pytest

from tests.reliability.conftest import write_shards
from videolmm.data import ResumableLoader, ShardReader, VideoCollator

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")]

EPOCHS = 40
MAIN_RSS_TOLERANCE = 24 * 2**20  # bytes the main process may grow over EPOCHS epochs (allocator noise)
WORKER_RSS_TOLERANCE = 24 * 2**20  # bytes a worker may grow between its 10th and its last batch
WORKER_FD_TOLERANCE = 32  # descriptors held for the batches a worker has in flight (measured range: 17)
MAIN_FD_TOLERANCE = 2  # a worker of the last epoch may still be shutting down (a leak would add >= EPOCHS)
LONG_EPOCH = 2400  # samples per epoch of the resampled run (1200 per worker, 600 batches)


def rss(pid: int | str = "self") -> int:
    """Resident set size in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def open_descriptors(pid: int | str = "self") -> int:
    """Open file descriptors."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def children() -> list[int]:
    """Pids of this process's children (the loader workers while an epoch runs)."""
    pid = os.getpid()
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


@pytest.fixture
def mixed_shards(tmp_path, good_samples) -> tuple[list[Path], int, int]:
    """4 shards of 12 samples: two thirds good, one third bad of several kinds; returns (urls, good, bad)."""
    samples = []
    bad_kinds = [b"not a video" * 20, b"", None, b"\x00" * 4096]
    for i in range(48):
        _, members = good_samples[i % len(good_samples)]
        members = dict(members)
        if i % 3 == 2:
            kind = bad_kinds[(i // 3) % len(bad_kinds)]
            if kind is None:
                members["json"] = b"{broken"
            else:
                members["mp4"] = kind
        samples.append((f"mix-{i:04d}", members))
    return write_shards(tmp_path, samples, per_shard=12), 32, 16


def loader(urls, processor, **reader_options) -> ResumableLoader:
    """The real loader with 2 workers."""
    reader = ShardReader([str(u) for u in urls], processor, **reader_options)
    reader.set_distributed(0, 1)
    return ResumableLoader(reader, VideoCollator(processor.chat.im_end), batch_size=4, num_workers=2)


def test_many_epochs_with_two_workers_leak_no_memory_or_descriptors_in_the_main_process(mixed_shards, processor):
    urls, good, bad = mixed_shards
    epochs = loader(urls, processor, shuffle_buffer=8)
    counted = [sum(len(batch["keys"]) for batch in epochs)]  # warm-up: imports, allocator pools, first workers
    skipped = epochs.skipped
    assert sum(skipped.values()) == bad
    start_rss, start_fds = rss(), open_descriptors()
    for _ in range(EPOCHS):
        counted.append(sum(len(batch["keys"]) for batch in epochs))
        assert epochs.skipped == skipped  # every bad sample counted, every epoch
    end_rss, end_fds = rss(), open_descriptors()
    assert counted == [good] * (EPOCHS + 1)
    assert end_fds - start_fds <= MAIN_FD_TOLERANCE, (start_fds, end_fds)  # worker pipes and shard files closed
    assert end_rss - start_rss < MAIN_RSS_TOLERANCE, (start_rss, end_rss)
    assert children() == []  # no worker outlives its epoch


def test_a_long_epoch_does_not_grow_the_workers(mixed_shards, processor):
    urls, _, _ = mixed_shards
    epoch = loader(urls, processor, resampled=True, samples_per_epoch=LONG_EPOCH)
    early: dict[int, int] = {}
    samples = 0
    for number, batch in enumerate(epoch):
        samples += len(batch["keys"])
        if number == 10:
            workers = children()
            assert len(workers) == 2
            early = {pid: rss(pid) for pid in workers}
            early_fds = {pid: open_descriptors(pid) for pid in workers}
        if number == LONG_EPOCH // 4 - 30:  # near the end, while both workers still run
            late = {pid: rss(pid) for pid in early}
            late_fds = {pid: open_descriptors(pid) for pid in early}
    assert samples == LONG_EPOCH
    for pid in early:
        assert late[pid] - early[pid] < WORKER_RSS_TOLERANCE, (pid, early[pid], late[pid])
        # a worker's descriptors move with the shared-memory tensors of its prefetched batches (a few per
        # batch in flight); a leak of even one per batch would add hundreds over the ~500 batches between
        assert late_fds[pid] - early_fds[pid] <= WORKER_FD_TOLERANCE, (pid, early_fds[pid], late_fds[pid])
