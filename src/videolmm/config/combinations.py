"""Cross-group checks of a ``train`` config: what no single group can know about the others.

Each check instantiates only light objects (the reducer, the separator layout, the frame
sampler, the tokenizer, the LLM's config, the stage), the encoder on the meta device for its
grid and the model on the meta device for the stage; nothing is allocated, no data is read or
generated. Messages say what is wrong, with the numbers, and what would be valid.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_object, instantiate
from omegaconf import DictConfig, OmegaConf

from videolmm.data.conversation import ChatTemplate
from videolmm.data.records import VIDEO_MARKER, Turn
from videolmm.layout import visual_token_count
from videolmm.model.build import build_model
from videolmm.model.videolmm import VideoLMM
from videolmm.shapes import Grid
from videolmm.training.assembly import MODEL_KEYS
from videolmm.training.stage import components
from videolmm.training.strategies import fsdp2

__all__ = [
    "LONG_VIDEO",
    "context_problems",
    "frame_problems",
    "grid_problems",
    "meta_model",
    "runtime_problems",
    "shards_with_fsdp2",
    "stage_problems",
]

LONG_VIDEO = (3 * 60 * 60 * 30, 30.0)
"""``(frames, fps)`` of a 3-hour video: the most frames a sampler can give is what it picks from it."""


def _node(cfg: DictConfig, key: str) -> str:
    """``key=<target>(k=v, ...)`` of a group, for messages."""
    node = cfg[key]
    shown = [str(k) for k in node if not str(k).startswith("_") and not OmegaConf.is_missing(node, k)]
    args = ", ".join(f"{k}={node[k]}" for k in shown)
    return f"{key}={str(node._target_).rpartition('.')[2]}({args})"


def grid_problems(cfg: DictConfig, reducer: Any, grid: Grid) -> list[str]:
    """The reducer must accept the encoder's patch grid."""
    try:
        reducer.num_tokens(reducer.min_frames, grid)
    except ValueError as error:
        return [
            f"{_node(cfg, 'reducer')} cannot reduce the encoder's {grid[0]}x{grid[1]} patch grid ({error}). "
            f"Valid: a reducer that fits {grid[0]}x{grid[1]} patches, or an encoder with a larger grid "
            f"(image_size / patch_size)"
        ]
    return []


def frame_range(sampler: Callable) -> tuple[int, int]:
    """``(fewest, most)`` frames ``sampler`` takes from any video (a 1-frame one and a 3-hour one)."""
    return len(sampler(1, LONG_VIDEO[1])), len(sampler(*LONG_VIDEO))


def frame_problems(cfg: DictConfig, reducer: Any, frames: tuple[int, int]) -> list[str]:
    """The frame sampler must give the reducer at least ``min_frames`` frames."""
    most, needed = frames[1], reducer.min_frames
    if most >= needed:
        return []
    hint = f"frames.num_frames={needed}" if "num_frames" in cfg.frames else f"frames giving >= {needed} frames"
    return [
        f"{_node(cfg, 'frames')} gives at most T={most} frames but {_node(cfg, 'reducer')} needs "
        f"min_frames={needed}: every sample would be skipped (too_few_frames). Valid: {hint}, or a reducer "
        f"needing <= {most} frames"
    ]


def text_floor(cfg: DictConfig) -> int | None:
    """Tokens of the shortest conversation (system prompt, the video marker, an empty reply), or ``None``.

    ``None`` when the data config has no tokenizer of its own (``???``).
    """
    if OmegaConf.is_missing(cfg.data, "tokenizer"):
        return None
    chat = ChatTemplate(
        instantiate(cfg.data.tokenizer),
        cfg.data.system_prompt,
        cfg.data.label_policy,
        cfg.data.placeholder_token,
        max_length=2**62,
    )
    return len(chat.encode([Turn("user", VIDEO_MARKER), Turn("assistant", "")], 0).input_ids)


def llm_context(cfg: DictConfig) -> int | None:
    """The LLM's ``max_position_embeddings`` from its config node, or ``None`` if it has none."""
    if "config" not in cfg.llm or "max_position_embeddings" not in cfg.llm.config:
        return None
    return int(cfg.llm.config.max_position_embeddings)


def context_problems(cfg: DictConfig, reducer: Any, grid: Grid, frames: tuple[int, int]) -> list[str]:
    """The shortest possible sample must fit ``data.max_length`` and the LLM's context."""
    layout = instantiate(cfg.separators)
    fewest = max(frames[0], reducer.min_frames)
    visual = visual_token_count(reducer, layout, fewest, grid)
    text = text_floor(cfg)
    floor = visual + (text or 0)
    what = f"{visual} visual tokens (T={fewest}, {_node(cfg, 'reducer')}, {_node(cfg, 'separators')})"
    what += f" + {text} text tokens = {floor}" if text is not None else ""
    limits = [("data.max_length", int(cfg.data.max_length)), ("llm.config.max_position_embeddings", llm_context(cfg))]
    return [
        f"the shortest sample has {what}, more than {name}={limit}: every sample would be skipped (too_long). "
        f"Valid: {name} >= {floor}, or fewer frames / a reducer keeping fewer tokens"
        for name, limit in limits
        if limit is not None and floor > limit
    ]


def meta_model(cfg: DictConfig) -> VideoLMM:
    """The model ``cfg`` describes, built by `build_model` on the meta device (nothing is allocated)."""
    with torch.device("meta"):
        return build_model(OmegaConf.masked_copy(cfg, list(MODEL_KEYS)))


def stage_problems(cfg: DictConfig) -> list[str]:
    """The stage must fit the model (`Stage.unmatched_components`, built on the meta device) and train something."""
    stage = instantiate(cfg.stage)
    try:
        model = meta_model(cfg)
    except Exception as error:  # a component's own check (widths, a package it needs)
        return [f"the model cannot be built on the meta device: {type(error).__name__}: {error}"]
    present = sorted(components(model))
    problems = []
    missing, unknown = stage.unmatched_components(model)
    if unknown or missing:
        problems.append(
            f"stage={stage.name} names {sorted(stage.trainable)}: unknown {unknown}, missing {missing}. Valid: "
            f"stage.trainable names each of {present} (components with parameters), and only "
            f"{[name for name, _ in model.named_children()]}"
        )
    training = int(cfg.trainer.max_steps) != 0
    if training and not any(stage.trainable.get(name, False) for name in present):
        problems.append(
            f"stage={stage.name} trains none of {sorted(present)}, but trainer.max_steps={cfg.trainer.max_steps}. "
            f"Valid: a stage training at least one of them (e.g. stage=full or stage=align), or trainer.max_steps=0"
        )
    return problems


def shards_with_fsdp2(cfg: DictConfig) -> bool:
    """Whether the strategy group builds the FSDP2 strategy (parameters sharded over processes)."""
    return get_object(str(cfg.strategy._target_)) is fsdp2


def runtime_problems(cfg: DictConfig) -> list[str]:
    """FSDP2 on the CPU needs an explicit data-parallel size; an explicit resume path must exist."""
    problems = []
    cpu_fsdp2 = str(cfg.trainer.accelerator) == "cpu" and shards_with_fsdp2(cfg)
    if cpu_fsdp2 and cfg.strategy.data_parallel_size == "auto":  # Lightning's "auto" counts GPUs only
        processes = f"{cfg.trainer.devices} x {cfg.trainer.num_nodes}"
        problems.append(
            f"{_node(cfg, 'strategy')} (FSDP2) on the CPU needs strategy.data_parallel_size set to the number of "
            f"processes (trainer.devices x trainer.num_nodes = {processes}); 'auto' counts GPUs only"
        )
    resume = cfg.resume
    if resume not in (None, "auto", "never") and not Path(str(resume)).exists():
        problems.append(f"resume={resume}: no such checkpoint. Valid: auto, never, or the path of a checkpoint")
    return problems
