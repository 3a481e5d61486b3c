"""Frame transforms matched to each encoder's image processor, built from the encoder's `Preprocessing`.

Both work on a whole video at once, uint8 (T, C, H, W) in, float32 (T, C, S, S) out, with the
operations of the Hugging Face torchvision-backed processors: resize the uint8 frames (bicubic,
antialiased), then ``(x - 255 * mean) / (255 * std)``.

* `SiglipTransform`: SigLIP so400m-patch14-384 (LLaVA-OneVision / LLaVA-Video): resize to exactly
  ``size x size`` (aspect ratio not kept, no crop), mean = std = 0.5.
* `ClipTransform`: CLIP ViT-L/14-336: resize the shorter side to ``size`` (longer side
  ``int(size * long / short)``), center crop ``crop x crop`` (offsets rounded down), CLIP mean/std.

Each declares the `Preprocessing` it applies (``transform.preprocessing``); `transform_from` builds
the transform of an encoder's ``preprocessing``, and `check_transform` refuses a transform that
preprocesses differently from what the encoder declares.
"""

from collections.abc import Callable, Sequence
from typing import Protocol

import torch
import torchvision.transforms.v2.functional as tvF
from torch import Tensor
from torchvision.transforms import InterpolationMode

from videolmm.preprocessing import CLIP_MEAN, CLIP_STD, SIGLIP_MEAN, SIGLIP_STD, Preprocessing, Resize


class FrameTransform(Protocol):
    """A video's uint8 frames -> the encoder's input, declaring the preprocessing it applies."""

    @property
    def preprocessing(self) -> Preprocessing:
        """What the transform does, comparable with an encoder's ``preprocessing``."""
        ...

    def __call__(self, frames: Tensor) -> Tensor:
        """Transform (T, C, H, W) uint8 frames to (T, C, S, S) float32."""
        ...


def _check_frames(frames: Tensor, who: str) -> None:
    if frames.ndim != 4 or frames.shape[1] != 3 or frames.dtype != torch.uint8:
        raise ValueError(f"{who} expects uint8 frames (T, 3, H, W), got {frames.dtype} {tuple(frames.shape)}")


def _normalise(frames: Tensor, mean: Sequence[float], std: Sequence[float]) -> Tensor:
    """uint8 (T, C, H, W) -> float32, ``(x - 255 mean) / (255 std)`` (the processors' fused rescale)."""
    scale = 1.0 / (1.0 / 255.0)
    mean_t = (torch.tensor(mean, dtype=torch.float32) * scale).view(1, 3, 1, 1)
    std_t = (torch.tensor(std, dtype=torch.float32) * scale).view(1, 3, 1, 1)
    return (frames.to(torch.float32) - mean_t) / std_t


class SiglipTransform:
    """SigLIP preprocessing: bicubic resize to ``size x size``, mean = std = 0.5 (values in [-1, 1]).

    Args:
        size: Output side in pixels (384 for so400m-patch14-384).
        mean: Per-channel mean.
        std: Per-channel standard deviation.
        interpolation: The resize's ``torchvision`` ``InterpolationMode`` value.
    """

    def __init__(
        self,
        size: int = 384,
        mean: Sequence[float] = SIGLIP_MEAN,
        std: Sequence[float] = SIGLIP_STD,
        interpolation: str = "bicubic",
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = int(size)
        self.mean = _rgb(mean, "mean")
        self.std = _rgb(std, "std")
        self.interpolation = InterpolationMode(interpolation)

    @classmethod
    def from_preprocessing(cls, preprocessing: Preprocessing) -> "SiglipTransform":
        """The transform of a `Resize.SQUASH` preprocessing."""
        if preprocessing.resize is not Resize.SQUASH:
            raise ValueError(f"SiglipTransform squashes; {preprocessing} does not")
        return cls(
            size=preprocessing.image_size,
            mean=preprocessing.mean,
            std=preprocessing.std,
            interpolation=preprocessing.interpolation,
        )

    @property
    def preprocessing(self) -> Preprocessing:
        """What this transform does (`Resize.SQUASH` to ``size``)."""
        return Preprocessing(
            image_size=self.size,
            resize=Resize.SQUASH,
            mean=self.mean,
            std=self.std,
            interpolation=self.interpolation.value,
        )

    def __repr__(self) -> str:
        return f"SiglipTransform(size={self.size})"

    def __call__(self, frames: Tensor) -> Tensor:
        """Transform a video.

        Shapes:
            frames: (T, C, H, W) uint8 -> (T, C, size, size) float32
        """
        _check_frames(frames, "SiglipTransform")
        resized = tvF.resize(frames, [self.size, self.size], interpolation=self.interpolation, antialias=True)
        return _normalise(resized, self.mean, self.std)


class ClipTransform:
    """CLIP preprocessing: shorter side to ``size`` (bicubic), center crop ``crop``, CLIP mean/std.

    Args:
        size: Target of the shorter side (336 for ViT-L/14-336).
        crop: Side of the square center crop.
        mean: Per-channel mean.
        std: Per-channel standard deviation.
        interpolation: The resize's ``torchvision`` ``InterpolationMode`` value.
    """

    def __init__(
        self,
        size: int = 336,
        crop: int = 336,
        mean: Sequence[float] = CLIP_MEAN,
        std: Sequence[float] = CLIP_STD,
        interpolation: str = "bicubic",
    ) -> None:
        if size < 1 or crop < 1 or crop > size:
            raise ValueError(f"need 1 <= crop <= size, got size={size}, crop={crop}")
        self.size = int(size)
        self.crop = int(crop)
        self.mean = _rgb(mean, "mean")
        self.std = _rgb(std, "std")
        self.interpolation = InterpolationMode(interpolation)

    @classmethod
    def from_preprocessing(cls, preprocessing: Preprocessing) -> "ClipTransform":
        """The transform of a `Resize.SHORTER_SIDE_CROP` preprocessing (``size = crop = image_size``)."""
        if preprocessing.resize is not Resize.SHORTER_SIDE_CROP:
            raise ValueError(f"ClipTransform resizes the shorter side and crops; {preprocessing} does not")
        side = preprocessing.image_size
        return cls(
            size=side,
            crop=side,
            mean=preprocessing.mean,
            std=preprocessing.std,
            interpolation=preprocessing.interpolation,
        )

    @property
    def preprocessing(self) -> Preprocessing:
        """What this transform does (`Resize.SHORTER_SIDE_CROP` to ``crop``).

        Raises:
            ValueError: ``crop < size``, a resize no `Preprocessing` (and no encoder) describes.
        """
        if self.crop != self.size:
            raise ValueError(
                f"{self!r} resizes the shorter side to {self.size} and crops {self.crop}: "
                f"no encoder preprocesses so (valid: crop == size)"
            )
        return Preprocessing(
            image_size=self.crop,
            resize=Resize.SHORTER_SIDE_CROP,
            mean=self.mean,
            std=self.std,
            interpolation=self.interpolation.value,
        )

    def __repr__(self) -> str:
        return f"ClipTransform(size={self.size}, crop={self.crop})"

    def resized_shape(self, height: int, width: int) -> tuple[int, int]:
        """(H, W) after the shorter-side resize: the longer side is ``int(size * long / short)``."""
        if height <= width:
            return self.size, int(self.size * width / height)
        return int(self.size * height / width), self.size

    def __call__(self, frames: Tensor) -> Tensor:
        """Transform a video.

        Shapes:
            frames: (T, C, H, W) uint8 -> (T, C, crop, crop) float32
        """
        _check_frames(frames, "ClipTransform")
        height, width = self.resized_shape(frames.shape[-2], frames.shape[-1])
        resized = tvF.resize(frames, [height, width], interpolation=self.interpolation, antialias=True)
        top, left = int((height - self.crop) / 2.0), int((width - self.crop) / 2.0)
        cropped = resized[..., top : top + self.crop, left : left + self.crop]  # (T, C, h', w') -> (T, C, crop, crop)
        return _normalise(cropped, self.mean, self.std)


_TRANSFORMS: dict[Resize, Callable[[Preprocessing], FrameTransform]] = {
    Resize.SQUASH: SiglipTransform.from_preprocessing,
    Resize.SHORTER_SIDE_CROP: ClipTransform.from_preprocessing,
}
"""The transform class that applies each `Resize` rule."""


def transform_from(preprocessing: Preprocessing) -> FrameTransform:
    """The frame transform that applies ``preprocessing`` (e.g. an encoder's ``preprocessing``)."""
    return _TRANSFORMS[preprocessing.resize](preprocessing)


def check_transform(transform: FrameTransform, preprocessing: Preprocessing) -> None:
    """Raise unless ``transform`` preprocesses frames exactly as ``preprocessing`` says.

    Raises:
        TypeError: ``transform`` declares no ``preprocessing`` to compare (see `FrameTransform`).
        ValueError: Naming each value that differs, the transform's and the expected one.
    """
    if not isinstance(transform.preprocessing if hasattr(transform, "preprocessing") else None, Preprocessing):
        raise TypeError(
            f"{transform!r} declares no `preprocessing` (a videolmm.preprocessing.Preprocessing), so it cannot be "
            "checked against the encoder; give it one (see FrameTransform) or leave data.transform unset"
        )
    differences = transform.preprocessing.differences(preprocessing)
    if differences:
        raise ValueError(
            f"{transform!r} preprocesses frames otherwise than the encoder declares "
            f"(transform's != encoder's): {'; '.join(differences)}"
        )


def _rgb(values: Sequence[float], what: str) -> tuple[float, float, float]:
    """Three per-channel floats, or `ValueError`."""
    if len(values) != 3:
        raise ValueError(f"{what} needs one value per RGB channel (3), got {len(values)}: {tuple(values)}")
    r, g, b = (float(v) for v in values)
    return r, g, b
