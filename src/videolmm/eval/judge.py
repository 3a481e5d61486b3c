"""The judge hook for free-form answers: any callable that rates a reply against the references.

lmms-eval scores ActivityNet-QA and VideoChatGPT with a GPT judge (a yes/no verdict and a 0-5
score). videolmm makes no network calls: a judge is whatever callable the user passes (a local
LLM, an API client they own), and without one open-ended answers are scored by normalised exact
match (`videolmm.eval.answers.exact_match`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class JudgeVerdict:
    """A judge's rating of one reply.

    Attributes:
        correct: Whether the reply answers the question.
        score: A graded score (ActivityNet-QA's judge gives 0 to 5); ``None`` records ``float(correct)``.
    """

    correct: bool
    score: float | None = None

    @property
    def value(self) -> float:
        """``score``, or ``1.0`` / ``0.0`` from ``correct`` when no score was given."""
        return float(self.correct) if self.score is None else float(self.score)


class Judge(Protocol):
    """Rates a reply: ``judge(question, reply, references) -> JudgeVerdict``."""

    def __call__(self, question: str, reply: str, references: Sequence[str]) -> JudgeVerdict:
        """Rate ``reply`` to ``question`` against the reference answers."""
        ...
