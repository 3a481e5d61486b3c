"""Shared test set-up: deterministic seeds, float32 default, the ``gpu`` marker's skip, subprocess helpers."""

import importlib.util
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
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


def console_script(name: str, *, skip_missing: bool = False) -> Path:
    """The console script ``name`` installed next to this interpreter.

    With ``skip_missing`` the test is skipped when the script is not installed; without it, running
    a missing script fails the test.
    """
    path = Path(sys.executable).parent / name
    if skip_missing and not path.exists():
        pytest.skip(f"console script {name} is not installed next to {sys.executable}")
    return path


def run_command(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` with this process's environment plus ``env``, capturing its text output.

    The exit status is not checked: the caller asserts on ``returncode``, ``stdout`` and ``stderr``.
    """
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(code: str, *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` in a fresh interpreter of this environment (see `run_command`)."""
    return run_command([sys.executable, "-c", code], timeout=timeout)


@pytest.fixture(autouse=True)
def _enable_library_loggers():
    """An in-process Hydra app may disable existing loggers; every test starts with videolmm's enabled."""
    import logging

    for name, logger in logging.Logger.manager.loggerDict.items():
        if name.startswith("videolmm") and isinstance(logger, logging.Logger):
            logger.disabled = False
