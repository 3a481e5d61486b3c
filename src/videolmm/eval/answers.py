"""Open-ended answers: normalisation and normalised exact match.

`normalize_answer` is the SQuAD-style normalisation used for short free-form answers: lower
case, punctuation removed, the articles "a", "an" and "the" removed, whitespace collapsed. Two
answers match when their normalised forms are equal (``"The red square."`` matches ``"red square"``).
"""

import re
import string
from collections.abc import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (see the module docstring)."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(reply: str, references: Iterable[str]) -> bool:
    """Whether the normalised reply equals any normalised reference."""
    said = normalize_answer(reply)
    return any(said == normalize_answer(reference) for reference in references)
