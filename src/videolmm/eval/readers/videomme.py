"""Video-MME (Hugging Face ``lmms-lab/Video-MME``): one row per question.

Expected layout under ``root``::

    videomme/test-00000-of-00001.parquet   # or any .json / .jsonl / .csv with the same columns
    data/{videoID}.mp4

Columns used: ``question_id``, ``videoID``, ``question``, ``options`` (``["A. ...", "B. ...", ...]``),
``answer`` (a letter), ``task_type`` (the question type), ``duration`` (``short`` / ``medium`` /
``long``, the published duration groups). Options lose their ``"A. "`` prefix; a prefix that
does not match the option's position is an error.
"""

import re
from pathlib import Path

from videolmm.eval.readers.files import find_video, read_table
from videolmm.eval.schema import BenchmarkSample

_PREFIX = re.compile(r"^\s*([A-Z])[.)]\s*")


def strip_option_letter(option: str, letter: str, where: str) -> str:
    """``"B. a cat"`` -> ``"a cat"``; the prefix must be ``letter`` (text without a prefix is kept)."""
    match = _PREFIX.match(option)
    if match is None:
        return option.strip()
    if match.group(1) != letter:
        raise ValueError(f"{where}: option {option!r} is labelled {match.group(1)} at position {letter}")
    return option[match.end() :].strip()


class VideoMME:
    """Read Video-MME (see the module docstring).

    Args:
        root: The dataset folder.
        annotations: The question table, relative to ``root``.
        video_dir: The folder of the videos, relative to ``root``.
    """

    name = "videomme"

    def __init__(
        self,
        root: str | Path,
        annotations: str = "videomme/test-00000-of-00001.parquet",
        video_dir: str = "data",
    ) -> None:
        self.root = Path(root)
        self.annotations = annotations
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every question as a `BenchmarkSample`."""
        samples = []
        for row in read_table(self.root / self.annotations, "Video-MME annotations"):
            where = f"videomme {row['question_id']}"
            options = tuple(strip_option_letter(o, "ABCDEFGH"[i], where) for i, o in enumerate(row["options"]))
            samples.append(
                BenchmarkSample(
                    benchmark=self.name,
                    id=str(row["question_id"]),
                    video=find_video(self.root / self.video_dir, str(row["videoID"])),
                    question=row["question"],
                    answer=str(row["answer"]).strip(),
                    options=options,
                    question_type=row.get("task_type") or "all",
                    duration_group=row.get("duration"),
                )
            )
        return samples
