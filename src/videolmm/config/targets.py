"""Every ``_target_`` node of a composed config binds to its callable's signature, with values of the right type.

Hydra's struct mode rejects a misspelt *override*, but not a key a YAML file adds, an appended
``+key=value``, or a value of the wrong type (YAML values are untyped: ``trainer.max_steps=abc`` is
the string ``"abc"`` until Lightning fails on it, deep inside a run). `target_problems` walks the
config and checks each node against the signature of what ``_target_`` names, without calling it:
unknown keys (unless the callable takes ``**kwargs``), ``???`` values nobody fills in, and scalars
that cannot be what the annotation says. Annotations it cannot judge (classes, protocols,
callables, strings) are accepted: a false alarm on a valid config is worse than a late error.
"""

import collections.abc
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from hydra.utils import get_object
from omegaconf import DictConfig, ListConfig, OmegaConf

__all__ = ["HYDRA_KEYS", "binding_problems", "describe", "target_problems", "type_problem"]

HYDRA_KEYS = frozenset({"_target_", "_partial_", "_convert_", "_recursive_", "_args_"})
"""Keys Hydra's ``instantiate`` reads itself."""

REFERENCE = re.compile(r"\$\{[\w.]+\}")
"""An interpolation that is another key's value (``${checkpoint.keep}``): its type is checked where that key
is set (`videolmm.config.startup.TRAIN_SCALARS`, or the key's own ``_target_``), not again at every use."""

SCALARS = {bool: "bool", int: "int", float: "float", str: "str"}
SEQUENCES = (list, tuple, collections.abc.Sequence, collections.abc.Iterable)
MAPPINGS = (dict, collections.abc.Mapping)
_UNKNOWN = None  # an annotation this module cannot judge


def describe(value: Any) -> str:
    """A value as a user wrote it, cut to 60 characters."""
    text = repr(OmegaConf.to_container(value) if isinstance(value, DictConfig | ListConfig) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _scalar_fits(value: Any, annotation: type) -> bool:
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, str)


def _fits(value: Any, annotation: Any) -> bool | None:
    """Whether ``value`` can be ``annotation``: True, False, or ``None`` when this cannot be judged."""
    if annotation in (inspect.Parameter.empty, Any) or isinstance(annotation, str | typing.TypeVar):
        return _UNKNOWN
    if annotation is None or annotation is type(None):
        return value is None
    if annotation in SCALARS:
        return _scalar_fits(value, annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union or origin is types.UnionType:
        verdicts = [_fits(value, arg) for arg in args]
        return True if True in verdicts else (_UNKNOWN if _UNKNOWN in verdicts else False)
    if origin is typing.Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin in SEQUENCES or annotation in SEQUENCES:
        if not isinstance(value, ListConfig | list | tuple):
            return False if value is None or isinstance(value, str | int | float | DictConfig) else _UNKNOWN
        element = args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else None
        if element in SCALARS:
            return all(_scalar_fits(item, element) for item in value)
        return True
    if origin in MAPPINGS or annotation in MAPPINGS:
        return isinstance(value, DictConfig | dict) or (False if value is None or isinstance(value, str) else None)
    return _UNKNOWN


def _show(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")


def type_problem(path: str, value: Any, annotation: Any) -> str | None:
    """A message when ``value`` cannot be of type ``annotation``, else ``None``."""
    if isinstance(value, DictConfig) and "_target_" in value:
        return None  # an object built from its own node, checked there
    if _fits(value, annotation) is False:
        return f"{path}={describe(value)} ({type(value).__name__}) is not a valid {_show(annotation)}"
    return None


def binding_problems(
    target: Callable, node: DictConfig, path: str, given: Iterable[str] = (), supplied: Iterable[str] = ()
) -> list[str]:
    """Problems binding ``node``'s keys as keyword arguments of ``target``.

    Args:
        target: The callable (a class checks its ``__init__``).
        node: The config node (``_target_`` and Hydra's other keys are skipped).
        path: The node's dotted path, for messages.
        given: Parameters the caller passes itself (they must not be in ``node``).
        supplied: Keys of ``node`` that may stay ``???`` (the builder fills them in).
    """
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return []
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = {name: p for name, p in parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}
    problems = []
    for key in node:
        key = str(key)
        where = f"{path}.{key}" if path else key
        if key in HYDRA_KEYS:
            continue
        if key in given:
            problems.append(f"{where}: set by the program, remove it from the config")
        elif key not in named and not open_ended:
            valid = ", ".join(name for name in named if name not in given)
            problems.append(f"{where}: {_name(target)} has no parameter {key!r}; valid keys: {valid}")
        elif OmegaConf.is_missing(node, key):
            if key not in supplied:
                problems.append(f"{where} is required (???): set {where}=...")
        elif key in named:
            problems += _value_problems(node, key, where, named[key].annotation)
    return problems


def _value_problems(node: DictConfig, key: str, where: str, annotation: Any) -> list[str]:
    try:
        value = node[key]
    except Exception as error:  # an interpolation that does not resolve
        return [f"{where}: cannot resolve its value ({type(error).__name__}: {error})"]
    if _is_reference(node, key):
        return []  # another key's value, ``${path}``: checked at ``path``
    problem = type_problem(where, value, annotation)
    return [problem] if problem else []


def _is_reference(node: DictConfig, key: str) -> bool:
    """Whether ``node[key]`` is exactly ``${path}``, the value of another key (no resolver, no text around it)."""
    if not OmegaConf.is_interpolation(node, key):
        return False
    child = node._get_node(key)
    if child is None:  # is_interpolation is False for a missing key
        raise KeyError(f"config key {key!r} vanished while it was being checked")
    return REFERENCE.fullmatch(str(child._value())) is not None


def _name(target: Callable) -> str:
    return target.__qualname__ if inspect.isclass(target) or inspect.isroutine(target) else repr(target)


def target_problems(node: Any, path: str = "", supplied: Iterable[str] = ()) -> list[str]:
    """Problems of every ``_target_`` node in ``node`` and below (see the module docstring).

    Args:
        node: A config node.
        path: Its dotted path.
        supplied: Dotted paths that may stay ``???`` because the program fills them in.
    """
    supplied = frozenset(supplied)
    problems: list[str] = []
    if isinstance(node, DictConfig):
        if "_target_" in node:
            try:
                target = get_object(str(node._target_))
            except Exception as error:
                return [f"{path}._target_={node._target_!r} cannot be imported ({type(error).__name__}: {error})"]
            local = {key.rpartition(".")[2] for key in supplied if key.rpartition(".")[0] == path}
            problems += binding_problems(target, node, path, supplied=local)
        for key in node:
            if str(key) not in HYDRA_KEYS and not OmegaConf.is_missing(node, key) and _is_node(node, key):
                problems += target_problems(node[key], f"{path}.{key!s}" if path else str(key), supplied)
    elif isinstance(node, ListConfig):
        for i, item in enumerate(node):
            problems += target_problems(item, f"{path}[{i}]", supplied)
    return problems


def _is_node(node: DictConfig, key: Any) -> bool:
    """Whether ``node[key]`` is a container (reading it does not resolve a scalar interpolation)."""
    child = node._get_node(key)
    return isinstance(child, DictConfig | ListConfig)
