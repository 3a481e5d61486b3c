"""The video data pipeline: decode, sample frames, transform, tokenise conversations, shards, loaders.

`VideoDataModule` and `ShardPaths` (the Lightning side) are imported on first use, so that the
rest of the package, the workers and ``videolmm-prepare`` do not pay for importing Lightning.
"""

from typing import Any

from videolmm.data.collate import VideoCollator, batch_videos
from videolmm.data.conversation import (
    DEFAULT_SYSTEM_PROMPT,
    LABEL_POLICIES,
    ChatTemplate,
    EncodedConversation,
    add_time_instruction,
    move_marker_to_front,
)
from videolmm.data.convert import convert_annotations, load_annotations
from videolmm.data.decode import DecodedVideo, PyAVDecoder, TorchCodecDecoder, VideoDecoder, VideoInfo, check_source
from videolmm.data.encode import encode_video
from videolmm.data.errors import SKIP_REASONS, BadSampleError, SkipCounter
from videolmm.data.frames import (
    FpsFrames,
    FrameSampler,
    FrameSelection,
    PllavaFrames,
    SegmentMidpointFrames,
    UniformFrames,
    time_instruction,
)
from videolmm.data.loader import ResumableLoader, merge_loader_states
from videolmm.data.reader import ReadItem, ShardReader, WorkerPosition, shuffle_buffer
from videolmm.data.records import VIDEO_MARKER, Turn, VideoRecord, parse_record, resolve_video
from videolmm.data.sample import SampleProcessor, VideoSample, VisualBudget
from videolmm.data.shards import Manifest, RawSample, ShardInfo, ShardWriter, expand_urls, read_shard
from videolmm.data.synthetic import SyntheticShards, TemporalBenchmark, synthetic_tokenizer
from videolmm.data.tokenizer import QWEN2_SPECIAL_TOKENS, qwen2_tokenizer
from videolmm.data.transforms import (
    CLIP_MEAN,
    CLIP_STD,
    ClipTransform,
    FrameTransform,
    SiglipTransform,
    check_transform,
    transform_from,
)
from videolmm.llm.loss import IGNORE_INDEX  # re-exported: labels are built here, the loss owns the value

_LIGHTNING = ("ShardPaths", "VideoDataModule")


def __getattr__(name: str) -> Any:
    """Import the Lightning-side names on first access."""
    if name in _LIGHTNING:
        from videolmm.data import datamodule

        return getattr(datamodule, name)
    raise AttributeError(f"module 'videolmm.data' has no attribute {name!r}")


__all__ = [
    "CLIP_MEAN",
    "CLIP_STD",
    "DEFAULT_SYSTEM_PROMPT",
    "IGNORE_INDEX",
    "LABEL_POLICIES",
    "QWEN2_SPECIAL_TOKENS",
    "SKIP_REASONS",
    "VIDEO_MARKER",
    "BadSampleError",
    "ChatTemplate",
    "ClipTransform",
    "DecodedVideo",
    "EncodedConversation",
    "FpsFrames",
    "FrameSampler",
    "FrameSelection",
    "FrameTransform",
    "Manifest",
    "PllavaFrames",
    "PyAVDecoder",
    "RawSample",
    "ReadItem",
    "ResumableLoader",
    "SampleProcessor",
    "SegmentMidpointFrames",
    "ShardInfo",
    "ShardPaths",
    "ShardReader",
    "ShardWriter",
    "SiglipTransform",
    "SkipCounter",
    "SyntheticShards",
    "TemporalBenchmark",
    "TorchCodecDecoder",
    "Turn",
    "UniformFrames",
    "VideoCollator",
    "VideoDataModule",
    "VideoDecoder",
    "VideoInfo",
    "VideoRecord",
    "VideoSample",
    "VisualBudget",
    "WorkerPosition",
    "add_time_instruction",
    "batch_videos",
    "check_source",
    "check_transform",
    "convert_annotations",
    "encode_video",
    "expand_urls",
    "load_annotations",
    "merge_loader_states",
    "move_marker_to_front",
    "parse_record",
    "qwen2_tokenizer",
    "read_shard",
    "resolve_video",
    "shuffle_buffer",
    "synthetic_tokenizer",
    "time_instruction",
    "transform_from",
]
