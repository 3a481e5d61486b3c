"""Perception Test, multiple-choice video QA (the official ``mc_question_valid.json`` or ``all_valid.json``).

Expected layout under ``root``::

    mc_question_valid.json
    videos/{video_id}.mp4

The file maps each video id to ``{"metadata": {"video_id", "num_frames", "fps", ...},
"mc_question": [{"id", "question", "options" (3 texts), "answer_id", "area", "reasoning", ...}]}``.
The question type is the question's ``area`` (memory, abstraction, physics, semantics); the
duration is ``num_frames / fps``.
"""

from pathlib import Path

from videolmm.eval.readers.files import find_video, read_json
from videolmm.eval.readers.rows import choice_sample
from videolmm.eval.schema import BenchmarkSample


class PerceptionTest:
    """Read Perception Test's multiple-choice questions (see the module docstring).

    Args:
        root: The dataset folder.
        annotations: The annotation file relative to ``root``.
        video_dir: The video folder relative to ``root``.
    """

    name = "perceptiontest"

    def __init__(
        self, root: str | Path, annotations: str = "mc_question_valid.json", video_dir: str = "videos"
    ) -> None:
        self.root = Path(root)
        self.annotations = annotations
        self.video_dir = video_dir

    def __call__(self) -> list[BenchmarkSample]:
        """Every multiple-choice question as a `BenchmarkSample`."""
        samples = []
        for video_id, entry in read_json(self.root / self.annotations, "Perception Test annotations").items():
            meta = entry.get("metadata", {})
            duration = meta["num_frames"] / meta["fps"] if meta.get("num_frames") and meta.get("fps") else None
            video = find_video(self.root / self.video_dir, str(video_id))
            for question in entry.get("mc_question", []):
                samples.append(
                    choice_sample(
                        benchmark=self.name,
                        key=f"{video_id}-{question['id']}",
                        video=video,
                        question=question["question"],
                        options=question["options"],
                        answer_index=question["answer_id"],
                        question_type=question.get("area"),
                        duration=duration,
                    )
                )
        return samples
