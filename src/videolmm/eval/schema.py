"""`BenchmarkSample`: the one sample schema every benchmark reader produces.

A multiple-choice sample lists its ``options`` (the option texts, without letters) and its
``answer`` is the correct option's letter (``A`` for the first option); an open-ended sample has
no options and its ``answer`` is the reference text (``references`` may add accepted variants).
``duration_group`` is the benchmark's own duration label when it publishes one (Video-MME's
``short`` / ``medium`` / ``long``); otherwise results are bucketed from ``duration`` in seconds.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from videolmm.eval.letters import option_letters

Format = Literal["multiple_choice", "open_ended"]
Video = str | Path | bytes
"""A video file path, or the encoded bytes (the synthetic benchmark, shard members)."""


@dataclass(frozen=True)
class BenchmarkSample:
    """One evaluation question about one video.

    Attributes:
        benchmark: The benchmark's short name (``videomme``, ``nextqa_mc``, ``synthetic``, ...).
        id: The question id, unique within the benchmark.
        video: The video file (or its bytes).
        question: The question text, without options or instructions.
        answer: The correct option letter (multiple choice) or the reference answer (open ended).
        options: The option texts in order (empty for open-ended questions).
        question_type: The benchmark's question category (``"all"`` when it has none).
        duration: Video length in seconds, when the annotations give it.
        duration_group: The benchmark's own duration label, when it has one.
        prompt: The complete user text, when the benchmark fixes it (the synthetic benchmark);
            ``None`` renders it from ``question`` and ``options`` (see `PromptFormat`).
        references: Further accepted answers of an open-ended question.
    """

    benchmark: str
    id: str
    video: Video
    question: str
    answer: str
    options: tuple[str, ...] = ()
    question_type: str = "all"
    duration: float | None = None
    duration_group: str | None = None
    prompt: str | None = None
    references: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.options and self.answer not in self.letters:
            raise ValueError(
                f"{self.benchmark} sample {self.id!r}: answer {self.answer!r} is not one of the "
                f"{len(self.options)} option letters {self.letters!r}"
            )
        if not self.options and not self.answer.strip():
            raise ValueError(f"{self.benchmark} sample {self.id!r}: an open-ended question needs a reference answer")

    @property
    def format(self) -> Format:
        """``"multiple_choice"`` when the sample has options, else ``"open_ended"``."""
        return "multiple_choice" if self.options else "open_ended"

    @property
    def letters(self) -> str:
        """The option letters, ``"ABCD"`` for four options (empty for open-ended questions)."""
        return option_letters(len(self.options)) if self.options else ""

    @property
    def answer_text(self) -> str:
        """The correct option's text (multiple choice) or the reference answer."""
        return self.options[self.letters.index(self.answer)] if self.options else self.answer
