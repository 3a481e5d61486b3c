"""The config tree is the registry: every option of every group composes, binds and instantiates.

Parametrised over the YAML files on disk, so a new option is tested without editing this file; a
nested group (``callbacks/throughput``) lands at its dotted path (``callbacks.throughput``) and is
appended (``+group=option``) when the primary config does not select it.
Component groups (a ``_target_`` at the top of the file) are instantiated from the composed
``train`` (or ``eval``) config, on the meta device so that 72B LLMs cost nothing; the few
``???`` values the program fills in at run time get stand-ins. Setting groups (``@package
_global_``: ``debug``, ``eval``) must compose into a config that passes the start-up validation,
and every ``_target_`` they set must instantiate. What cannot be built on this machine (a CUDA
trainer, an optional logger package) is skipped by name, never silently.
"""

import importlib.util
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

import videolmm.conf
from videolmm.config import train_config_problems
from videolmm.config.targets import target_problems

CONF = Path(videolmm.conf.__file__).parent
PRIMARY = {"benchmark": "eval", "eval": "eval"}  # the other groups are train.yaml's
PACKAGE = {"head_loss": "llm.head_loss"}  # where a group's option lands when it is not at its own name
STAND_INS = {  # dotted path -> value for the ``???`` the builders or the user fill in
    "projector.in_dim": 32,
    "projector.out_dim": 64,
    "data.budget": 16,
    "data.transform": {"_target_": "videolmm.data.SiglipTransform", "size": 28},
    "data.tokenizer": {"_target_": "videolmm.data.synthetic_tokenizer"},
    "data.shards.train": "/nonexistent/shard-{000000..000009}.tar",
    "init.path": "/nonexistent/checkpoint",
    "benchmark.root": "/nonexistent/benchmark",
}
NEEDS = {  # what an option needs that this machine may lack
    ("trainer", "gpu"): ("CUDA", torch.cuda.is_available),
    ("logger", "tensorboard"): ("tensorboard", lambda: importlib.util.find_spec("tensorboard") is not None),
    ("logger", "wandb"): ("wandb", lambda: importlib.util.find_spec("wandb") is not None),
    ("head_loss", "liger"): ("liger-kernel", lambda: importlib.util.find_spec("liger_kernel") is not None),
}


def all_options() -> list[tuple[str, str]]:
    """(group, option) for every YAML in a group folder; a nested group is named by its path."""
    files = sorted(p for p in CONF.rglob("*.yaml") if p.parent != CONF and not p.parent.name.startswith("_"))
    return [(p.parent.relative_to(CONF).as_posix(), p.stem) for p in files]


def is_setting_group(group: str, name: str) -> bool:
    return (CONF / group / f"{name}.yaml").read_text().startswith("# @package _global_")


def composed(group: str, name: str, *extra: str) -> DictConfig:
    primary = PRIMARY.get(group, "train")
    own = ["run_dir=/tmp/videolmm-registry"] if primary == "train" else []
    append = "" if _selected(group, primary) else "+"
    with initialize_config_module("videolmm.conf", version_base="1.3"):
        return compose(primary, overrides=[f"{append}{_override_key(group)}={name}", *own, *extra])


def _override_key(group: str) -> str:
    return f"{group}@{PACKAGE[group]}" if group in PACKAGE else group


def _package(group: str) -> str:
    return PACKAGE.get(group, group.replace("/", "."))


def _selected(group: str, primary: str) -> bool:
    """Whether the defaults list of ``primary`` has an entry for ``group`` (else an override appends one)."""
    defaults = OmegaConf.load(CONF / f"{primary}.yaml").defaults
    return any(isinstance(entry, DictConfig) and _override_key(group) in entry for entry in defaults)


def test_the_registry_is_not_empty_and_every_group_has_options():
    options = all_options()
    groups = {g for g, _ in options}
    assert {"encoder", "reducer", "projector", "separators", "llm", "data", "frames", "stage"} <= groups
    assert {"optim", "scheduler", "strategy", "trainer", "debug", "init", "logger", "head_loss"} <= groups
    assert {"callbacks/checkpoint", "callbacks/throughput", "callbacks/compile_blocks"} <= groups
    assert len(options) > 60


@pytest.mark.parametrize(("group", "name"), all_options(), ids=[f"{g}={n}" for g, n in all_options()])
def test_every_option_composes_binds_and_instantiates(group, name, tmp_path):
    if (group, name) in NEEDS:
        what, available = NEEDS[group, name]
        if not available():
            pytest.skip(f"{group}={name} needs {what}, absent on this machine")
    if is_setting_group(group, name):
        check_setting(group, name, tmp_path)
        return
    cfg, package = composed(group, name), _package(group)
    assert "_target_" in OmegaConf.select(cfg, package), f"conf/{group}/{name}.yaml has no _target_ at its top"
    for path in missing_paths(OmegaConf.select(cfg, package), package):
        assert path in STAND_INS, f"{group}={name}: {path} is ??? and nobody fills it in"
        OmegaConf.update(cfg, path, STAND_INS[path], force_add=True)
    node = OmegaConf.select(cfg, package)
    assert target_problems(node, package) == []
    with torch.device("meta"):
        built = instantiate(node)
    assert built is not None


def check_setting(group: str, name: str, tmp_path: Path) -> None:
    """A ``@package _global_`` option: the composed config is valid and its own targets instantiate."""
    own = OmegaConf.load(CONF / group / f"{name}.yaml")
    if group == "debug":
        cfg = composed(group, name, f"run_dir={tmp_path}")
        assert train_config_problems(cfg) == []
    else:
        cfg = composed(group, name)
    targets = [key for key in own if key != "defaults" and _has_targets(own[key])]
    for key in targets:
        with torch.device("meta"):
            assert instantiate(cfg[key]) is not None


def missing_paths(node: DictConfig, path: str) -> list[str]:
    """Dotted paths of the ``???`` values in ``node`` and below."""
    found = []
    for key in node:
        where = f"{path}.{key}"
        if OmegaConf.is_missing(node, key):
            found.append(where)
        elif isinstance(node._get_node(key), DictConfig):
            found += missing_paths(node[key], where)
    return found


def _has_targets(node) -> bool:
    if isinstance(node, DictConfig):
        return "_target_" in node or any(_has_targets(node[k]) for k in node if not OmegaConf.is_missing(node, k))
    return False
