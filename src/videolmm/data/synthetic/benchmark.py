"""`TemporalBenchmark`: the generator with its knobs, and `SyntheticShards`, its shard source.

Sample ``i`` of split ``s`` is a pure function of ``(seed, s, i)`` and the knobs: the same settings
give the same mp4 bytes, the same JSON and the same tar shards. Kinds cycle with the index, so
every split is balanced over the kinds; answers and option orders are drawn uniformly.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from tqdm import tqdm

from videolmm.data.encode import encode_video
from videolmm.data.shards import Manifest, ShardWriter
from videolmm.data.synthetic.questions import KINDS, Geometry, Question
from videolmm.data.synthetic.scene import render

AnswerFormat = Literal["word_letter", "letter", "word"]
INSTRUCTIONS: dict[str, str] = {
    "word_letter": "Answer with the option's word followed by its letter.",
    "letter": "Answer with the option's letter from the given choices directly.",
    "word": "Answer with the option's word.",
}
"""The last line of a multiple-choice prompt, per answer format."""

SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
RECORD_VERSION = 2
"""Bumped when the generated records change, so cached shards of an older layout are regenerated."""
LETTERS = "ABCDEFGH"


def _reply(option: str, letter: str, answer_format: str) -> str:
    """The assistant's reply naming ``option`` in ``answer_format``: ``"right (B)"``, ``"B"`` or ``"right"``."""
    return {"word_letter": f"{option} ({letter})", "letter": letter, "word": option}[answer_format]


@dataclass(frozen=True)
class SyntheticSample:
    """One generated sample.

    Attributes:
        key: Shard key (``{split}-{index:06d}``).
        record: The annotation record (LLaVA-Video-178K layout plus kind, options, answer and
            ``candidates``: the reply each option would get, for closed-set scoring).
        video: The encoded mp4.
    """

    key: str
    record: dict[str, Any]
    video: bytes


class TemporalBenchmark:
    """Procedural videos of moving coloured shapes with temporal and control questions.

    Args:
        seed: Base seed; splits use disjoint streams.
        size: Frame side in pixels (even).
        num_frames: Frames per video (T).
        fps: Frame rate stored in the mp4.
        object_size: Area of one object as a fraction of the frame (0.12: about 11x11 px at 32x32).
        kinds: Question kinds to generate (see `videolmm.data.synthetic.questions.KINDS`).
        answer_format: Multiple-choice answer: ``"word_letter"`` (``"right (B)"``), ``"letter"`` or ``"word"``.
        multiple_choice: Fraction of multiple-choice questions; the rest are open-ended (answer: the word).
        difficulty: 0 to 1: up to two static distractors, shorter motions, pixel noise up to 6%.
        texture: 0 to 1: amplitude of a static blocky background texture (0: plain).
        crf: x264 quality (lower is closer to the rendered frames).
    """

    def __init__(
        self,
        seed: int = 0,
        size: int = 32,
        num_frames: int = 8,
        fps: float = 4.0,
        object_size: float = 0.12,
        kinds: Sequence[str] = tuple(KINDS),
        answer_format: str = "word_letter",
        multiple_choice: float = 0.5,
        difficulty: float = 0.0,
        texture: float = 0.0,
        crf: int = 12,
    ) -> None:
        side = round(math.sqrt(object_size) * size)
        if size < 8 or size % 2 or not 2 <= side <= size // 2:
            raise ValueError(f"need an even size >= 8 and objects of 2..size/2 px, got size={size}, side={side}")
        if num_frames < 3:
            raise ValueError(f"num_frames must be >= 3 for the temporal kinds, got {num_frames}")
        unknown = [k for k in kinds if k not in KINDS]
        if unknown or not kinds:
            raise ValueError(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
        if answer_format not in get_args(AnswerFormat):
            raise ValueError(f"answer_format must be one of {get_args(AnswerFormat)}, got {answer_format!r}")
        if not (0 <= multiple_choice <= 1 and 0 <= difficulty <= 1 and 0 <= texture <= 1):
            raise ValueError("multiple_choice, difficulty and texture must lie in [0, 1]")
        self.seed, self.size, self.num_frames, self.fps = int(seed), int(size), int(num_frames), float(fps)
        self.object_size, self.kinds, self.answer_format = float(object_size), tuple(kinds), answer_format
        self.multiple_choice, self.difficulty, self.texture, self.crf = multiple_choice, difficulty, texture, crf
        self.geometry = Geometry(self.size, side, self.num_frames, float(difficulty))

    def settings(self) -> dict[str, Any]:
        """Every knob (what a manifest records to tell whether shards are up to date)."""
        return {
            "record_version": RECORD_VERSION,
            "seed": self.seed,
            "size": self.size,
            "num_frames": self.num_frames,
            "fps": self.fps,
            "object_size": self.object_size,
            "kinds": list(self.kinds),
            "answer_format": self.answer_format,
            "multiple_choice": self.multiple_choice,
            "difficulty": self.difficulty,
            "texture": self.texture,
            "crf": self.crf,
        }

    def __repr__(self) -> str:
        return f"TemporalBenchmark({', '.join(f'{k}={v!r}' for k, v in self.settings().items())})"

    def sample(self, split: str, index: int) -> SyntheticSample:
        """Generate sample ``index`` of ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
        rng = np.random.default_rng([self.seed, SPLIT_IDS[split], index])
        name = self.kinds[index % len(self.kinds)]
        question = KINDS[name].build(rng, self.geometry)
        frames = render(
            question.objects, self.size, self.geometry.side, self.texture, 0.06 * self.difficulty, rng
        )  # (T, H, W, 3) uint8
        key = f"{split}-{index:06d}"
        record = self._record(key, question, rng)
        return SyntheticSample(key, record, encode_video(frames, fps=self.fps, crf=self.crf))

    def _record(self, key: str, question: Question, rng: np.random.Generator) -> dict[str, Any]:
        kind = KINDS[question.kind]
        multiple_choice = bool(rng.random() < self.multiple_choice)
        record: dict[str, Any] = {
            "id": f"synthetic-{key}",
            "video": f"{key}.mp4",
            "data_source": "synthetic_temporal",
            "question_type": kind.question_type,
            "kind": question.kind,
            "temporal": kind.temporal,
            "answer": question.answer,
        }
        if multiple_choice:
            options = [question.options[i] for i in rng.permutation(len(question.options))]
            letter = LETTERS[options.index(question.answer)]
            lines = [f"{LETTERS[i]}. {option}" for i, option in enumerate(options)]
            prompt = "\n".join([question.text, *lines, INSTRUCTIONS[self.answer_format]])
            replies = [_reply(option, LETTERS[i], self.answer_format) for i, option in enumerate(options)]
            record.update(format="multiple_choice", options=options, answer_letter=letter, candidates=replies)
            answer = replies[options.index(question.answer)]
        else:
            prompt, answer = question.text, question.answer
            options = list(question.options)
            record.update(format="open_ended", options=options, candidates=options)
        record["conversations"] = [{"from": "human", "value": f"<video>\n{prompt}"}, {"from": "gpt", "value": answer}]
        return record

    def write(
        self, output_dir: str | Path, split: str, count: int, samples_per_shard: int = 256, progress: bool = False
    ) -> Manifest:
        """Write ``count`` samples of ``split`` as shards plus ``manifest.json`` into ``output_dir``."""
        manifest = Manifest(extra={"generator": self.settings(), "split": split})
        with ShardWriter(output_dir, samples_per_shard) as writer:
            for index in tqdm(range(count), desc=f"synthetic {split}", disable=not progress):
                sample = self.sample(split, index)
                writer.write(sample.key, {"mp4": sample.video, "json": json.dumps(sample.record).encode()})
                manifest.samples_written += 1
                manifest.total_duration += self.num_frames / self.fps
            manifest.shards = writer.close()
        manifest.write(output_dir)
        return manifest


class SyntheticShards:
    """A shard source that generates the benchmark into ``root/{split}/`` when it is missing or stale.

    Args:
        root: Output folder.
        benchmark: The generator.
        train: Training samples.
        val: Validation samples.
        test: Test samples.
        samples_per_shard: Samples per tar file.
    """

    def __init__(
        self,
        root: str | Path,
        benchmark: TemporalBenchmark,
        train: int = 1024,
        val: int = 128,
        test: int = 256,
        samples_per_shard: int = 256,
    ) -> None:
        self.root = Path(root)
        self.benchmark = benchmark
        self.counts = {"train": int(train), "val": int(val), "test": int(test)}
        self.samples_per_shard = int(samples_per_shard)

    def _current(self, split: str) -> dict | None:
        path = self.root / split / "manifest.json"
        if not path.is_file():
            return None
        manifest = json.loads(path.read_text())
        fresh = (
            manifest.get("generator") == self.benchmark.settings()
            and manifest.get("samples_written") == self.counts[split]
        )
        return manifest if fresh else None

    def prepare(self) -> None:
        """Generate every split whose manifest is missing or was made with other settings."""
        for split, count in self.counts.items():
            if count and self._current(split) is None:
                for old in (self.root / split).glob("shard-*.tar"):
                    old.unlink()
                self.benchmark.write(self.root / split, split, count, self.samples_per_shard, progress=True)

    def urls(self, split: str) -> list[str] | None:
        """The split's shards (after `prepare`)."""
        manifest = self._current(split)
        if manifest is None:
            if self.counts[split]:
                raise FileNotFoundError(f"no up-to-date synthetic {split!r} shards under {self.root}: call prepare()")
            return None
        return [str(self.root / split / shard["name"]) for shard in manifest["shards"]]
