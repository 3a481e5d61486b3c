"""Shared fixtures of the evaluation tests: the tiny model, the synthetic tokenizer, small real mp4s."""

from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

import videolmm.conf
from videolmm.data import ChatTemplate, PyAVDecoder, UniformFrames, VisualBudget, encode_video
from videolmm.data.synthetic import synthetic_tokenizer
from videolmm.eval import BenchmarkSample, VideoPrompter, matched_transform
from videolmm.model import build_model

CONF = Path(videolmm.conf.__file__).parent
VIDEO_ID = 3  # the synthetic tokenizer's <|video_pad|>


def model_config(separators: str = "grid"):
    """The tiny twin: SigLIP 7x7 grid, avg pool /2, MLP, Qwen2 2 layers of width 64."""
    groups = {g: OmegaConf.load(CONF / g / f"{name}.yaml") for g, name in
              [("encoder", "tiny"), ("reducer", "avg_pool_2x2"), ("projector", "mlp2x_gelu"),
               ("separators", separators), ("llm", "tiny")]}  # fmt: skip
    return OmegaConf.create({**groups, "video_token_id": VIDEO_ID, "reduce_after_projector": True})


@pytest.fixture(scope="session")
def tiny_model():
    """The tiny random model in eval mode (seeded)."""
    torch.manual_seed(0)
    return build_model(model_config()).eval()


@pytest.fixture(scope="session")
def tokenizer():
    """The synthetic benchmark's word tokenizer (95 ids, fits the 256-id tiny LLM)."""
    return synthetic_tokenizer()


def moving_square_mp4(num_frames: int = 8, size: int = 32, fps: float = 4.0) -> bytes:
    """A real mp4: a white square moving right on black."""
    frames = np.zeros((num_frames, size, size, 3), dtype=np.uint8)
    for t in range(num_frames):
        frames[t, 10:18, 2 * t : 2 * t + 8] = 255
    return encode_video(frames, fps=fps)


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """A 2-second 8-frame mp4 on disk."""
    path = tmp_path_factory.mktemp("videos") / "square.mp4"
    path.write_bytes(moving_square_mp4())
    return path


def make_prompter(tokenizer, model, num_frames: int = 4, time_instruction: bool = False) -> VideoPrompter:
    """Decode with PyAV, ``num_frames`` uniform frames, the transform the encoder declares."""
    chat = ChatTemplate(tokenizer, placeholder_token="<|video_pad|>")
    budget = VisualBudget(model.reducer, model.separators.layout, model.grid)
    transform = matched_transform(model.encoder)
    return VideoPrompter(chat, PyAVDecoder(), UniformFrames(num_frames), transform, budget, time_instruction)


def mc(id: str, answer: str = "B", benchmark: str = "bench", qtype: str = "t1", duration: float | None = 30.0, **kw):
    """A four-option multiple-choice sample."""
    options = ("red square", "blue circle", "green cross", "cyan triangle")
    return BenchmarkSample(benchmark, id, "v.mp4", "Which shape?", answer, options, qtype, duration, **kw)


def oe(id: str, answer: str = "a red square", benchmark: str = "bench", qtype: str = "t1", **kw):
    """An open-ended sample."""
    return BenchmarkSample(benchmark, id, "v.mp4", "What is shown?", answer, (), qtype, 30.0, **kw)
