"""Option letters and the extraction of the chosen letter from a free-form reply.

`extract_option_letter` follows the rule the common video benchmarks score with (the Video-MME
reference scorer, and MLVU and LongVideoBench in lmms-eval): remove the usual answer phrases
("The best answer is", ...), then the answer is the first capital letter of the reply that is one
of the question's option letters (``[ABCD]`` for four options), wherever it stands; a reply
without one is unanswered (LongVideoBench's scorer draws a random letter instead; here it simply
counts as wrong, so results are deterministic). When no letter is found, a reply that is exactly
one option's text (after `normalize_answer`) counts as that option, as NExT-QA's MMMU-style
parser does. The rule is lenient by design: "A man walks" is read as option A, as those scorers read it.
"""

import re
import string
from collections.abc import Sequence

from videolmm.eval.answers import normalize_answer

ANSWER_PREFIXES: tuple[str, ...] = (
    "The best answer is",
    "The correct answer is",
    "The answer is",
    "The answer",
    "The best option is",
    "The correct option is",
    "Best answer:",
    "Best option:",
)
"""Phrases removed before looking for a letter (they contain capitals that are not answers)."""


def option_letters(count: int) -> str:
    """The first ``count`` capital letters: ``option_letters(4) == "ABCD"``.

    Raises:
        ValueError: ``count`` is not between 1 and 26.
    """
    if not 1 <= count <= 26:
        raise ValueError(f"a multiple-choice question needs 1 to 26 options, got {count}")
    return string.ascii_uppercase[:count]


def extract_option_letter(reply: str, options: Sequence[str]) -> str | None:
    """The option letter a reply chooses, or ``None`` if it names none (see the module docstring).

    Args:
        reply: The model's generated text.
        options: The question's option texts, in letter order.
    """
    letters = option_letters(len(options))
    text = reply.strip()
    for prefix in ANSWER_PREFIXES:
        text = text.replace(prefix, "")
    match = re.search(f"[{letters}]", text)
    if match is not None:
        return match.group(0)
    said = normalize_answer(text)
    named = [letter for letter, option in zip(letters, options, strict=True) if normalize_answer(option) == said]
    return named[0] if len(named) == 1 and said else None
