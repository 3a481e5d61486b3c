"""scripts/check_lock.py: the CI gate that the venv holds exactly what requirements-lock.txt pins."""

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import run_command

ROOT = Path(__file__).resolve().parents[2]
LOCKS = [ROOT / "requirements-lock.txt", ROOT / "requirements-test-assets.txt"]


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_lock = _load_checker()


def test_the_lock_pins_every_declared_tool_and_filelock_for_lmms_eval():
    pins = check_lock.read_pins(LOCKS)
    for tool in ("pip", "setuptools", "hatchling", "editables", "uv", "torch", "lmms-eval"):
        assert tool in pins, tool
    major, minor = (int(part) for part in pins["filelock"].split(".")[:2])
    assert (major, minor) < (4, 3), "lmms-eval 0.7.3 needs filelock._api, removed in filelock 4.3"


def test_an_installed_package_missing_from_the_lock_is_named(tmp_path):
    # A real run of the checker, in this interpreter, against a lock that lacks one installed package.
    installed = check_lock.installed_distributions()
    assert "einops" in installed
    lock = tmp_path / "lock.txt"
    lock.write_text("".join(f"{name}=={version}\n" for name, version in installed.items() if name != "einops"))
    run = run_command([sys.executable, ROOT / "scripts" / "check_lock.py", lock])
    assert run.returncode == 1
    assert f"einops=={installed['einops']} is installed but pinned in no lock file" in run.stderr
    assert run.stderr.count("lock check:") == 2  # that one problem and the summary line


def test_the_same_environment_against_a_complete_lock_passes(tmp_path):
    installed = check_lock.installed_distributions()
    lock = tmp_path / "lock.txt"
    lock.write_text("# comment\n\n" + "".join(f"{name}=={version}  # why\n" for name, version in installed.items()))
    run = run_command([sys.executable, ROOT / "scripts" / "check_lock.py", lock])
    assert run.returncode == 0, run.stderr


def test_version_mismatches_and_missing_pins_are_reported():
    installed = {"torch": "2.14.1+cu130", "numpy": "2.4.6", "videolmm": "0.1.0", "Foo_Bar": "1.0"}
    installed = {check_lock.canonical_name(k): v for k, v in installed.items()}
    pins = {"torch": "2.14.1", "numpy": "2.4.5", "foo-bar": "1.0", "absent": "3.0"}
    assert check_lock.lock_problems(installed, pins, exempt=["videolmm"]) == [
        "numpy==2.4.6 is installed but the lock pins numpy==2.4.5",
        "absent==3.0 is pinned but not installed",
    ]
    # A local-label pin admits only that build.
    assert check_lock.lock_problems({"torch": "2.14.1"}, {"torch": "2.14.1+cu130"}) == [
        "torch==2.14.1 is installed but the lock pins torch==2.14.1+cu130"
    ]


def test_a_range_in_a_lock_file_is_refused(tmp_path):
    lock = tmp_path / "lock.txt"
    lock.write_text("numpy>=2\n")
    with pytest.raises(ValueError, match=r"lock.txt:1: not a name==version pin"):
        check_lock.read_pins([lock])
