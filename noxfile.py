"""Developer sessions. They reuse the one venv that ``scripts/setup.sh`` keeps (a fresh torch venv is 5.5 GB).

nox                 # lint + tests
nox -s docs build   # any session by name; arguments after -- go to the tool
"""

import subprocess
import zipfile
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
ROOT = Path(__file__).parent


def _bin(tool: str) -> str:
    """A tool from the project venv, created or refreshed by scripts/setup.sh."""
    venv = subprocess.run(["bash", str(ROOT / "scripts/setup.sh")], check=True, capture_output=True, text=True)
    return str(Path(venv.stdout.strip()) / "bin" / tool)


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Ruff with the explicit rule set of pyproject.toml, and its formatter in check mode."""
    paths = ["src", "tests", "benchmarks", "noxfile.py", "docs/conf.py", "docs/_ext", "docs/how_to/scripts"]
    session.run(_bin("ruff"), "check", *paths, *session.posargs)
    session.run(_bin("ruff"), "format", "--check", *paths)


@nox.session(venv_backend="none")
def typecheck(session: nox.Session) -> None:
    """mypy over the library."""
    session.run(_bin("mypy"), "src", *session.posargs)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The default test suite (add ``-- -m slow`` for the slow tier)."""
    session.run("bash", "scripts/run.sh", "test", *session.posargs)


@nox.session(venv_backend="none")
def docs(session: nox.Session) -> None:
    """The Sphinx site, warnings as errors."""
    session.run(
        _bin("sphinx-build"), "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html", *session.posargs
    )


@nox.session(venv_backend="none")
def build(session: nox.Session) -> None:
    """Build the wheel and check that it ships the Hydra config tree and py.typed."""
    dist = ROOT / "dist"
    session.run(_bin("python"), "-m", "hatchling", "build", "-t", "wheel", "-d", str(dist), "--clean")
    wheel = max(dist.glob("videolmm-*.whl"), key=lambda p: p.stat().st_mtime)
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"videolmm/py.typed", "videolmm/conf/__init__.py"}
    expected |= {
        f"videolmm/{p.relative_to(ROOT / 'src/videolmm').as_posix()}"
        for p in (ROOT / "src/videolmm/conf").rglob("*.yaml")
    }
    missing = sorted(expected - names)
    if missing:
        session.error(f"{wheel.name} lacks {len(missing)} files: {', '.join(missing[:10])}")
    session.log(f"{wheel.name}: {len(names)} files, all {len(expected)} config files and py.typed present")
