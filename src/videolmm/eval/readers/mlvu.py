"""MLVU dev, multiple-choice tasks (the official ``json/`` folder, one file per task).

Expected layout under ``root``::

    json/1_plotQA.json, json/2_needle.json, ..., json/7_topic_reasoning.json
    video/1_plotQA/{video}      # the folder named like the json file, or
    video/plotQA/{video}        # named by the task (the evaluation scripts' layout)

Each file is a list of ``{"video", "question", "candidates", "answer" (the correct candidate's
text), "question_type"?, "duration"?}``. Files whose items have no ``candidates`` (the generation
tasks ``8_sub_scene`` and ``9_summary``) are not multiple choice and are left out. The question
type is the item's ``question_type``, else the file name without its number.
"""

import re
from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json
from videolmm.eval.readers.rows import choice_sample
from videolmm.eval.schema import BenchmarkSample


class MLVU:
    """Read MLVU's multiple-choice tasks (see the module docstring).

    Args:
        root: The dataset folder.
        json_dir: The annotation folder relative to ``root``.
        video_dir: The video folder relative to ``root``.
    """

    name = "mlvu"

    def __init__(self, root: str | Path, json_dir: str = "json", video_dir: str = "video") -> None:
        self.root = Path(root)
        self.json_dir = json_dir
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every multiple-choice question as a `BenchmarkSample`."""
        files = sorted((self.root / self.json_dir).glob("*.json"))
        if not files:
            raise FileNotFoundError(f"MLVU annotations not found: no *.json in {self.root / self.json_dir}")
        samples = []
        for path in files:
            items = read_json(path, "MLVU task file")
            if not all("candidates" in item for item in items):
                continue  # a generation task
            task = re.sub(r"^\d+_", "", path.stem)
            folder = self._video_folder(path.stem, task)
            samples += [self._sample(item, f"{path.stem}-{i}", task, folder) for i, item in enumerate(items)]
        return samples

    def _video_folder(self, stem: str, task: str) -> Path:
        by_file, by_task = self.root / self.video_dir / stem, self.root / self.video_dir / task
        return by_task if by_task.is_dir() and not by_file.is_dir() else by_file

    def _sample(self, item: dict, key: str, task: str, folder: Path) -> BenchmarkSample:
        options = tuple(str(c).strip() for c in item["candidates"])
        answer = str(item["answer"]).strip()
        if answer not in options:
            raise ValueError(f"mlvu {key}: the answer {answer!r} is not among the candidates {options}")
        return choice_sample(
            benchmark=self.name,
            key=key,
            video=find_video(folder, str(item["video"])),
            question=item["question"],
            options=options,
            answer_index=options.index(answer),
            question_type=item.get("question_type") or task,
            duration=item.get("duration"),
        )
