"""NExT-QA, multiple choice (the official ``{split}.csv``; lmms-eval's ``NExTQA`` ``MC`` config has the same columns).

Expected layout under ``root``::

    test.csv                     # or val.csv; .json / .jsonl / .parquet with the same columns work too
    map_vid_vidorID.json         # optional: video id -> "folder/vidor id" (the official video layout)
    NExTVideo/{folder}/{vidor id}.mp4   # with the map; NExTVideo/{video}.mp4 without it

Columns used: ``video``, ``qid``, ``question``, ``a0`` ... ``a4``, ``answer`` (the index of the
correct option), ``type`` (the question type: CW, CH causal; TN, TC, TP temporal; DL, DC, DO, DB
descriptive), ``frame_count``.
"""

from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json, read_table
from videolmm.eval.readers.rows import choice_sample
from videolmm.eval.schema import BenchmarkSample

NUM_OPTIONS = 5


class NExTQA:
    """Read NExT-QA's multiple-choice split (see the module docstring).

    Args:
        root: The dataset folder.
        split: ``"test"`` or ``"val"`` (picks ``{split}.csv`` unless ``annotations`` is given).
        annotations: The question table relative to ``root`` (default ``{split}.csv``).
        video_dir: The video folder relative to ``root``.
        video_map: The video-id map relative to ``root`` (used when the file exists).
    """

    name = "nextqa_mc"

    def __init__(
        self,
        root: str | Path,
        split: str = "test",
        annotations: str | None = None,
        video_dir: str = "NExTVideo",
        video_map: str = "map_vid_vidorID.json",
    ) -> None:
        self.root = Path(root)
        self.annotations = annotations or f"{split}.csv"
        self.video_dir = video_dir
        self.video_map = video_map

    def __call__(self) -> list[BenchmarkSample]:
        """Every question as a `BenchmarkSample`."""
        map_path = self.root / self.video_map
        paths = read_json(map_path, "NExT-QA video map") if map_path.is_file() else {}
        samples = []
        for row in read_table(self.root / self.annotations, "NExT-QA annotations"):
            video = str(row["video"])
            key = f"{video}-{row['qid']}"
            samples.append(
                choice_sample(
                    benchmark=self.name,
                    key=key,
                    video=find_video(self.root / self.video_dir, paths.get(video, video)),
                    question=row["question"],
                    options=[row[f"a{i}"] for i in range(NUM_OPTIONS)],
                    answer_index=row["answer"],
                    question_type=row.get("type"),
                    where=f"nextqa {key}",
                )
            )
        return samples
