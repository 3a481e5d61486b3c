"""Every public name of videolmm is on a page of the API reference (docs/api/index.md lists the modules)."""

import importlib
import pkgutil
import re
from pathlib import Path

import videolmm

INDEX = Path(__file__).resolve().parents[2] / "docs" / "api" / "index.md"
CONSTANTS = (int, float, str, tuple, dict, frozenset)  # documented through the module docstring's listing


def documented_modules() -> list[str]:
    return re.findall(r"^\s+(videolmm[\w.]*)\s*$", INDEX.read_text(), flags=re.MULTILINE)


def public_modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(videolmm.__path__, prefix="videolmm.")]
    return [n for n in names if not any(p.startswith("_") for p in n.split(".")) and not n.startswith("videolmm.conf")]


def test_every_public_name_is_on_a_page_of_the_api_reference():
    on_a_page = {
        id(getattr(module, name))
        for module in map(importlib.import_module, documented_modules())
        for name in getattr(module, "__all__", [])
    }
    missing = [
        f"{module_name}.{name}"
        for module_name in public_modules()
        for name in getattr(importlib.import_module(module_name), "__all__", [])
        if not isinstance(obj := getattr(importlib.import_module(module_name), name), CONSTANTS)
        and id(obj) not in on_a_page
    ]
    assert not missing, f"public names on no API page (add their module to docs/api/index.md): {missing}"


def test_the_listed_modules_exist_and_declare_their_public_names():
    for name in documented_modules():
        assert hasattr(importlib.import_module(name), "__all__"), name
