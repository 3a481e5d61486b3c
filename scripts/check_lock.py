"""Check that a Python environment holds exactly what the lock pins.

Usage: ``python scripts/check_lock.py [--exempt NAME ...] LOCK [LOCK ...]``, run by the interpreter of the
environment to check (``.ci/run`` runs it with the venv's python). It reads ``name==version`` lines from
each file (comments and blank lines ignored) and compares them with the installed distributions:

- a distribution installed but pinned in no file fails (a dependency that entered unpinned);
- a distribution installed at another version than its pin fails (``==`` as PEP 440 reads it, so
  ``torch==2.14.1`` admits the local build ``2.14.1+cu130``);
- a pinned distribution that is not installed fails (the install skipped it).

The editable ``videolmm`` itself is exempt. Exit status 0 when everything matches, 1 with one line per
problem otherwise.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``Foo_Bar.baz`` and ``foo-bar-baz`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(paths: Iterable[Path]) -> dict[str, str]:
    """``{canonical name: version}`` from ``name==version`` lines; any other requirement line is an error."""
    pins: dict[str, str] = {}
    for path in paths:
        for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            match = _PIN.match(line)
            if match is None:
                raise ValueError(f"{path}:{number}: not a name==version pin: {raw.strip()!r}")
            name = canonical_name(match.group(1))
            if name in pins and pins[name] != match.group(2):
                raise ValueError(f"{path}:{number}: {name} pinned twice ({pins[name]} and {match.group(2)})")
            pins[name] = match.group(2)
    return pins


def installed_distributions() -> dict[str, str]:
    """``{canonical name: version}`` of every distribution this interpreter can import from."""
    return {canonical_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def _same_version(installed: str, pinned: str) -> bool:
    """PEP 440 ``==``: a pin without a local label admits any local build of that version."""
    if installed == pinned:
        return True
    return "+" not in pinned and installed.split("+", 1)[0] == pinned


def lock_problems(installed: Mapping[str, str], pins: Mapping[str, str], exempt: Iterable[str] = ()) -> list[str]:
    """One human-readable line per mismatch between ``installed`` and ``pins``; empty when they agree."""
    skip = {canonical_name(name) for name in exempt}
    problems = []
    for name in sorted(set(installed) - skip):
        if name not in pins:
            problems.append(f"{name}=={installed[name]} is installed but pinned in no lock file")
        elif not _same_version(installed[name], pins[name]):
            problems.append(f"{name}=={installed[name]} is installed but the lock pins {name}=={pins[name]}")
    for name in sorted(set(pins) - set(installed) - skip):
        problems.append(f"{name}=={pins[name]} is pinned but not installed")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("locks", nargs="+", type=Path, help="files of name==version lines")
    parser.add_argument("--exempt", action="append", default=["videolmm"], help="distribution to ignore")
    args = parser.parse_args(argv)
    pins = read_pins(args.locks)
    problems = lock_problems(installed_distributions(), pins, exempt=args.exempt)
    for line in problems:
        print(f"lock check: {line}", file=sys.stderr)
    if problems:
        print(f"lock check: {len(problems)} problem(s); regenerate with `bash scripts/lock.sh`", file=sys.stderr)
        return 1
    print(f"lock check: {len(pins)} pins, the environment matches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
