"""Two real processes (gloo): the synchronised results equal one process over every sample."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from tests.unit.eval.conftest import mc, oe
from videolmm.eval import BenchmarkScorer

SAMPLES = [mc("1", "A", qtype="count"), mc("2", "B", benchmark="b2"), oe("3", "yes"), mc("4", "C"), oe("5", "no")]
REPLIES = ["A", "C", "yes", "C", "maybe"]


def _rank(rank: int, world: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        scorer = BenchmarkScorer()
        mine = list(range(rank, len(SAMPLES), world)) if rank == 0 else [1]  # rank 1: one MC sample, no open-ended
        scorer.update([REPLIES[i] for i in mine], [SAMPLES[i] for i in mine])
        torch.save([(r.benchmark, r.group, r.n, r.accuracy) for r in scorer.results().rows], f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_results_are_synchronised_across_ranks(tmp_path):
    init, out = f"file://{tmp_path / 'init'}", str(tmp_path / "rows")
    mp.spawn(_rank, args=(2, init, out), nprocs=2, join=True)
    rank0_ids = [0, 2, 4]
    single = BenchmarkScorer()
    ids = [*rank0_ids, 1]
    single.update([REPLIES[i] for i in ids], [SAMPLES[i] for i in ids])
    expected = [(r.benchmark, r.group, r.n, r.accuracy) for r in single.results().rows]
    assert torch.load(f"{out}.0") == expected
    assert torch.load(f"{out}.1") == expected  # every rank can name every group
