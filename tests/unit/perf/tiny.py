"""The tiny model config and samples the performance tests share (7x7 grid pooled to 3x3: 9 tokens per frame)."""

from pathlib import Path

import torch
from omegaconf import OmegaConf

import videolmm.conf
from videolmm.data import IGNORE_INDEX, Turn, VideoRecord, VideoSample
from videolmm.training import Stage
from videolmm.training.module import VideoLMMModule

CONF = Path(videolmm.conf.__file__).parent
VIDEO_ID = 255
FULL = Stage("full", {"encoder": True, "projector": True, "separators": True, "llm": True})


def model_config(llm_name: str = "tiny", **overrides):
    """The tiny model's config node; ``overrides`` are merged into it (``llm={"flatten_packed": True}``)."""
    groups = {g: OmegaConf.load(CONF / g / f"{name}.yaml") for g, name in
              [("encoder", "tiny"), ("reducer", "avg_pool_2x2"), ("projector", "mlp2x_gelu"),
               ("separators", "none"), ("llm", llm_name)]}  # fmt: skip
    cfg = OmegaConf.create({**groups, "video_token_id": VIDEO_ID, "reduce_after_projector": True})
    return OmegaConf.merge(cfg, OmegaConf.create(overrides))


def new_module(llm_name: str = "tiny", **overrides) -> VideoLMMModule:
    torch.manual_seed(0)
    module = VideoLMMModule(model_config(llm_name, **overrides), FULL, torch.optim.SGD, lr=0.1)
    module.configure_model()
    return module


def video_sample(key: str, num_labels: int, num_frames: int, seed: int) -> VideoSample:
    """3 prompt ids, 9 placeholders per frame, then ``num_labels`` labelled answer ids."""
    g = torch.Generator().manual_seed(seed)
    prompt = torch.randint(0, 200, (3,), generator=g)
    answer = torch.randint(0, 200, (num_labels,), generator=g)
    ids = torch.cat([prompt, torch.full((9 * num_frames,), VIDEO_ID), answer])
    labels = torch.cat([torch.full((3 + 9 * num_frames,), IGNORE_INDEX), answer])
    record = VideoRecord(key, f"{key}.mp4", (Turn("user", "<video>"), Turn("assistant", "x")))
    frames = torch.randn(num_frames, 3, 28, 28, generator=g)
    return VideoSample(key, frames, ids, labels, 9 * num_frames, record)
