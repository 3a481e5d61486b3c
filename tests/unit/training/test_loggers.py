"""Every ``conf/logger`` option instantiates into a Lightning logger writing under the run directory."""

import importlib.util

import lightning.pytorch.loggers as loggers
import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

NEEDS = {"csv": (), "tensorboard": ("tensorboard", "tensorboardX"), "wandb": ("wandb",)}
"""Packages one of which an option needs (optional, not installed by the set-up)."""


@pytest.mark.parametrize("option", sorted(NEEDS))
def test_logger_option_builds_under_the_run_dir(option, tmp_path):
    needs = NEEDS[option]
    if needs and all(importlib.util.find_spec(p) is None for p in needs):
        pytest.skip(f"the optional {' or '.join(needs)} package is not installed")
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=[f"logger={option}", f"run_dir={tmp_path}"])
    logger = instantiate(cfg.logger)
    assert isinstance(logger, loggers.Logger)
    assert str(tmp_path) in str(logger.save_dir)


def test_csv_is_the_default():
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="train")
    assert cfg.logger._target_ == "lightning.pytorch.loggers.CSVLogger"
