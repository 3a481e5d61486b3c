"""`KeyMap`: renames between a checkpoint format's parameter names and videolmm's, both ways.

A map is a list of prefix pairs ``(theirs, ours)``; the longest matching prefix wins in either
direction, so ``model.`` -> ``llm.model.model.`` can coexist with ``model.mm_projector.0.`` ->
``projector.linear_1.``. ``aliases`` rewrite other spellings of the same format to its
canonical one before mapping (read direction only). ``dropped`` lists patterns of the format's
keys that the composition deliberately does not hold (e.g. a post-layernorm the LLaVA path
never reads); they are skipped on load and never written.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyMap:
    """Prefix renames between a checkpoint format (theirs) and a videolmm module (ours).

    Attributes:
        rules: ``(theirs_prefix, ours_prefix)`` pairs.
        aliases: ``(other_prefix, canonical_prefix)`` pairs applied in order to their keys before mapping.
        dropped: Regular expressions (``re.match``) of their canonical keys that are not loaded.
    """

    rules: tuple[tuple[str, str], ...]
    aliases: tuple[tuple[str, str], ...] = ()
    dropped: tuple[str, ...] = ()

    def canonical(self, theirs: str) -> str:
        """Their key with every matching alias prefix rewritten, in order."""
        for other, canonical in self.aliases:
            if theirs.startswith(other):
                theirs = canonical + theirs[len(other) :]
        return theirs

    def is_dropped(self, theirs: str) -> bool:
        """Whether their (canonical) key is one the composition deliberately does not hold."""
        return any(re.match(pattern, theirs) for pattern in self.dropped)

    def to_ours(self, theirs: str) -> str | None:
        """Our name for their key (after aliasing), or ``None`` if no rule matches."""
        return _rename(self.canonical(theirs), ((t, o) for t, o in self.rules))

    def to_theirs(self, ours: str) -> str | None:
        """Their canonical name for our key, or ``None`` if no rule matches."""
        return _rename(ours, ((o, t) for t, o in self.rules))


def _rename(key: str, pairs: Iterable[tuple[str, str]]) -> str | None:
    """Rewrite the longest matching source prefix of ``key``."""
    best: tuple[str, str] | None = None
    for src, dst in pairs:
        if key.startswith(src) and (best is None or len(src) > len(best[0])):
            best = (src, dst)
    if best is None:
        return None
    return best[1] + key[len(best[0]) :]
