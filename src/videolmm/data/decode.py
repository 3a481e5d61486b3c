"""Video decoding from a path or from bytes: PyAV (always there) and torchcodec (needs system FFmpeg).

Both decoders share one contract: ``probe(source) -> VideoInfo`` and
``read(source, sampler, rng=, train=) -> DecodedVideo`` with frames (T, C, H, W) uint8 RGB.
Every failure becomes a `BadSampleError` with a reason: ``missing_video``, ``empty_video``,
``unreadable_video`` (the container cannot be opened: corrupt or truncated header, bytes that
are not a video), ``no_video_stream``, ``corrupt_video`` (decoding fails or the stream ends
before the frames it declares), ``too_few_frames``. The decoder is chosen by config.
"""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from videolmm.data.errors import BadSampleError
from videolmm.data.frames import FrameSampler, FrameSelection

if TYPE_CHECKING:  # both decoders import their library lazily
    from av.container import InputContainer
    from torchcodec.decoders import VideoDecoder as TorchCodecVideoDecoder

Source = str | Path | bytes
"""A video: a file path or the encoded bytes (a shard member)."""


@dataclass(frozen=True)
class VideoInfo:
    """What a container declares about its video stream.

    Attributes:
        num_frames: Frames in the stream (``n``).
        fps: Average frame rate.
        width: Pixels per row.
        height: Rows.
    """

    num_frames: int
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        """Length in seconds, ``n / fps`` (LLaVA-Video's ``video_time``)."""
        return self.num_frames / self.fps


@dataclass(frozen=True)
class DecodedVideo:
    """Frames read from one video.

    Attributes:
        frames: (T, C, H, W) uint8 RGB, in the order of ``selection.indices``.
        selection: The sampled indices and their times.
        info: The container's declared stream properties.
    """

    frames: Tensor
    selection: FrameSelection
    info: VideoInfo


@runtime_checkable
class VideoDecoder(Protocol):
    """The decoder contract (see the module docstring)."""

    def probe(self, source: Source) -> VideoInfo:
        """Open ``source`` and return its stream properties without decoding frames."""
        ...

    def read(
        self, source: Source, sampler: FrameSampler, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> DecodedVideo:
        """Decode the frames ``sampler`` picks."""
        ...


def check_source(source: Source) -> None:
    """Raise `BadSampleError` for a missing file or zero bytes, before any decoder sees it."""
    if isinstance(source, bytes | bytearray | memoryview):
        if len(source) == 0:
            raise BadSampleError("empty_video", "the video has 0 bytes")
        return
    path = Path(source)
    if not path.is_file():
        raise BadSampleError("missing_video", f"no file at {path}")
    if path.stat().st_size == 0:
        raise BadSampleError("empty_video", f"{path} has 0 bytes")


def _sample(sampler: FrameSampler, info: VideoInfo, rng: np.random.Generator | None, train: bool) -> FrameSelection:
    selection = sampler(info.num_frames, info.fps, rng=rng, train=train)
    if not selection.indices:
        raise BadSampleError("too_few_frames", f"{sampler!r} chose no frames from {info.num_frames}")
    return selection


class PyAVDecoder:
    """Decode with PyAV, which bundles its own FFmpeg (no system libraries needed).

    Frames are decoded in order up to the last one needed, and only the sampled ones are
    converted to RGB. The frame count is the container's; if the header has none, packets are
    counted.

    Args:
        threads: FFmpeg decoding threads per video (0: FFmpeg decides). Keep 1 with several loader
            workers on few cores.
    """

    def __init__(self, threads: int = 1) -> None:
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        self.threads = int(threads)
        import av  # noqa: F401  (fail at construction, not in a worker)

    def __repr__(self) -> str:
        return f"PyAVDecoder(threads={self.threads})"

    def _open(self, source: Source) -> "InputContainer":
        import av

        check_source(source)
        try:
            container = av.open(
                io.BytesIO(bytes(source)) if isinstance(source, bytes | bytearray) else str(source), "r"
            )
        except Exception as error:  # every FFmpeg / IO failure to open means the same thing here
            raise BadSampleError("unreadable_video", f"cannot open the container: {error}") from None
        if not container.streams.video:
            container.close()
            raise BadSampleError("no_video_stream", "the container has no video stream")
        return container

    def _info(self, container: "InputContainer") -> VideoInfo:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise BadSampleError("corrupt_video", "the video stream declares no frame rate")
        num_frames = stream.frames or sum(1 for packet in container.demux(stream) if packet.size)
        if num_frames < 1:
            raise BadSampleError("too_few_frames", "the video stream has no frames")
        return VideoInfo(int(num_frames), float(rate), int(stream.width), int(stream.height))

    def probe(self, source: Source) -> VideoInfo:
        """See `VideoDecoder.probe`."""
        container = self._open(source)
        try:
            return self._info(container)
        finally:
            container.close()

    def read(
        self, source: Source, sampler: FrameSampler, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> DecodedVideo:
        """See `VideoDecoder.read`.

        Shapes:
            frames: (T, C, H, W) uint8
        """
        container = self._open(source)
        try:
            info = self._info(container)
            if container.streams.video[0].frames == 0:  # the packet count consumed the demuxer: start over
                container.close()
                container = self._open(source)
            selection = _sample(sampler, info, rng, train)
            frames = self._decode(container, selection.indices, info)
        finally:
            container.close()
        return DecodedVideo(frames, selection, info)

    def _decode(self, container: "InputContainer", indices: tuple[int, ...], info: VideoInfo) -> Tensor:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = self.threads
        from av.video.reformatter import VideoReformatter

        reformatter = VideoReformatter()  # keeps its conversion context across frames: 2-4x faster than to_ndarray
        wanted, last = set(indices), max(indices)
        kept: dict[int, np.ndarray] = {}
        count = 0
        try:
            for count, frame in enumerate(container.decode(stream), start=1):
                if count - 1 in wanted:
                    kept[count - 1] = reformatter.reformat(frame, format="rgb24").to_ndarray()
                if count - 1 >= last:
                    break
        except Exception as error:
            raise BadSampleError("corrupt_video", f"decoding failed after {count} frames: {error}") from None
        if len(kept) < len(wanted):
            raise BadSampleError(
                "corrupt_video", f"the stream ended after {count} frames; frame {last} of {info.num_frames} was needed"
            )
        array = np.stack([kept[i] for i in indices])  # (T, H, W, C)
        return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()  # (T, H, W, C) -> (T, C, H, W)


class TorchCodecDecoder:
    """Decode with torchcodec (needs the system FFmpeg shared libraries; fastest on short clips).

    Args:
        threads: FFmpeg decoding threads per video (0: FFmpeg decides).
        seek_mode: ``"exact"`` scans the file for an exact frame index (robust to wrong headers);
            ``"approximate"`` trusts the header (faster on long videos).
    """

    def __init__(self, threads: int = 1, seek_mode: str = "exact") -> None:
        if seek_mode not in ("exact", "approximate"):
            raise ValueError(f"seek_mode must be 'exact' or 'approximate', got {seek_mode!r}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads}")
        self.threads = int(threads)
        self.seek_mode: Literal["exact", "approximate"] = "exact" if seek_mode == "exact" else "approximate"
        try:
            from torchcodec.decoders import VideoDecoder  # noqa: F401
        except (ImportError, OSError, RuntimeError) as error:
            raise ImportError(f"torchcodec cannot load (it needs FFmpeg shared libraries): {error}") from error

    def __repr__(self) -> str:
        return f"TorchCodecDecoder(threads={self.threads}, seek_mode={self.seek_mode!r})"

    def _open(self, source: Source) -> "TorchCodecVideoDecoder":
        from torchcodec.decoders import VideoDecoder

        check_source(source)
        data = bytes(source) if isinstance(source, bytearray | memoryview) else source
        try:
            return VideoDecoder(
                data if isinstance(data, bytes) else str(data),
                seek_mode=self.seek_mode,
                num_ffmpeg_threads=self.threads,
                dimension_order="NCHW",
            )
        except Exception as error:
            reason = "no_video_stream" if "video stream" in str(error).lower() else "unreadable_video"
            raise BadSampleError(reason, f"cannot open the container: {error}") from None

    @staticmethod
    def _info(decoder: "TorchCodecVideoDecoder") -> VideoInfo:
        meta = decoder.metadata
        if not meta.num_frames or meta.num_frames < 1:
            raise BadSampleError("too_few_frames", f"the video stream has {meta.num_frames} frames")
        if not meta.average_fps:
            raise BadSampleError("corrupt_video", "the video stream declares no frame rate")
        if meta.width is None or meta.height is None:
            raise BadSampleError("corrupt_video", "the video stream declares no frame size")
        return VideoInfo(int(meta.num_frames), float(meta.average_fps), int(meta.width), int(meta.height))

    def probe(self, source: Source) -> VideoInfo:
        """See `VideoDecoder.probe`."""
        return self._info(self._open(source))

    def read(
        self, source: Source, sampler: FrameSampler, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> DecodedVideo:
        """See `VideoDecoder.read`.

        Shapes:
            frames: (T, C, H, W) uint8
        """
        decoder = self._open(source)
        info = self._info(decoder)
        selection = _sample(sampler, info, rng, train)
        try:
            frames = decoder.get_frames_at(list(selection.indices)).data  # (T, C, H, W)
        except Exception as error:
            raise BadSampleError(
                "corrupt_video", f"decoding frames {selection.indices[:4]}... failed: {error}"
            ) from None
        return DecodedVideo(frames.contiguous(), selection, info)
