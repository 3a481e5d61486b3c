"""LongVideoBench (the official ``lvb_val.json``).

Expected layout under ``root``::

    lvb_val.json
    videos/{video_path}

Each item: ``{"id", "question", "candidates", "correct_choice" (index), "video_path",
"duration" (seconds), "duration_group" (15, 60, 600 or 3600), "question_category", ...}``. The
duration groups are reported with the benchmark's labels (``8-15s``, ``15-60s``, ``180-600s``,
``900-3600s``); the question type is ``question_category``. The test file (``lvb_test_wo_gt.json``)
has no answers and cannot be scored offline.
"""

from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json
from videolmm.eval.readers.rows import choice_sample
from videolmm.eval.schema import BenchmarkSample

DURATION_GROUPS: dict[int, str] = {15: "8-15s", 60: "15-60s", 600: "180-600s", 3600: "900-3600s"}
"""LongVideoBench's duration groups (the upper bound in seconds) and their labels in the paper."""


class LongVideoBench:
    """Read LongVideoBench's validation set (see the module docstring).

    Args:
        root: The dataset folder.
        annotations: The question file relative to ``root``.
        video_dir: The video folder relative to ``root``.
    """

    name = "longvideobench"

    def __init__(self, root: str | Path, annotations: str = "lvb_val.json", video_dir: str = "videos") -> None:
        self.root = Path(root)
        self.annotations = annotations
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every question as a `BenchmarkSample`."""
        samples = []
        for item in read_json(self.root / self.annotations, "LongVideoBench annotations"):
            key = str(item["id"])
            if "correct_choice" not in item:
                raise ValueError(f"longvideobench {key}: no correct_choice (the test file cannot be scored offline)")
            group = item.get("duration_group")
            samples.append(
                choice_sample(
                    benchmark=self.name,
                    key=key,
                    video=find_video(self.root / self.video_dir, str(item["video_path"])),
                    question=item["question"],
                    options=item["candidates"],
                    answer_index=item["correct_choice"],
                    question_type=item.get("question_category"),
                    duration=item.get("duration"),
                    duration_group=None if group is None else DURATION_GROUPS.get(int(group), f"<={group}s"),
                )
            )
        return samples
