"""From a composed ``train`` config to the objects of a run: data, module, trainer, resume point.

Every piece is built explicitly from its config group (no registry lookups, no name sniffing);
`videolmm.cli.train` calls these in order. Components are not built here, except the encoder on
the meta device to read its patch grid (no memory, no weights).
"""

import inspect
import logging
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from videolmm.data.datamodule import VideoDataModule
from videolmm.data.sample import VisualBudget
from videolmm.data.transforms import FrameTransform, check_transform, transform_from
from videolmm.model.videolmm import VideoLMM
from videolmm.preprocessing import Preprocessing
from videolmm.shapes import Grid
from videolmm.training.checkpoints import (
    AtomicCheckpointIO,
    check_safe_loading,
    choose_resume_checkpoint,
    verify_checkpoint,
)
from videolmm.training.module import VideoLMMModule

log = logging.getLogger("videolmm.train")

MODEL_KEYS = tuple(inspect.signature(VideoLMM).parameters)
"""The part of the ``train`` config that `videolmm.model.build_model` reads: one key per `VideoLMM` argument."""


def meta_encoder(cfg: DictConfig) -> Any:
    """The encoder of ``cfg.encoder`` built on the meta device (its shapes and declarations, no memory)."""
    with torch.device("meta"):
        return instantiate(cfg.encoder)


def encoder_grid(cfg: DictConfig) -> Grid:
    """The encoder's patch grid, from a meta-device build (nothing is allocated)."""
    encoder = meta_encoder(cfg)
    return encoder.grid(encoder.image_size)


def encoder_preprocessing(cfg: DictConfig) -> Preprocessing:
    """The encoder's declared preprocessing, from a meta-device build (nothing is allocated)."""
    return meta_encoder(cfg).preprocessing


def data_transform(cfg: DictConfig) -> FrameTransform:
    """The frame transform of ``cfg.data``: the encoder's preprocessing, or a configured transform that matches it.

    Raises:
        ValueError: ``data.transform`` is set and preprocesses otherwise than the encoder declares.
    """
    preprocessing = encoder_preprocessing(cfg)
    if OmegaConf.is_missing(cfg.data, "transform"):
        return transform_from(preprocessing)
    transform = instantiate(cfg.data.transform)
    try:
        check_transform(transform, preprocessing)
    except (TypeError, ValueError) as error:
        raise ValueError(f"data.transform does not fit encoder {cfg.encoder._target_}: {error}") from error
    return transform


def build_datamodule(cfg: DictConfig) -> VideoDataModule:
    """The DataModule of ``cfg.data``, with the model's visual budget; checks the placeholder id."""
    budget = VisualBudget(instantiate(cfg.reducer), instantiate(cfg.separators), encoder_grid(cfg))
    data = instantiate(cfg.data, budget=budget, transform=data_transform(cfg))
    placeholder = data.processor.chat.placeholder_id
    if placeholder != cfg.video_token_id:
        raise ValueError(
            f"video_token_id={cfg.video_token_id} but the data tokenizer's {cfg.data.placeholder_token} is "
            f"{placeholder}: set video_token_id={placeholder}"
        )
    return data


def build_module(cfg: DictConfig) -> VideoLMMModule:
    """The LightningModule; the model itself is built later, in ``configure_model``."""
    return VideoLMMModule(
        model=OmegaConf.masked_copy(cfg, list(MODEL_KEYS)),
        stage=instantiate(cfg.stage),
        optimizer=instantiate(cfg.optim),
        scheduler=instantiate(cfg.scheduler),
        init=instantiate(cfg.init),
        **cfg.module,
    )


def build_callbacks(cfg: DictConfig) -> list[L.Callback]:
    """One callback per entry of ``cfg.callbacks`` (the ``callbacks/<name>`` groups), in the config's order."""
    return [instantiate(node) for node in cfg.callbacks.values()]


def build_trainer(cfg: DictConfig) -> L.Trainer:
    """The Trainer of ``cfg.trainer`` with the run's strategy, logger and callbacks.

    Checkpoints are written and loaded through `AtomicCheckpointIO` (atomic writes, verified
    weights-only loads, see `videolmm.training.checkpoints`), the Trainer's checkpoint IO plugin.
    """
    return instantiate(
        cfg.trainer,
        strategy=instantiate(cfg.strategy),
        plugins=[AtomicCheckpointIO()],
        callbacks=build_callbacks(cfg),
        logger=instantiate(cfg.logger),
        default_root_dir=Path(cfg.run_dir),
    )


def fit(cfg: DictConfig) -> tuple[VideoLMMModule, VideoDataModule, L.Trainer]:
    """Seed, build, and train (resuming as ``cfg.resume`` says)."""
    L.seed_everything(cfg.seed, workers=True)
    data = build_datamodule(cfg)
    module = build_module(cfg)
    trainer = build_trainer(cfg)
    trainer.fit(module, datamodule=data, ckpt_path=resume_checkpoint(cfg))
    return module, data, trainer


def resume_checkpoint(cfg: DictConfig) -> str | None:
    """The checkpoint to resume from, verified (see `videolmm.training.checkpoints`).

    ``resume=auto`` takes the verified checkpoint with the highest step in the checkpoint callback's
    ``dirpath`` (``run_dir/checkpoints`` by default, or when no checkpoint callback is configured)
    (``last.ckpt`` unless it is damaged or older), warning about every file it refuses; a path given
    explicitly must pass verification itself.

    Raises:
        FileNotFoundError: An explicit path that does not exist.
        CheckpointError: An explicit checkpoint, or every candidate of ``auto``, is unusable.
    """
    if cfg.resume in (None, "never"):
        return None
    if cfg.resume == "auto":
        folder = OmegaConf.select(cfg, "callbacks.checkpoint.dirpath", default=str(Path(cfg.run_dir) / "checkpoints"))
        chosen = choose_resume_checkpoint(Path(folder))
    else:
        chosen = Path(cfg.resume)
        if not chosen.exists():
            raise FileNotFoundError(f"resume={cfg.resume}: no such checkpoint")
        verify_checkpoint(chosen)
    if chosen is None:
        return None
    check_safe_loading()
    log.info("resuming from %s", chosen)
    return str(chosen)
