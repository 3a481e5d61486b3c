"""The shard reader: deterministic per epoch and seed, split by rank and worker, resumable mid-epoch."""

import itertools

import numpy as np
import pytest

from videolmm.data import ResumableLoader, ShardReader, VideoCollator, shuffle_buffer

ALL = [f"s{i:03d}" for i in range(40)]


def loader(urls, processor, num_workers=0, batch_size=3, **options) -> ResumableLoader:
    options = {"shuffle_buffer": 10, "seed": 5, **options}
    return ResumableLoader(ShardReader(urls, processor, **options), VideoCollator(0), batch_size, num_workers)


def keys(iterable, batches: int | None = None) -> list[str]:
    """Keys of the first ``batches`` batches (all if None); never fetches a batch it does not use."""
    return [key for batch in itertools.islice(iterable, batches) for key in batch["keys"]]


def test_an_epoch_is_a_pure_function_of_seed_and_epoch(shard_urls, processor):
    first = loader(shard_urls, processor)
    epoch0, epoch1 = keys(first), keys(first)
    assert sorted(epoch0) == sorted(epoch1) == ALL
    assert epoch0 != epoch1
    assert epoch0 != ALL
    again = loader(shard_urls, processor)
    assert (keys(again), keys(again)) == (epoch0, epoch1)
    assert keys(loader(shard_urls, processor, seed=6)) != epoch0


def test_without_shuffling_samples_come_in_shard_order(shard_urls, processor):
    assert keys(loader(shard_urls, processor, shuffle_buffer=0, shuffle_shards=False)) == ALL


def test_ranks_and_workers_split_the_shards_without_overlap(shard_urls, processor):
    parts = []
    for rank in range(2):
        reader = ShardReader(shard_urls, processor, seed=1)
        reader.set_distributed(rank, 2)
        parts += [reader.worker_shards(worker, 2) for worker in range(2)]
    assert sorted(url for part in parts for url in part) == sorted(shard_urls)
    assert [len(p) for p in parts] == [2, 1, 1, 1]  # 5 shards: rank 0 gets 3, rank 1 gets 2
    with pytest.raises(ValueError, match="5 shards cannot be split over 8 ranks"):
        ShardReader(shard_urls, processor).set_distributed(0, 8)


def test_resampling_draws_shards_with_replacement_for_samples_per_epoch(shard_urls, processor):
    resampled = loader(shard_urls, processor, resampled=True, samples_per_epoch=12)
    epoch0 = keys(resampled)
    assert len(epoch0) == 12
    assert set(epoch0) <= set(ALL)
    assert keys(loader(shard_urls, processor, resampled=True, samples_per_epoch=12)) == epoch0
    with pytest.raises(ValueError, match="samples_per_epoch"):
        ShardReader(shard_urls, processor, resampled=True)


@pytest.mark.parametrize("cut", [1, 6, 13])
def test_resume_continues_with_the_exact_next_sample(shard_urls, processor, cut):
    reference = loader(shard_urls, processor)
    keys(reference)  # epoch 0
    expected = keys(reference)  # epoch 1
    interrupted = loader(shard_urls, processor)
    keys(interrupted)
    seen = keys(interrupted, batches=cut)  # epoch 1, stopped after `cut` batches
    resumed = loader(shard_urls, processor)
    resumed.load_state_dict(interrupted.state_dict())
    assert seen + keys(resumed) == expected
    assert resumed.epoch == 1
    assert keys(resumed) != expected


def test_resume_with_two_workers_and_uneven_shards(shard_urls, processor):
    expected = keys(loader(shard_urls, processor, num_workers=2))
    interrupted = loader(shard_urls, processor, num_workers=2)
    seen = keys(interrupted, batches=9)  # worker 0 reads 3 shards, worker 1 two: 1 runs out first
    resumed = loader(shard_urls, processor, num_workers=2)
    resumed.load_state_dict(interrupted.state_dict())
    assert seen + keys(resumed) == expected
    assert sorted(expected) == ALL


@pytest.mark.slow
@pytest.mark.parametrize("cut", [1, 2, 5, 10, 12, 13])
def test_resume_with_two_workers_at_many_points(shard_urls, processor, cut):
    expected = keys(loader(shard_urls, processor, num_workers=2, batch_size=2))
    interrupted = loader(shard_urls, processor, num_workers=2, batch_size=2)
    seen = keys(interrupted, batches=cut)
    resumed = loader(shard_urls, processor, num_workers=2, batch_size=2)
    resumed.load_state_dict(interrupted.state_dict())
    assert seen + keys(resumed) == expected


def test_a_completed_epoch_resumes_at_the_next_epoch(shard_urls, processor):
    reference = loader(shard_urls, processor)
    keys(reference)
    state = reference.state_dict()
    assert state["completed"]
    assert state["epoch"] == 0
    resumed = loader(shard_urls, processor)
    resumed.load_state_dict(state)
    assert keys(resumed) == keys(reference)  # both epoch 1


def test_resume_refuses_another_worker_count_or_rank(shard_urls, processor):
    interrupted = loader(shard_urls, processor)
    keys(interrupted, batches=2)
    state = interrupted.state_dict()
    other = loader(shard_urls, processor, num_workers=2)
    other.load_state_dict(state)
    with pytest.raises(ValueError, match="saved with 0 workers"):
        next(iter(other))
    rank1 = loader(shard_urls, processor)
    rank1.dataset.set_distributed(1, 2)
    rank1.load_state_dict(state)
    with pytest.raises(ValueError, match="not of rank 1"):
        next(iter(rank1))


def test_shuffle_buffer_permutes_without_loss_and_deterministically():
    items = list(range(100))
    once = list(shuffle_buffer(iter(items), 10, np.random.default_rng(0)))
    assert sorted(once) == items
    assert once != items
    assert once == list(shuffle_buffer(iter(items), 10, np.random.default_rng(0)))
    assert list(shuffle_buffer(iter(items), 1, np.random.default_rng(0))) == items
