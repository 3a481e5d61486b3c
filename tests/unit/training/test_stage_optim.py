"""Stages, parameter groups and schedules on a toy model with the VideoLMM component names."""

import itertools
import math
from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import nn

import videolmm.conf
from videolmm.layout import SeparatorLayout
from videolmm.model import Separators
from videolmm.reducers import SpatialPool
from videolmm.training import Stage, build_optimizer, cosine_with_warmup, param_groups

CONF = Path(videolmm.conf.__file__).parent


class Toy(nn.Module):
    """Components named as in VideoLMM: encoder, reducer (no parameters), projector, separators, llm."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.reducer = SpatialPool()
        self.projector = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 6))
        self.separators = Separators(6, SeparatorLayout("grid"))
        self.llm = nn.ModuleDict({"embed": nn.Embedding(10, 6), "block": nn.Linear(6, 6), "norm": nn.LayerNorm(6)})

    def forward(self, x):
        return self.llm["block"](self.projector(self.encoder(x)) + self.separators.newline).sum()


def stage(name: str) -> Stage:
    return instantiate(OmegaConf.load(CONF / "stage" / f"{name}.yaml"))


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONF / "stage").glob("*.yaml")))
def test_every_stage_config_applies_to_the_model_components(name):
    model = Toy()
    table = stage(name).apply(model)
    for component, trains in stage(name).trainable.items():
        assert all(p.requires_grad == trains for p in getattr(model, component).parameters())
    assert table.splitlines()[0] == f"stage {name}"


def test_align_trains_only_projector_and_separators_and_reports_counts():
    model = Toy()
    table = stage("align").apply(model)
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    assert lines["encoder"] == ["0", "28", "-"]
    assert lines["projector"] == ["72", "0", "1"]
    assert lines["separators"] == ["6", "0", "1"]
    assert lines["llm"] == ["0", "114", "-"]
    assert lines["total"] == ["78", "142"]
    assert "reducer" not in lines  # no parameters, not a component


def test_frozen_components_get_no_gradient_and_no_optimizer_state():
    model = Toy()
    s = stage("align")
    s.apply(model)
    opt = build_optimizer(model, s, torch.optim.AdamW, lr=1e-3, weight_decay=0.1)
    model(torch.randn(3, 4)).backward()
    opt.step()
    for p in [*model.encoder.parameters(), *model.llm.parameters()]:
        assert p.grad is None
        assert p not in opt.state
    assert all(p in opt.state for p in model.projector.parameters())


def test_video_sft_gives_the_vision_tower_a_fifth_of_the_rate():
    model = Toy()
    s = stage("video_sft")
    s.apply(model)
    rates = {g["name"]: g["lr"] for g in param_groups(model, s, lr=1e-5, weight_decay=0.0)}
    assert rates["encoder"] == pytest.approx(2e-6)
    assert rates["llm"] == rates["projector"] == 1e-5


def test_no_weight_decay_on_norms_biases_embeddings_and_separators():
    model = Toy()
    s = stage("full")
    s.apply(model)
    groups = {g["name"]: g for g in param_groups(model, s, lr=1.0, weight_decay=0.1)}
    decayed = {id(p) for g in groups.values() if g["weight_decay"] for p in g["params"]}
    assert decayed == {
        id(model.encoder[0].weight),
        id(model.projector[0].weight),
        id(model.projector[2].weight),
        id(model.llm["block"].weight),
    }
    assert groups["separators.no_decay"]["weight_decay"] == 0.0
    assert id(model.llm["embed"].weight) not in decayed


def test_a_stage_must_name_exactly_the_models_components():
    with pytest.raises(ValueError, match=r"missing: \['separators'\], unknown: \['vision'\]"):
        Stage("x", {"vision": True, "encoder": True, "projector": True, "llm": True}).apply(Toy())


def test_a_stage_that_trains_nothing_cannot_build_an_optimizer():
    model = Toy()
    s = stage("frozen_eval")
    s.apply(model)
    with pytest.raises(ValueError, match="leaves no trainable parameter"):
        param_groups(model, s, 1.0, 0.0)


def test_cosine_schedule_warms_up_linearly_then_decays_to_min():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = cosine_with_warmup(opt, total_steps=100, warmup_ratio=0.03, min_lr_ratio=0.1)
    rates = []
    for _ in range(100):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert rates[3] == pytest.approx(1.0)
    assert rates[3 + 97 // 2] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 48 / 97)))
    assert rates[-1] == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 96 / 97)))
    assert all(a >= b for a, b in itertools.pairwise(rates[3:]))


def test_schedule_configs_build_with_the_total_steps():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    for path in sorted((CONF / "scheduler").glob("*.yaml")):
        sched = instantiate(OmegaConf.load(path))(opt, total_steps=10)
        assert isinstance(sched, torch.optim.lr_scheduler.LambdaLR)


def test_optimizer_config_builds_adamw_with_groups():
    model = Toy()
    s = stage("full")
    s.apply(model)
    opt = build_optimizer(model, s, instantiate(OmegaConf.load(CONF / "optim/adamw.yaml")), lr=3e-4, weight_decay=0.0)
    assert isinstance(opt, torch.optim.AdamW)
    assert {g["lr"] for g in opt.param_groups} == {3e-4}
