"""Turning one record + its video into a training sample: decode, sample, transform, tokenise.

`SampleProcessor` is what a loader worker runs per sample. It holds no open files or
processes, so it pickles into ``DataLoader`` workers. Everything it rejects is a `BadSampleError`.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from videolmm.data.conversation import ChatTemplate, add_time_instruction
from videolmm.data.decode import Source, VideoDecoder
from videolmm.data.errors import BadSampleError
from videolmm.data.frames import FrameSampler, time_instruction
from videolmm.data.records import VideoRecord, parse_record_bytes
from videolmm.layout import SeparatorLayout, visual_token_count
from videolmm.reducers import TokenReducer
from videolmm.reducers.base import check_grid
from videolmm.shapes import Grid

VIDEO_EXTENSIONS: tuple[str, ...] = ("mp4", "webm", "mkv", "mov", "avi", "m4v")
"""Shard member extensions read as the video, in this order of preference."""


@dataclass(frozen=True)
class VideoSample:
    """One sample ready for collation.

    Attributes:
        key: The sample key (the shard key, or the record id).
        frames: (T, C, H, W) float32, transformed.
        input_ids: (S,) int64 with ``num_visual_tokens`` placeholder ids.
        labels: (S,) int64, ``-100`` where ignored.
        num_visual_tokens: ``L`` for ``T`` frames.
        record: The annotation record (question type, answer, ... for evaluation).
    """

    key: str
    frames: Tensor
    input_ids: Tensor
    labels: Tensor
    num_visual_tokens: int
    record: VideoRecord


class VisualBudget:
    """Visual tokens per video as a function of ``T``: the reducer's tokens plus the separators'.

    Args:
        reducer: The model's token reducer.
        layout: The model's separator layout (``model.separators.layout``), or ``None``.
        grid: The encoder's patch grid ``(h, w)``.
    """

    def __init__(self, reducer: TokenReducer, layout: SeparatorLayout | None = None, grid: Grid = (27, 27)) -> None:
        self.reducer = reducer
        self.layout = layout
        self.grid = check_grid(tuple(grid))

    def __repr__(self) -> str:
        return f"VisualBudget({self.reducer!r}, grid={self.grid})"

    def __call__(self, num_frames: int) -> int:
        """``visual_token_count`` for ``num_frames``; `BadSampleError` if the reducer needs more frames."""
        if num_frames < self.reducer.min_frames:
            raise BadSampleError("too_few_frames", f"T={num_frames} but the reducer needs {self.reducer.min_frames}")
        return visual_token_count(self.reducer, self.layout, num_frames, self.grid)


def video_member(raw: Mapping[str, bytes], key: str = "") -> bytes:
    """The video bytes among a shard sample's members (the first of `VIDEO_EXTENSIONS` present)."""
    for extension in VIDEO_EXTENSIONS:
        if extension in raw:
            return raw[extension]
    raise BadSampleError("missing_video", f"no video member among {sorted(raw)}", key)


class SampleProcessor:
    """Record + video -> `VideoSample`.

    Args:
        decoder: Reads the frames (`PyAVDecoder` or `TorchCodecDecoder`).
        frames: The frame sampler.
        transform: uint8 (T, C, H, W) -> float (T, C, S, S), matched to the encoder.
        chat: The conversation template (tokenizer, label policy, max length).
        budget: ``T -> L``, usually a `VisualBudget`.
        time_instruction: Add LLaVA-Video's time instruction to the first user turn.
    """

    def __init__(
        self,
        decoder: VideoDecoder,
        frames: FrameSampler,
        transform: Callable[[Tensor], Tensor],
        chat: ChatTemplate,
        budget: Callable[[int], int],
        time_instruction: bool = False,
    ) -> None:
        self.decoder = decoder
        self.frames = frames
        self.transform = transform
        self.chat = chat
        self.budget = budget
        self.time_instruction = bool(time_instruction)

    def from_shard(self, raw: Mapping[str, bytes], key: str, *, rng: np.random.Generator, train: bool) -> VideoSample:
        """Process a shard sample (``{"json": ..., "mp4": ...}``); errors carry ``key``."""
        try:
            if "json" not in raw:
                raise BadSampleError("missing_field", f"no json member among {sorted(raw)}")
            record = parse_record_bytes(raw["json"])
            return self.process(record, video_member(raw), key, rng=rng, train=train)
        except BadSampleError as error:
            raise error.with_key(key) from None

    def process(
        self, record: VideoRecord, source: Source, key: str, *, rng: np.random.Generator, train: bool
    ) -> VideoSample:
        """Decode ``source`` for ``record`` and tokenise its conversation.

        Shapes:
            frames: (T, C, H, W) float32
        """
        video = self.decoder.read(source, self.frames, rng=rng, train=train)
        num_visual = self.budget(len(video.selection))
        turns = record.turns
        if self.time_instruction:
            turns = add_time_instruction(turns, time_instruction(video.info.duration, video.selection))
        encoded = self.chat.encode(turns, num_visual)
        frames = self.transform(video.frames)  # (T, C, H, W) uint8 -> (T, C, S, S) float32
        return VideoSample(key, frames, encoded.input_ids, encoded.labels, num_visual, record)
