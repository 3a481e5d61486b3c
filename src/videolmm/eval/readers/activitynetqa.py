"""ActivityNet-QA, open-ended (the official ``{split}_q.json`` and ``{split}_a.json``).

Expected layout under ``root``::

    test_q.json    # [{"video_name", "question_id", "question"}]
    test_a.json    # [{"question_id", "answer", "type"}]
    videos/v_{video_name}.mp4   # ActivityNet's file names (.mkv / .webm are found too)

``type`` is the question type: 0 motion, 1 spatial relation, 2 temporal relation, 3 yes/no,
4 color, 5 object, 6 location, 7 number, 8 other. The published metric is a GPT judge's verdict;
without a judge (`videolmm.eval.judge`) answers are scored by normalised exact match, which is
stricter and not comparable with published numbers.
"""

from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json
from videolmm.eval.schema import BenchmarkSample

QUESTION_TYPES: dict[int, str] = {
    0: "motion",
    1: "spatial relation",
    2: "temporal relation",
    3: "yes/no",
    4: "color",
    5: "object",
    6: "location",
    7: "number",
    8: "other",
}
"""ActivityNet-QA's ``type`` codes."""


class ActivityNetQA:
    """Read ActivityNet-QA (see the module docstring).

    Args:
        root: The dataset folder.
        split: ``"test"``, ``"val"`` or ``"train"`` (picks the file names).
        video_dir: The video folder relative to ``root``.
    """

    name = "activitynetqa"

    def __init__(self, root: str | Path, split: str = "test", video_dir: str = "videos") -> None:
        self.root = Path(root)
        self.split = split
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every question as an open-ended `BenchmarkSample`."""
        questions = read_json(self.root / f"{self.split}_q.json", "ActivityNet-QA questions")
        answers = {a["question_id"]: a for a in read_json(self.root / f"{self.split}_a.json", "ActivityNet-QA answers")}
        samples = []
        for row in questions:
            key = str(row["question_id"])
            if key not in answers:
                raise ValueError(f"activitynetqa {key}: no answer in {self.split}_a.json")
            answer = answers[key]
            samples.append(
                BenchmarkSample(
                    benchmark=self.name,
                    id=key,
                    video=find_video(self.root / self.video_dir, f"v_{row['video_name']}"),
                    question=str(row["question"]).strip(),
                    answer=str(answer["answer"]).strip(),
                    question_type=QUESTION_TYPES.get(int(answer["type"]), str(answer["type"])),
                )
            )
        return samples
