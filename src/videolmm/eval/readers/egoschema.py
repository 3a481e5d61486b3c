"""EgoSchema (the official ``questions.json`` and ``subset_answers.json``).

Expected layout under ``root``::

    questions.json         # [{"q_uid", "question", "option 0", ..., "option 4", ...}]
    subset_answers.json    # {q_uid: correct option index}: the 500-question subset with public answers
    videos/{q_uid}.mp4

The full set's answers are not public (lmms-eval scores it by posting to a server), so this reads
the questions that have an answer, the subset lmms-eval calls ``egoschema_subset``; an answer whose
question is missing from ``questions.json`` is an error. Every clip lasts 180 seconds.
"""

from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json
from videolmm.eval.readers.rows import choice_sample
from videolmm.eval.schema import BenchmarkSample

NUM_OPTIONS = 5
CLIP_SECONDS = 180.0


class EgoSchema:
    """Read EgoSchema's questions that have public answers (see the module docstring).

    Args:
        root: The dataset folder.
        questions: The question file relative to ``root``.
        answers: The answer file relative to ``root``.
        video_dir: The video folder relative to ``root``.
    """

    name = "egoschema"

    def __init__(
        self,
        root: str | Path,
        questions: str = "questions.json",
        answers: str = "subset_answers.json",
        video_dir: str = "videos",
    ) -> None:
        self.root = Path(root)
        self.questions = questions
        self.answers = answers
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every answered question as a `BenchmarkSample`."""
        answers = read_json(self.root / self.answers, "EgoSchema answers")
        rows = {str(row["q_uid"]): row for row in read_json(self.root / self.questions, "EgoSchema questions")}
        missing = sorted(set(answers) - set(rows))
        if missing:
            raise ValueError(f"egoschema: {len(missing)} answered questions are not in {self.questions}: {missing[:5]}")
        samples = []
        for uid, row in rows.items():
            if uid not in answers:
                continue  # no public answer: not scorable offline
            samples.append(
                choice_sample(
                    benchmark=self.name,
                    key=uid,
                    video=find_video(self.root / self.video_dir, uid),
                    question=row["question"],
                    options=[row[f"option {i}"] for i in range(NUM_OPTIONS)],
                    answer_index=answers[uid],
                    duration=CLIP_SECONDS,
                )
            )
        return samples
