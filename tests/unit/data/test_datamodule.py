"""The DataModule: loaders over synthetic or given shards, skip counts logged per epoch, exact resume in Lightning."""

import logging

import lightning as L
import pytest
import torch

from tests.unit.data.conftest import BUDGET_GRID, write_samples
from tests.unit.data.test_bad_input import bad_samples
from videolmm.data import (
    ShardPaths,
    SiglipTransform,
    SyntheticShards,
    TemporalBenchmark,
    UniformFrames,
    VideoDataModule,
    VisualBudget,
)
from videolmm.reducers import SpatialPool


def budget() -> VisualBudget:
    return VisualBudget(SpatialPool(stride=2), None, BUDGET_GRID)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> SyntheticShards:
    source = SyntheticShards(
        tmp_path_factory.mktemp("synthetic"), TemporalBenchmark(), train=24, val=8, test=0, samples_per_shard=6
    )
    source.prepare()
    return source


def datamodule(shards, tokenizer, **options) -> VideoDataModule:
    options = {
        "frames": UniformFrames(8),
        "transform": SiglipTransform(16),
        "max_length": 256,
        "batch_size": 4,
        "shuffle_buffer": 8,
        **options,
    }
    return VideoDataModule(shards, tokenizer, budget(), **options)


def test_train_and_val_batches_from_synthetic_shards(synthetic, qwen_tokenizer):
    dm = datamodule(synthetic, qwen_tokenizer)
    dm.prepare_data()
    batch = next(iter(dm.train_dataloader()))
    assert batch["videos"].shape == (4, 8, 3, 16, 16)
    assert batch["num_visual_tokens"].tolist() == [32] * 4  # 8 frames x 2x2 tokens
    assert ((batch["input_ids"] == 151656).sum(1) == 32).all()
    assert "_position" in batch  # committed only when Lightning uses the batch
    dm.on_before_batch_transfer(batch, 0)
    assert "_position" not in batch
    assert dm.train_dataloader().state_dict()["ranks"]["0"]["workers"]["0"]["yielded"] == 4
    val = [key for b in dm.val_dataloader() for key in b["keys"]]
    assert val == [f"val-{i:06d}" for i in range(8)]  # in order, no shuffling
    with pytest.raises(ValueError, match="no 'test' shards"):
        dm.test_dataloader()


def test_skips_are_logged_at_each_epoch_end_and_summed(tmp_path, qwen_tokenizer, caplog):
    samples, expected = bad_samples()
    expected["unreadable_video"] += expected.pop("processing_error")  # b"BOOM" is just unreadable to PyAV
    urls = write_samples(tmp_path, samples, per_shard=6)
    dm = datamodule(ShardPaths(train=urls), qwen_tokenizer, frames=UniformFrames(4), max_length=128)
    loader = dm.train_dataloader()
    with caplog.at_level(logging.INFO, logger="videolmm.data"):
        for epoch in range(2):
            for batch in loader:
                dm.on_before_batch_transfer(batch, 0)
            assert f"train epoch {epoch}: skipped {sum(expected.values())} samples" in caplog.text
    assert "unreadable_video 4" in caplog.text
    assert dm.state_dict()["skipped_totals"]["train"] == {k: 2 * v for k, v in expected.items()}
    fresh = datamodule(ShardPaths(train=urls), qwen_tokenizer)
    fresh.load_state_dict(dm.state_dict())
    assert fresh.skipped_totals == dm.skipped_totals


class KeyRecorder(L.LightningModule):
    """A one-parameter model that records the keys of every batch it trains on."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.seen: list[str] = []

    def training_step(self, batch, batch_idx):
        """Record the keys; a loss that touches the frames."""
        self.seen += batch["keys"]
        return (self.weight * batch["videos"].mean()).sum()

    def configure_optimizers(self):
        """Plain SGD."""
        return torch.optim.SGD(self.parameters(), lr=0.1)


def fit(dm, max_steps, tmp_path, ckpt_path=None) -> tuple[list[str], L.Trainer]:
    model = KeyRecorder()
    trainer = L.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, datamodule=dm, ckpt_path=ckpt_path)
    return model.seen, trainer


@pytest.mark.parametrize("num_workers", [0, 2])
def test_lightning_resumes_mid_epoch_at_the_exact_next_sample(synthetic, qwen_tokenizer, tmp_path, num_workers):
    make = lambda: datamodule(synthetic, qwen_tokenizer, num_workers=num_workers)  # noqa: E731
    straight, _ = fit(make(), 10, tmp_path)  # 6 batches per epoch: crosses an epoch boundary
    first, trainer = fit(make(), 4, tmp_path)
    trainer.save_checkpoint(tmp_path / "step4.ckpt")
    second, _ = fit(make(), 10, tmp_path, ckpt_path=tmp_path / "step4.ckpt")
    assert len(straight) == 40
    assert first + second == straight
