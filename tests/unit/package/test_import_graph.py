"""The import graph of ``src/videolmm``: no cycle (imports inside functions included), light packages stay light.

Building is not loading: ``videolmm.checkpoint`` imports the model, never the other way round, and no
module reaches back into a package that imports it. A lazy import inside a function hides a cycle
from Python but not from this test. Imports under ``if TYPE_CHECKING:`` never run and are left out.
"""

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import run_python

SRC = Path(__file__).resolve().parents[3] / "src"
PACKAGE = "videolmm"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in its body (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    skip = {id(n) for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.If) and
            _is_type_checking(node) for n in ast.walk(node)}  # fmt: skip
    for node in ast.walk(ast.parse(path.read_text())):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    edges = set()
    for target in targets:
        while target and target not in known:  # `import a.b.c` of a name inside a module: its module
            target = target.rpartition(".")[0]
        if target and target != name and not name.startswith(f"{target}."):  # own ancestors run first anyway
            edges.add(target)
            parent = target.rpartition(".")[0]
            while parent and not name.startswith(f"{parent}.") and parent != name:
                edges.add(parent)  # importing a.b.c runs a/__init__ and a/b/__init__ first
                parent = parent.rpartition(".")[0]
    return edges


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_sees_function_level_and_relative_imports():
    edges = {
        "p.a": {"p.b"},
        "p.b": {"p.c"},
        "p.c": {"p.a"},  # a cycle through three modules
        "p.d": {"p.a"},
    }
    assert cycles(edges) == [["p.a", "p.b", "p.c"]]
    found = graph()
    assert "videolmm.checkpoint.hf_llava" in found
    assert "videolmm.model.videolmm" in found["videolmm.checkpoint.hf_llava"]  # loading imports the model


def test_src_videolmm_has_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("package", ["videolmm.reducers", "videolmm.model", "videolmm.data", "videolmm.layout"])
def test_components_and_data_load_no_config_or_training_framework(package):
    code = (
        f"import sys, {package}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('hydra', 'omegaconf', 'lightning',"
        " 'pytorch_lightning', 'lightning_fabric'))\n"
        "print(' '.join(heavy))"
    )
    run = run_python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"importing {package} loads {run.stdout.strip()}"
