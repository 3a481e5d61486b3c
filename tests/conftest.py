"""Shared test set-up: deterministic seeds, float32 default, the ``gpu`` marker's skip."""

import importlib.util
from pathlib import Path

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_dtype():
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_default_dtype(previous)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def package_file(package: str, *parts: str) -> Path:
    """A file shipped inside an installed package, located without importing it; skip if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        pytest.skip(f"test asset package {package!r} is not installed")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"test asset {path} is missing")
    return path


@pytest.fixture(autouse=True)
def _enable_library_loggers():
    """An in-process Hydra app may disable existing loggers; every test starts with videolmm's enabled."""
    import logging

    for name, logger in logging.Logger.manager.loggerDict.items():
        if name.startswith("videolmm") and isinstance(logger, logging.Logger):
            logger.disabled = False
