"""`PromptFormat`: the user text of a benchmark question (question, lettered options, instruction).

A multiple-choice question renders as::

    {question}
    A. {option 0}
    B. {option 1}
    {multiple_choice instruction}

(lmms-eval's default layout for NExT-QA, EgoSchema, PerceptionTest and LongVideoBench); an
open-ended question as ``{question}\\n{open_ended instruction}``. An empty instruction adds no line.
A sample that fixes its own prompt (the synthetic benchmark) is used as it is.
"""

from dataclasses import dataclass

from videolmm.eval.schema import BenchmarkSample

MULTIPLE_CHOICE_INSTRUCTION = "Answer with the option's letter from the given choices directly."
"""lmms-eval's default post-prompt for video multiple-choice tasks."""

OPEN_ENDED_INSTRUCTION = "Answer the question using a single word or phrase."
"""LLaVA's short-answer instruction for open-ended questions."""


@dataclass(frozen=True)
class PromptFormat:
    """How a benchmark question becomes the user's text.

    Attributes:
        multiple_choice: The line after the options ("" for none).
        open_ended: The line after an open-ended question ("" for none).
    """

    multiple_choice: str = MULTIPLE_CHOICE_INSTRUCTION
    open_ended: str = OPEN_ENDED_INSTRUCTION

    def __call__(self, sample: BenchmarkSample) -> str:
        """The user text of ``sample`` (without the video marker)."""
        if sample.prompt is not None:
            return sample.prompt
        lines = [sample.question.strip()]
        if sample.options:
            pairs = zip(sample.letters, sample.options, strict=True)
            lines += [f"{letter}. {option.strip()}" for letter, option in pairs]
            instruction = self.multiple_choice
        else:
            instruction = self.open_ended
        if instruction:
            lines.append(instruction)
        return "\n".join(lines)
