"""Every option of the ``frames`` and ``data`` config groups instantiates."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from tests.unit.data.conftest import BUDGET_GRID
from videolmm.data import FrameSampler, VideoDataModule, VisualBudget
from videolmm.reducers import SpatialPool
from videolmm.training.assembly import data_transform

CONF = Path(__file__).parents[3] / "src" / "videolmm" / "conf"
FRAMES = sorted(p.stem for p in (CONF / "frames").glob("*.yaml"))
DATA = sorted(p.stem for p in (CONF / "data").glob("*.yaml"))


def config(overrides: list[str]):
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(overrides=overrides)


@pytest.mark.parametrize("option", FRAMES)
def test_frames_options_are_samplers(option):
    sampler = instantiate(config([f"+frames={option}"]).frames)
    assert isinstance(sampler, FrameSampler)
    assert len(sampler(600, 30.0)) > 0


def test_frames_options_cover_the_references():
    assert FRAMES == ["fps", "llava_video", "pllava", "segment_midpoints", "tiny", "uniform"]
    assert len(instantiate(config(["+frames=llava_video"]).frames)(30, 30.0)) == 64  # force_sample


REQUIRED = {"webdataset": ["data.shards.train='/nowhere/shard-{000000..000001}.tar'"]}
"""Overrides for the values an option leaves to the user (``???``)."""


@pytest.mark.parametrize("option", DATA)
def test_data_options_build_a_datamodule(option, qwen_tokenizer):
    cfg = config([f"+data={option}", "+frames=tiny", "+encoder=tiny", *REQUIRED.get(option, [])])
    budget = VisualBudget(SpatialPool(stride=2), None, BUDGET_GRID)
    dm = instantiate(cfg.data, tokenizer=qwen_tokenizer, budget=budget, transform=data_transform(cfg))
    assert isinstance(dm, VideoDataModule)
    assert dm.processor.frames.num_frames == 8
    assert dm.processor.transform.preprocessing.image_size == cfg.encoder.image_size
