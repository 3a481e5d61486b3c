"""Encoding frames into a real H.264 mp4 in memory (PyAV's bundled libx264).

Used by the synthetic benchmark and by tests that need real video files; with one encoder
thread the same frames always give the same bytes.
"""

import io
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def encode_video(frames: np.ndarray, fps: float = 8.0, crf: int = 12, gop: int = 16, faststart: bool = False) -> bytes:
    """Encode RGB frames as H.264 (yuv420p) in an mp4 container.

    Args:
        frames: (T, H, W, 3) uint8 RGB; H and W must be even (4:2:0 chroma).
        fps: Frame rate stored in the container.
        crf: x264 constant rate factor (0 lossless luma, 51 worst).
        gop: Frames between keyframes.
        faststart: Put the index (``moov``) before the data, as streaming files do; a file cut short
            then still opens and fails while decoding instead of at open.

    Returns:
        The mp4 file as bytes.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    T, H, W, _ = frames.shape
    if T < 1 or H % 2 or W % 2:
        raise ValueError(f"need T >= 1 and even H, W for yuv420p, got T={T}, H={H}, W={W}")
    if faststart:  # the muxer rewrites the file to move the index: it needs a real file
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "video.mp4"
            _encode(path, frames, fps, crf, gop, {"movflags": "faststart"})
            return path.read_bytes()
    buffer = io.BytesIO()
    _encode(buffer, frames, fps, crf, gop, {})
    return buffer.getvalue()


def _encode(target: io.BytesIO | Path, frames: np.ndarray, fps: float, crf: int, gop: int, options: dict) -> None:
    _, H, W, _ = frames.shape
    with av.open(
        target if isinstance(target, io.BytesIO) else str(target), "w", format="mp4", options=options
    ) as container:
        stream = container.add_stream("libx264", rate=_rate(fps))
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf), "g": str(gop), "threads": "1", "bframes": "0"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def _rate(fps: float) -> int | Fraction:
    """A frame rate PyAV accepts: an int when whole, else a Fraction."""

    return int(fps) if float(fps).is_integer() else Fraction(fps).limit_denominator(1001)
