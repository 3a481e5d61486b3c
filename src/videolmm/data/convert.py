"""LLaVA-Video-178K-style annotations + video files -> WebDataset shards and ``manifest.json``.

Each good record becomes ``{key}.{ext}`` (the video file's own bytes and container; ``ext`` is the
file's extension when it is one of `videolmm.data.sample.VIDEO_EXTENSIONS`, else ``mp4``) and
``{key}.json`` (the checked record, ``<image>`` rewritten to ``<video>``, plus ``video_info``); keys
are the record's position, zero-padded (``000000042``). Bad records are skipped and counted by
reason, with the first examples of each reason in the manifest, or stop the run in strict mode.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from videolmm.data.decode import PyAVDecoder, VideoDecoder, VideoInfo, check_source
from videolmm.data.errors import BadSampleError, SkipCounter
from videolmm.data.frames import FrameSelection
from videolmm.data.records import parse_record, resolve_video
from videolmm.data.sample import VIDEO_EXTENSIONS
from videolmm.data.shards import Manifest, ShardWriter

EXAMPLES_PER_REASON = 20
NOT_UTF8 = "record {} holds text that is not UTF-8"


class EveryFrame:
    """A sampler taking every frame (used to verify that a whole video decodes)."""

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """All ``num_frames`` indices."""
        return FrameSelection(tuple(range(num_frames)), tuple(i / fps for i in range(num_frames)))


def load_annotations(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(position, value)`` of every record in a JSON list or a JSON-lines file.

    A JSON-lines line that is not UTF-8 or does not parse, and a record holding text that is not
    UTF-8, are yielded as `BadSampleError` values (``bad_json``); the other records still load.
    """
    path = Path(path)
    if path.suffix == ".jsonl":
        with path.open("rb") as lines:
            for position, line in enumerate(lines):
                if line.strip():
                    yield position, _json_line(line, position)
        return
    try:  # undecodable bytes become lone surrogates, so that only the records holding them are refused
        data = json.loads(path.read_bytes().decode("utf-8", errors="surrogateescape"))
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{path} is not a JSON document: {type(error).__name__}: {error}") from None
    if not isinstance(data, list):
        raise ValueError(f"{path} must hold a JSON list of records, got {type(data).__name__}")
    for position, value in enumerate(data):
        yield position, value if _is_unicode(value) else BadSampleError("bad_json", NOT_UTF8.format(position))


def _json_line(line: bytes, position: int) -> Any:
    """One JSON-lines record, or a `BadSampleError` saying why it is not one."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, over-long integers, nesting too deep
        return BadSampleError("bad_json", f"line {position + 1}: {type(error).__name__}: {error}")
    return value if _is_unicode(value) else BadSampleError("bad_json", NOT_UTF8.format(position))


def _is_unicode(value: Any) -> bool:
    """Whether every string in a decoded JSON value is valid Unicode (no lone surrogates)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def convert_record(
    value: Any, video_root: Path, decoder: VideoDecoder, verify: bool
) -> tuple[dict[str, bytes], VideoInfo]:
    """One annotation value -> shard members and the video's properties, or `BadSampleError`."""
    if isinstance(value, BadSampleError):
        raise value
    record = parse_record(value)
    path = resolve_video(video_root, record.video)
    check_source(path)
    data = path.read_bytes()
    info = decoder.read(data, EveryFrame()).info if verify else decoder.probe(data)
    document = record.to_json()
    document["video_info"] = {
        "num_frames": info.num_frames,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "duration": round(info.duration, 3),
    }
    extension = path.suffix.lower().lstrip(".")
    if extension not in VIDEO_EXTENSIONS:  # the reader finds the video by these; decoders probe the bytes anyway
        extension = "mp4"
    return {extension: data, "json": json.dumps(document).encode()}, info


def convert_annotations(
    annotations: str | Path,
    video_root: str | Path,
    output: str | Path,
    samples_per_shard: int = 1000,
    decoder: VideoDecoder | None = None,
    strict: bool = False,
    verify: bool = False,
    progress: bool = True,
) -> Manifest:
    """Convert an annotation file into shards under ``output`` and write ``manifest.json``.

    Args:
        annotations: A JSON list (or ``.jsonl``) of LLaVA-Video-178K records.
        video_root: Folder the records' ``video`` paths are relative to; paths leaving it are skipped.
        output: Folder for ``shard-*.tar`` and ``manifest.json``.
        samples_per_shard: Samples per tar file.
        decoder: Opens each video to check it and read its length (default `PyAVDecoder`).
        strict: Stop at the first bad record (`BadSampleError` naming the record and reason).
        verify: Decode every frame of every video (slow) instead of opening the container only.
        progress: Show a progress bar.
    """
    decoder = decoder if decoder is not None else PyAVDecoder()
    root, counter = Path(video_root), SkipCounter(strict)
    manifest = Manifest(extra={"annotations": str(annotations), "video_root": str(root), "verified": verify})
    examples: list[dict[str, Any]] = []
    with ShardWriter(output, samples_per_shard) as writer:
        for position, value in tqdm(load_annotations(annotations), desc="prepare", unit="sample", disable=not progress):
            key = f"{position:09d}"
            try:
                members, info = convert_record(value, root, decoder, verify)
            except BadSampleError as error:
                label = f"{key} (id {value['id']!r})" if isinstance(value, dict) and "id" in value else key
                counter.skip(error.with_key(label))
                if sum(e["reason"] == error.reason for e in examples) < EXAMPLES_PER_REASON:
                    examples.append({"key": label, "reason": error.reason, "detail": error.detail})
                continue
            writer.write(key, members)
            manifest.samples_written += 1
            manifest.total_duration += info.duration
        manifest.shards = writer.close()
    manifest.skipped = counter.as_dict()
    manifest.extra["skipped_examples"] = examples
    manifest.write(output)
    return manifest
