"""One multiple-choice annotation row -> one `videolmm.eval.BenchmarkSample`.

The readers differ in where a row keeps its fields; what is done with them is shared here: texts
stripped, the answer's 0-based index turned into its option letter, a missing question type
reported as ``"all"`` and a duration read as seconds.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from videolmm.eval.readers.files import letter_of
from videolmm.eval.schema import BenchmarkSample


def choice_sample(
    *,
    benchmark: str,
    key: str,
    video: Path,
    question: Any,
    options: Iterable[Any],
    answer_index: Any,
    question_type: Any = None,
    duration: Any = None,
    duration_group: str | None = None,
    where: str | None = None,
) -> BenchmarkSample:
    """A multiple-choice `BenchmarkSample` from the raw fields of one annotation row.

    Args:
        benchmark: The benchmark's short name.
        key: The question id.
        video: The video file.
        question: The question text (stripped here).
        options: The option texts in order (each stripped here).
        answer_index: The correct option's 0-based index (an int or a digit string).
        question_type: The question category; empty or ``None`` gives ``"all"``.
        duration: Video length in seconds (a number or a numeric string), or ``None``.
        duration_group: The benchmark's own duration label, if it has one.
        where: Names the question in error messages (default ``"{benchmark} {key}"``).

    Raises:
        ValueError: ``answer_index`` is not an integer or not the index of an option.
    """
    texts = tuple(str(option).strip() for option in options)
    return BenchmarkSample(
        benchmark=benchmark,
        id=key,
        video=video,
        question=str(question).strip(),
        answer=letter_of(answer_index, len(texts), where or f"{benchmark} {key}"),
        options=texts,
        question_type=str(question_type or "all"),
        duration=None if duration is None else float(duration),
        duration_group=duration_group,
    )
