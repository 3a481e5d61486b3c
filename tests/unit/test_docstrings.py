"""Every public class, function and method of videolmm has a docstring (the API reference is built from them).

Modules are discovered with pkgutil, so a new subpackage is checked as soon as it exists; a module
whose dotted name has a part starting with ``_`` is private. A module's public names are its
``__all__``; a module without ``__all__`` exposes the classes and functions it defines whose names
do not start with ``_``. Public methods are those a public class defines itself. A method without
a docstring of its own passes only when it overrides a documented method of a base class (a torch
hook such as ``extra_repr``); ``forward`` always needs its own, since it states the shapes.
"""

import dataclasses
import enum
import importlib
import inspect
import pkgutil
import types

import pytest
from torch import nn

import videolmm


def public_module_names() -> list[str]:
    """Dotted names of videolmm and all its modules, private ones excluded (packages that fail to import included)."""
    found = [videolmm.__name__]
    walk = pkgutil.walk_packages(videolmm.__path__, prefix=f"{videolmm.__name__}.", onerror=found.append)
    found += [info.name for info in walk]
    return sorted({name for name in found if not any(part.startswith("_") for part in name.split("."))})


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, or the classes and functions the module defines without a leading underscore."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == module.__name__
    ]


def _has_own_doc(obj: object) -> bool:
    doc = obj.__doc__ if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not doc or not doc.strip():
        return False
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return False  # the signature dataclasses write when the class has no docstring
    return not (isinstance(obj, type) and issubclass(obj, enum.Enum) and doc == "An enumeration.")


def _function_of(attr: object) -> object | None:
    """The function behind a method, classmethod, staticmethod or property; None for other attributes."""
    if isinstance(attr, property):
        return attr.fget
    if isinstance(attr, (classmethod, staticmethod)):
        return attr.__func__
    return attr if inspect.isfunction(attr) else None


def _inherits_doc(cls: type, name: str) -> bool:
    """Whether ``name`` overrides a documented method of a base class."""
    for base in cls.__mro__[1:]:
        if name in vars(base):
            function = _function_of(vars(base)[name])
            return function is not None and _has_own_doc(function)
    return False


def undocumented_methods(cls: type, qualname: str) -> list[str]:
    """Public methods and properties ``cls`` defines without a docstring (see the module docstring)."""
    missing = []
    for name, attr in vars(cls).items():
        function = _function_of(attr)
        if name.startswith("_") or function is None or _has_own_doc(function):
            continue
        if name == "forward" or not _inherits_doc(cls, name):
            missing.append(f"{qualname}.{name}")
    return missing


def undocumented(module: types.ModuleType) -> list[str]:
    """Public names of ``module`` (and methods of its public classes) that lack a docstring."""
    missing = []
    for name in public_names(module):
        qualname = f"{module.__name__}.{name}"
        if not hasattr(module, name):
            missing.append(f"{qualname} (listed in __all__ but not defined)")
            continue
        obj = getattr(module, name)
        if inspect.isclass(obj):
            if not _has_own_doc(obj):
                missing.append(qualname)
            missing += undocumented_methods(obj, qualname)
        elif inspect.isroutine(obj) and not _has_own_doc(obj):
            missing.append(qualname)
    return missing


MODULES = public_module_names()


@pytest.mark.parametrize("module_name", MODULES)
def test_public_names_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    missing = undocumented(module)
    assert not missing, f"{len(missing)} public names without a docstring: {', '.join(missing)}"


def test_discovery_finds_the_public_subpackages_and_skips_private_modules():
    assert {"videolmm.reducers", "videolmm.model", "videolmm.shapes", "videolmm.cli.tokens"} <= set(MODULES)
    assert not [name for name in MODULES if any(part.startswith("_") for part in name.split("."))]


def _fake_module() -> types.ModuleType:
    """A module with one documented and one undocumented name of every kind the check knows."""
    module = types.ModuleType("videolmm_fake", "A fake public module.")

    def documented():
        """Documented."""

    def bare():
        pass

    class Reducer(nn.Module):
        """Documented class."""

        def forward(self, x):  # nn.Module.forward has a docstring, but forward must have its own
            return x

        def extra_repr(self):  # a documented torch hook: inherits its docstring
            return ""

        def segments(self):
            return ()

        @property
        def size(self):
            return 0

        def _private(self):
            pass

    @dataclasses.dataclass
    class Plain:
        value: int = 0

    for obj in (documented, bare, Reducer, Plain):
        obj.__module__ = module.__name__
        setattr(module, obj.__name__, obj)
    module.CONSTANT = 3
    module.__all__ = ["documented", "bare", "Reducer", "Plain", "CONSTANT", "gone"]
    return module


def test_check_names_every_undocumented_function_class_and_method():
    found = undocumented(_fake_module())
    assert sorted(found) == sorted(
        [
            "videolmm_fake.bare",
            "videolmm_fake.Plain",
            "videolmm_fake.Reducer.forward",
            "videolmm_fake.Reducer.segments",
            "videolmm_fake.Reducer.size",
            "videolmm_fake.gone (listed in __all__ but not defined)",
        ]
    )


def test_module_without_all_exposes_what_it_defines_without_underscore():
    module = _fake_module()
    del module.__all__
    module._hidden = module.bare
    module.imported = inspect.signature  # defined elsewhere: not this module's public name
    assert sorted(public_names(module)) == ["Plain", "Reducer", "bare", "documented"]
