"""Start-up validation of a ``train`` config: every mistake found before any data or model is built.

`train_config_problems` lists what is wrong (types and unknown keys first, see
`videolmm.config.targets`; then the cross-group checks of `videolmm.config.combinations`);
`exit_on_invalid_config` prints the list and exits with status 2, without a traceback, so that a
user's config mistake reads as one. ``videolmm-train`` calls it first thing in ``main``.
"""

import sys
from collections.abc import Callable
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from videolmm.config.combinations import (
    context_problems,
    frame_problems,
    frame_range,
    grid_problems,
    meta_model,
    runtime_problems,
    shards_with_fsdp2,
    stage_problems,
)
from videolmm.config.targets import binding_problems, target_problems, type_problem
from videolmm.training.assembly import data_transform, encoder_grid
from videolmm.training.module import VideoLMMModule

__all__ = ["MODULE_GIVEN", "SUPPLIED", "TRAIN_SCALARS", "exit_on_invalid_config", "train_config_problems"]

# SUPPLIED and MODULE_GIVEN are kept by hand: the builders pass these as keyword arguments in their own code
# (`build_model`'s ``instantiate(cfg.projector, in_dim=..., out_dim=...)``, `build_datamodule`'s
# ``instantiate(cfg.data, budget=..., transform=...)``, `build_module`'s ``VideoLMMModule(model=..., ...)``) and
# share no definition to derive them from. tests/config/test_derived_tables.py records what the builders pass
# and fails when either tuple differs from it.
SUPPLIED = ("data.budget", "data.transform", "projector.in_dim", "projector.out_dim")
"""``???`` values the builders fill in (`videolmm.training.assembly`, `videolmm.model.build_model`)."""

MODULE_GIVEN = ("model", "stage", "optimizer", "scheduler", "init")
"""`VideoLMMModule` arguments `videolmm.training.assembly.build_module` passes itself (not ``module.*``)."""

# Kept by hand: the valid values are this config's own contract, stricter than what the code that reads them
# accepts (``seed_everything`` takes ``None``, the checkpoint callback takes ``every_n_train_steps=None``), and no
# annotation or dataclass states them. tests/config/test_derived_tables.py fails when the paths differ from the
# scalars train.yaml sets itself, or a model scalar's type from its `VideoLMM` annotation.
TRAIN_SCALARS: tuple[tuple[str, Any, Callable[[Any], bool], str], ...] = (
    ("video_token_id", int, lambda v: v >= 0, "a token id >= 0"),
    ("reduce_after_projector", bool, lambda v: True, "true or false"),
    ("seed", int, lambda v: v >= 0, "an int >= 0"),
    ("run_name", str, lambda v: bool(v), "a non-empty name"),
    ("label", str | None, lambda v: v != "", "null or a non-empty name"),
    ("run_dir", str, lambda v: bool(v), "a folder"),
    ("resume", str | None, lambda v: True, "auto, never, or a checkpoint path"),
    ("checkpoint.every_n_train_steps", int, lambda v: v >= 1, "an int >= 1"),
    ("checkpoint.keep", int, lambda v: v >= -1, "an int >= -1 (-1: keep all)"),
    ("log.throughput_window", int, lambda v: v >= 1, "an int >= 1"),
    ("export_hf_dir", str | None, lambda v: v != "", "null or a folder"),
    ("evaluate.split", str | None, lambda v: v in (None, "train", "val", "test"), "train, val, test or null"),
    ("evaluate.max_samples", int | None, lambda v: v is None or v >= 1, "null or an int >= 1"),
)
"""The ``train`` config's own keys: (path, type, valid value, what is valid)."""

_ABSENT = object()


def scalar_problems(cfg: DictConfig) -> list[str]:
    """Type and range problems of the `TRAIN_SCALARS` present in ``cfg``."""
    problems = []
    for path, annotation, valid, what in TRAIN_SCALARS:
        value = OmegaConf.select(cfg, path, default=_ABSENT, throw_on_missing=False)
        if value is _ABSENT:
            continue
        problem = type_problem(path, value, annotation)
        if problem is None and not valid(value):
            problem = f"{path}={value!r} is not valid"
        if problem:
            problems.append(f"{problem}; valid: {what}")
    return problems


def _guarded(check: Callable[..., list[str]], *args: Any) -> list[str]:
    """``check(*args)``, with an exception from building a config object reported as a problem."""
    try:
        return check(*args)
    except Exception as error:  # a component's own argument check (ValueError, TypeError, ...)
        return [f"{check.__name__.removesuffix('_problems')}: {type(error).__name__}: {error}"]


def combination_problems(cfg: DictConfig) -> list[str]:
    """The cross-group checks; the context check runs only once the grid and the frames are valid."""
    try:
        reducer = instantiate(cfg.reducer)
        grid = encoder_grid(cfg)
        frames = frame_range(instantiate(cfg.frames))
    except Exception as error:  # a component's own argument check
        return [f"the encoder, reducer or frame sampler cannot be built: {type(error).__name__}: {error}"]
    problems = _guarded(grid_problems, cfg, reducer, grid) + _guarded(frame_problems, cfg, reducer, frames)
    if not problems:
        problems += _guarded(context_problems, cfg, reducer, grid, frames)
    problems += _guarded(export_problems, cfg) + _guarded(transform_problems, cfg)
    return problems + _guarded(stage_problems, cfg) + _guarded(runtime_problems, cfg)


def transform_problems(cfg: DictConfig) -> list[str]:
    """A ``data.transform`` set in the config must preprocess frames as the encoder declares."""
    try:
        data_transform(cfg)
    except ValueError as error:
        return [str(error)]
    return []


def export_problems(cfg: DictConfig) -> list[str]:
    """With ``export_hf_dir`` set, the composition must be one a HF LLaVA class computes (checked on meta)."""
    if cfg.export_hf_dir is None:
        return []
    if shards_with_fsdp2(cfg):
        return [
            "export_hf_dir is set but strategy (FSDP2) leaves the weights sharded when training ends. "
            "Valid: strategy=auto or ddp, or export the consolidated checkpoint afterwards (how-to: export to HF)"
        ]
    from videolmm.checkpoint.hf_llava import hf_config

    model = meta_model(cfg)
    try:
        hf_config(model)
    except ValueError as error:
        return [f"export_hf_dir is set but {error}"]
    return []


def train_config_problems(cfg: DictConfig) -> list[str]:
    """Everything wrong with a composed ``train`` config, each as one message (empty: valid)."""
    problems = target_problems(cfg, supplied=SUPPLIED)
    if "module" in cfg:
        problems += binding_problems(VideoLMMModule, cfg.module, "module", given=MODULE_GIVEN)
    problems += scalar_problems(cfg)
    return problems or combination_problems(cfg)


def exit_on_invalid_config(cfg: DictConfig, program: str = "videolmm-train") -> None:
    """Print every problem of ``cfg`` to stderr and exit with status 2; return if there is none."""
    problems = train_config_problems(cfg)
    if not problems:
        return
    listing = "\n".join(f"  - {problem}" for problem in problems)
    count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
    print(f"{program}: invalid configuration ({count}); nothing was built or run:\n{listing}", file=sys.stderr)
    raise SystemExit(2)
