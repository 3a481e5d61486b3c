"""The tables of the start-up validation match the code they describe.

Derived tables are checked against what the code really does: `MODEL_KEYS` (from `VideoLMM`'s signature)
is what `build_model` reads, and `stage_problems` judges a stage on the meta-built model with
`Stage.unmatched_components`, so a component added to the model is one every stage must name. The tables kept
by hand (`SUPPLIED`, `MODULE_GIVEN`, `TRAIN_SCALARS`: see the comments in `videolmm.config.startup`) are
compared with what the builders pass and with the scalars ``train.yaml`` sets, so that they cannot drift silently.
"""

import inspect
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn

import videolmm.conf
import videolmm.model.build
from videolmm.config import combinations
from videolmm.config.combinations import meta_model, stage_problems
from videolmm.config.startup import MODULE_GIVEN, SUPPLIED, TRAIN_SCALARS
from videolmm.model.build import build_model
from videolmm.model.videolmm import VideoLMM
from videolmm.training import assembly
from videolmm.training.assembly import MODEL_KEYS

CONF = Path(videolmm.conf.__file__).parent
STAGE_EDITS = [
    *(f"stage={p.stem}" for p in sorted((CONF / "stage").glob("*.yaml"))),
    "~stage.trainable.separators",
    "~stage.trainable.llm",
    "+stage.trainable.decoder=true",
]
"""Every stage option, and stages that miss a component or name one the model lacks."""
NOT_SCALARS = {
    "defaults": "the composition",
    "hydra": "Hydra's own settings",
    "module": "bound to VideoLMMModule's signature by binding_problems",
}
"""Top-level keys of ``train.yaml`` that are not its own scalars, and why."""


def compose_train(tmp_path: Path, *overrides: str) -> DictConfig:
    """The default ``train`` config, with a run folder and a data root that do not exist."""
    where = [f"run_dir={tmp_path / 'run'}", f"data.shards.root={tmp_path / 'data'}"]
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(config_name="train", overrides=[*where, *overrides])


class Reads:
    """A config node that records every key read from it as an attribute."""

    def __init__(self, node: DictConfig):
        self.node = node
        self.keys: list[str] = []

    def __getattr__(self, key: str):
        self.keys.append(key)
        return self.node[key]


def test_model_keys_are_what_build_model_reads(tmp_path):
    reads = Reads(compose_train(tmp_path))
    with torch.device("meta"):
        build_model(reads)
    assert sorted(set(reads.keys)) == sorted(MODEL_KEYS)


def test_model_keys_build_the_model_the_config_describes(tmp_path):
    model = meta_model(compose_train(tmp_path, "video_token_id=5", "reduce_after_projector=false"))
    assert (model.video_token_id, model.reduce_after_projector) == (5, False)


def test_supplied_values_are_the_ones_the_builders_fill_in(tmp_path, monkeypatch):
    filled = set()

    def recording(node, *args, **kwargs):
        missing = [key for key in kwargs if isinstance(node, DictConfig) and OmegaConf.is_missing(node, key)]
        filled.update(f"{node._get_full_key(None)}.{key}" for key in missing)
        return instantiate(node, *args, **kwargs)

    monkeypatch.setattr(videolmm.model.build, "instantiate", recording)
    monkeypatch.setattr(assembly, "instantiate", recording)
    cfg = compose_train(tmp_path)
    assembly.build_datamodule(cfg)
    assembly.build_module(cfg)
    with torch.device("meta"):
        build_model(cfg)
    assert sorted(filled) == sorted(SUPPLIED)
    assert not (tmp_path / "data").exists()


def test_module_given_is_what_build_module_passes_itself(tmp_path, monkeypatch):
    cfg = compose_train(tmp_path)
    passed = {}
    monkeypatch.setattr(assembly, "VideoLMMModule", lambda **kwargs: passed.update(kwargs))
    assembly.build_module(cfg)
    assert set(cfg.module) <= set(passed)
    assert sorted(set(passed) - set(cfg.module)) == sorted(MODULE_GIVEN)


def own_scalars(node: dict, path: str = "") -> list[str]:
    """Dotted paths of the scalar values of a raw (unresolved) config."""
    found = []
    for key, value in node.items():
        where = f"{path}.{key}" if path else str(key)
        found += own_scalars(value, where) if isinstance(value, dict) else [where]
    return found


def test_train_scalars_are_the_scalars_train_yaml_sets_itself():
    raw = OmegaConf.to_container(OmegaConf.load(CONF / "train.yaml"), resolve=False)
    own = own_scalars({key: value for key, value in raw.items() if key not in NOT_SCALARS})
    assert sorted(own) == sorted(path for path, _, _, _ in TRAIN_SCALARS)


def test_the_model_scalars_have_the_types_videolmm_declares():
    parameters = inspect.signature(VideoLMM, eval_str=True).parameters
    declared = {name: parameters[name].annotation for name in MODEL_KEYS}
    scalars = {
        name: annotation
        for name, annotation in declared.items()
        if not (inspect.isclass(annotation) and issubclass(annotation, nn.Module))
    }
    rules = {path: annotation for path, annotation, _, _ in TRAIN_SCALARS}
    assert scalars.keys() <= rules.keys(), f"VideoLMM scalars without a TRAIN_SCALARS rule: {scalars.keys() - rules}"
    assert {name: rules[name] for name in scalars} == scalars


@pytest.mark.parametrize("separators", ["none", "grid"])  # without and with learned vectors
@pytest.mark.parametrize("edit", STAGE_EDITS)
def test_stage_problems_refuse_exactly_the_stages_check_components_refuses(tmp_path, edit, separators):
    cfg = compose_train(tmp_path, edit, f"separators={separators}", "trainer.max_steps=0")
    stage, model = instantiate(cfg.stage), meta_model(cfg)
    try:
        stage.check_components(model)
        refused = []
    except ValueError as error:
        refused = [str(error)]
    mismatch = [problem for problem in stage_problems(cfg) if f"stage={stage.name} names" in problem]
    assert len(mismatch) == len(refused), (mismatch, refused)
    missing, unknown = stage.unmatched_components(model)
    for message in refused:
        assert f"(missing: {missing}, unknown: {unknown})" in message
    for message in mismatch:
        assert f"unknown {unknown}, missing {missing}." in message


def test_a_component_added_to_the_model_is_one_every_stage_must_name(tmp_path, monkeypatch):
    def with_adapter(cfg: DictConfig) -> VideoLMM:
        model = build_model(cfg)
        model.adapter = nn.Linear(2, 2)
        return model

    monkeypatch.setattr(combinations, "build_model", with_adapter)
    found = stage_problems(compose_train(tmp_path))
    assert len(found) == 1, found
    assert "missing ['adapter']" in found[0]
    assert "only ['encoder', 'reducer', 'projector', 'separators', 'llm', 'adapter']" in found[0]
    assert stage_problems(compose_train(tmp_path, "+stage.trainable.adapter=true")) == []
