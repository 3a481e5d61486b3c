"""`load_mapped` / `export_mapped`: move a state dict between a module and a checkpoint format.

Loading is strict: every parameter and persistent buffer of the module must come from the
checkpoint, every checkpoint key must land somewhere (or be declared dropped by the
`KeyMap`), and shapes must agree. Otherwise a `ValueError` lists the missing, unexpected and
mis-shaped keys. Tied weights (an LM head sharing the embedding) are loaded once.
"""

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from videolmm.checkpoint.keymap import KeyMap

_LISTED = 20  # keys named per category in an error message


def tied_aliases(module: nn.Module) -> dict[str, str]:
    """Second names of shared parameters: ``{alias: primary}`` (e.g. a tied LM head -> the embedding)."""
    first: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, param in module.named_parameters(remove_duplicate=False):
        if id(param) in first:
            aliases[name] = first[id(param)]
        else:
            first[id(param)] = name
    return aliases


def _listing(title: str, keys: list[str]) -> str:
    more = f", ... ({len(keys) - _LISTED} more)" if len(keys) > _LISTED else ""
    return f"{len(keys)} {title}: {', '.join(keys[:_LISTED])}{more}"


def _check_aliases(state: dict[str, Tensor], aliases: dict[str, str], source: str) -> None:
    """Drop alias keys a checkpoint also stores, after checking they equal their primary."""
    for alias, primary in aliases.items():
        if alias in state:
            value = state.pop(alias)
            if primary in state and not torch.equal(value, state[primary]):
                raise ValueError(f"{source}: {alias} is tied to {primary} in the model but differs in the checkpoint")


def load_mapped(module: nn.Module, theirs: Mapping[str, Tensor], keymap: KeyMap, *, source: str) -> None:
    """Load a checkpoint's tensors into ``module`` through ``keymap``.

    Args:
        module: The built module (its keys are "ours").
        theirs: The checkpoint's tensors, in its own naming.
        keymap: How their names map to ours.
        source: Where the tensors came from (named in errors).

    Raises:
        ValueError: Missing, unexpected or mis-shaped keys (all listed), or a tied pair that differs.
    """
    ours: dict[str, Tensor] = {}
    unmapped: list[str] = []
    for key, value in theirs.items():
        if keymap.is_dropped(keymap.canonical(key)):
            continue
        name = keymap.to_ours(key)
        if name is None:
            unmapped.append(key)
        else:
            ours[name] = value
    aliases = tied_aliases(module)
    _check_aliases(ours, aliases, source)
    target = {k: v for k, v in module.state_dict().items() if k not in aliases}
    missing = sorted(set(target) - set(ours))
    unexpected = sorted(unmapped) + sorted(f"{keymap.to_theirs(k)} (as {k})" for k in set(ours) - set(target))
    shapes = sorted(
        f"{k}: checkpoint {tuple(ours[k].shape)} vs model {tuple(target[k].shape)}"
        for k in set(ours) & set(target)
        if ours[k].shape != target[k].shape
    )
    if missing or unexpected or shapes:
        parts = [_listing(t, ks) for t, ks in (("missing keys", missing), ("unexpected keys", unexpected)) if ks]
        parts += [_listing("shape mismatches", shapes)] if shapes else []
        raise ValueError(f"cannot load {source} into {type(module).__name__}: " + "; ".join(parts))
    module.load_state_dict(ours, strict=False, assign=False)


def export_mapped(module: nn.Module, keymap: KeyMap) -> dict[str, Tensor]:
    """The module's state dict in the format's naming, without tied aliases.

    Raises:
        ValueError: Some keys have no name in the format (all listed).
    """
    aliases = tied_aliases(module)
    out: dict[str, Tensor] = {}
    unnamed: list[str] = []
    for key, value in module.state_dict().items():
        if key in aliases:
            continue
        name = keymap.to_theirs(key)
        if name is None:
            unnamed.append(key)
        else:
            out[name] = value
    if unnamed:
        raise ValueError(
            f"{type(module).__name__} has keys the format cannot name: " + _listing("keys", sorted(unnamed))
        )
    return out
