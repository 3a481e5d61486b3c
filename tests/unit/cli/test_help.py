"""Every console script's ``--help`` names the program and lists each config group with all its options."""

from pathlib import Path

import pytest

import videolmm.conf
from tests.conftest import console_script, run_command

CONF = Path(videolmm.conf.__file__).parent
SLOW = pytest.mark.slow  # each start costs seconds of imports; two in the default tier are enough to catch a break
OTHERS = ("eval", "tokens", "prepare", "generate", "plan")
SCRIPTS = ["train", "compare", *(pytest.param(n, marks=SLOW) for n in OTHERS)]


@pytest.mark.parametrize("name", SCRIPTS)
def test_help_lists_the_groups_and_their_options(name):
    done = run_command([console_script(f"videolmm-{name}"), "--help"], timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"videolmm-{name}: ")
    listed = dict(line.split(": ", 1) for line in done.stdout.split("== Config ==")[0].splitlines() if ": " in line)
    for group in ("encoder", "reducer", "llm", "frames", "debug", "init"):
        options = sorted(p.stem for p in (CONF / group).glob("*.yaml"))
        assert listed[group].split(", ") == options, group
