"""The Trainer of a composed ``train`` config: callbacks from the ``callbacks/*`` groups, atomic checkpoint IO."""

from pathlib import Path

import lightning as L
import pytest
from hydra import compose, initialize_config_module
from lightning.pytorch.callbacks import LearningRateMonitor
from omegaconf import DictConfig

from videolmm.training.assembly import build_callbacks, build_trainer
from videolmm.training.callbacks import GatherLoaderStates, ThroughputMonitor
from videolmm.training.checkpoints import AtomicCheckpointIO, VerifiedModelCheckpoint
from videolmm.training.compile import CompileBlocks


def train_config(run_dir: Path, *overrides: str) -> DictConfig:
    """The ``train`` config with command-line ``overrides``, as ``videolmm-train`` composes it."""
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(config_name="train", overrides=[f"run_dir={run_dir}", *overrides])


def test_default_callbacks_are_the_checkpoint_loader_states_throughput_and_lr_monitor(tmp_path):
    cfg = train_config(tmp_path, "checkpoint.every_n_train_steps=7", "checkpoint.keep=3", "log.throughput_window=4")
    checkpoint, loader_states, throughput, lr_monitor = build_callbacks(cfg)
    assert type(checkpoint) is VerifiedModelCheckpoint
    assert Path(checkpoint.dirpath) == tmp_path / "checkpoints"
    assert (checkpoint.filename, checkpoint.monitor, checkpoint.mode) == ("step-{step:07d}", "step", "max")
    assert (checkpoint._every_n_train_steps, checkpoint.save_top_k, checkpoint.save_last) == (7, 3, True)
    assert (checkpoint.auto_insert_metric_name, checkpoint._enable_version_counter) == (False, False)
    assert [type(loader_states), type(throughput), type(lr_monitor)] == [
        GatherLoaderStates,
        ThroughputMonitor,
        LearningRateMonitor,
    ]
    assert (throughput.window, lr_monitor.logging_interval) == (4, "step")


def test_compile_blocks_is_added_from_the_command_line(tmp_path):
    cfg = train_config(tmp_path, "+callbacks/compile_blocks=default", "callbacks.compile_blocks.backend=aot_eager")
    trainer = build_trainer(cfg)
    assert [c.backend for c in trainer.callbacks if isinstance(c, CompileBlocks)] == ["aot_eager"]
    assert [type(c) for c in build_callbacks(cfg)][-1] is CompileBlocks  # after the default set


def test_a_callback_is_dropped_from_the_command_line(tmp_path):
    cfg = train_config(tmp_path, "~callbacks/throughput")
    assert list(cfg.callbacks) == ["checkpoint", "loader_states", "lr_monitor"]
    assert not any(isinstance(c, ThroughputMonitor) for c in build_trainer(cfg).callbacks)


@pytest.mark.parametrize("strategy", ["auto", "ddp", "fsdp2"])
def test_trainer_checkpoint_io_is_atomic_before_any_callback_runs(strategy, tmp_path):
    trainer = build_trainer(train_config(tmp_path, f"strategy={strategy}"))
    assert type(trainer.strategy.checkpoint_io) is AtomicCheckpointIO


def test_checkpoint_callback_refuses_a_trainer_without_atomic_io(tmp_path):
    trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_progress_bar=False)
    callback = VerifiedModelCheckpoint(dirpath=tmp_path)
    with pytest.raises(TypeError, match="checkpoint IO is AtomicCheckpointIO, got TorchCheckpointIO"):
        callback.setup(trainer, L.LightningModule(), "fit")
