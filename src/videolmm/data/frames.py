"""Frame sampling: which frames of a video become the T frames of a sample.

Each sampler is a small class chosen by the ``frames`` config group. It maps a video's frame
count ``n`` and average frame rate ``fps`` to frame indices and their times in seconds.

Videos shorter than requested (``n < num_frames``): every fixed-count sampler still returns
exactly ``num_frames`` indices, so ``T`` and the visual token count do not depend on the video.
`UniformFrames` repeats frames as LLaVA-Video's ``linspace`` does; `SegmentMidpointFrames` and
`PllavaFrames` apply their reference rule to the ``n`` frames there are and repeat the last index
(PLLaVA's own padding). `FpsFrames` returns fewer frames for short videos, as LLaVA-Video does
unless ``force_sample`` is set. A video with no frames raises `BadSampleError` (``too_few_frames``).
"""

import itertools
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from videolmm.data.errors import BadSampleError
from videolmm.shapes import check_positive_int


@dataclass(frozen=True)
class FrameSelection:
    """Frames chosen from one video.

    Attributes:
        indices: Frame indices in time order (repeats allowed), ``len == T``.
        times: The time of each frame in seconds, as the reference computes it.
    """

    indices: tuple[int, ...]
    times: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.indices)


@runtime_checkable
class FrameSampler(Protocol):
    """The sampler contract: ``(n, fps) -> FrameSelection``; ``rng`` drives random samplers."""

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """Choose frames from a video of ``num_frames`` frames at ``fps``."""
        ...


def _check_video(num_frames: int, fps: float) -> None:
    if num_frames < 1:
        raise BadSampleError("too_few_frames", f"the video has {num_frames} frames")
    if not fps > 0:
        raise BadSampleError("corrupt_video", f"the video declares a frame rate of {fps}")


def _selection(indices: list[int], fps: float) -> FrameSelection:
    return FrameSelection(tuple(int(i) for i in indices), tuple(int(i) / fps for i in indices))


def _pad_last(indices: list[int], count: int) -> list[int]:
    """Repeat the last index until there are ``count`` (PLLaVA's rule for short videos)."""
    return indices + [indices[-1]] * (count - len(indices))


class UniformFrames:
    """``num_frames`` uniformly spaced frames, endpoints included (LLaVA-Video, ``force_sample``).

    Indices are ``int(linspace(0, n - 1, num_frames))`` (truncation, as ``numpy`` with
    ``dtype=int``); a shorter video gets repeated frames.

    Args:
        num_frames: Frames per sample (``T``).
    """

    def __init__(self, num_frames: int = 32) -> None:
        self.num_frames = check_positive_int(num_frames, name="num_frames")

    def __repr__(self) -> str:
        return f"UniformFrames(num_frames={self.num_frames})"

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """See the class docstring."""
        _check_video(num_frames, fps)
        return _selection(np.linspace(0, num_frames - 1, self.num_frames, dtype=int).tolist(), fps)


class FpsFrames:
    """LLaVA-Video's ``process_video_with_decord``: frames at ``fps``, capped by uniform resampling.

    Candidates are every ``step = round(video_fps / fps)``-th frame, with times ``index / step``
    (the reference's formula, which is seconds only for ``fps = 1``). If ``max_frames > 0`` and there
    are more candidates than ``max_frames``, or ``force_sample`` is set, the frames become
    ``int(linspace(0, n - 1, max_frames))`` with times ``index / video_fps``. So the number of frames
    varies with the video length unless ``force_sample`` is set.

    Args:
        fps: Candidate frames per second (LLaVA-Video ``video_fps``, 1).
        max_frames: ``frames_upbound`` (64 in the 7B script); 0 means no cap.
        force_sample: Always take exactly ``max_frames`` uniform frames.
    """

    def __init__(self, fps: float = 1.0, max_frames: int = 64, force_sample: bool = False) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        if max_frames < 0 or (force_sample and max_frames < 1):
            raise ValueError(f"max_frames must be >= 0 (>= 1 with force_sample), got {max_frames!r}")
        self.fps = float(fps)
        self.max_frames = int(max_frames)
        self.force_sample = bool(force_sample)

    def __repr__(self) -> str:
        return f"FpsFrames(fps={self.fps}, max_frames={self.max_frames}, force_sample={self.force_sample})"

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """See the class docstring."""
        _check_video(num_frames, fps)
        step = max(1, round(fps / self.fps))
        indices = list(range(0, num_frames, step))
        if self.max_frames > 0 and (len(indices) > self.max_frames or self.force_sample):
            return _selection(np.linspace(0, num_frames - 1, self.max_frames, dtype=int).tolist(), fps)
        return FrameSelection(tuple(indices), tuple(i / step for i in indices))


class SegmentMidpointFrames:
    """SlowFast-LLaVA's ``get_seq_frames``: the middle frame of ``num_frames`` equal segments.

    With ``m = min(n, num_frames)`` and ``size = (n - 1) / m``, frame ``i`` is
    ``(round(size * i) + round(size * (i + 1))) // 2`` (numpy rounding, half to even). A video
    shorter than ``num_frames`` gets its ``n`` midpoints and then the last index repeated.

    Args:
        num_frames: Frames per sample (50 in SlowFast-LLaVA's configs).
    """

    def __init__(self, num_frames: int = 50) -> None:
        self.num_frames = check_positive_int(num_frames, name="num_frames")

    def __repr__(self) -> str:
        return f"SegmentMidpointFrames(num_frames={self.num_frames})"

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """See the class docstring."""
        _check_video(num_frames, fps)
        desired = min(num_frames, self.num_frames)
        size = (num_frames - 1) / desired
        indices = [(int(np.round(size * i)) + int(np.round(size * (i + 1)))) // 2 for i in range(desired)]
        return _selection(_pad_last(indices, self.num_frames), fps)


class PllavaFrames:
    """PLLaVA's ``get_frame_indices``: one frame per segment, random in training, middle in evaluation.

    Segment bounds are ``int(linspace(0, n, m + 1))`` with ``m = min(n, num_frames)``; segment ``i``
    is ``(a, b) = (bounds[i], bounds[i + 1] - 1)``. Training draws from ``range(a, b)`` (so the
    segment's last frame is never drawn, as in the reference); if a segment is too short for that,
    the whole draw falls back to ``m`` sorted distinct random frames. Evaluation takes ``(a + b) // 2``.
    Short videos repeat the last index up to ``num_frames``.

    Args:
        num_frames: Frames per sample (16 in PLLaVA).
    """

    def __init__(self, num_frames: int = 16) -> None:
        self.num_frames = check_positive_int(num_frames, name="num_frames")

    def __repr__(self) -> str:
        return f"PllavaFrames(num_frames={self.num_frames})"

    def __call__(
        self, num_frames: int, fps: float, *, rng: np.random.Generator | None = None, train: bool = False
    ) -> FrameSelection:
        """See the class docstring."""
        _check_video(num_frames, fps)
        count = min(num_frames, self.num_frames)
        bounds = np.linspace(0, num_frames, count + 1).astype(int)
        segments = [(int(a), int(b) - 1) for a, b in itertools.pairwise(bounds)]
        if not train:
            return _selection(_pad_last([(a + b) // 2 for a, b in segments], self.num_frames), fps)
        if rng is None:
            raise ValueError("PllavaFrames needs an rng in training (random frame in each segment)")
        if all(b > a for a, b in segments):
            indices = [int(rng.integers(a, b)) for a, b in segments]
        else:
            indices = sorted(int(i) for i in rng.permutation(num_frames)[:count])
        return _selection(_pad_last(indices, self.num_frames), fps)


def time_instruction(duration: float, selection: FrameSelection) -> str:
    """LLaVA-Video's time instruction for a sampled video (no space before "Please", as published).

    Args:
        duration: Video length in seconds (``n / fps``).
        selection: The sampled frames; their times are listed with two decimals and ``s``.
    """
    times = ",".join(f"{t:.2f}s" for t in selection.times)
    return (
        f"The video lasts for {duration:.2f} seconds, and {len(selection)} frames are uniformly sampled from it. "
        f"These frames are located at {times}.Please answer the following questions related to this video."
    )
