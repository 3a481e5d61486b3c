"""Frame transforms matched to each encoder's image processor.

Both work on a whole video at once, uint8 (T, C, H, W) in, float32 (T, C, S, S) out, with the
operations of the Hugging Face torchvision-backed processors: resize the uint8 frames (bicubic,
antialiased), then ``(x - 255 * mean) / (255 * std)``.

* `SiglipTransform`: SigLIP so400m-patch14-384 (LLaVA-OneVision / LLaVA-Video): resize to exactly
  ``size x size`` (aspect ratio not kept, no crop), mean = std = 0.5.
* `ClipTransform`: CLIP ViT-L/14-336: resize the shorter side to ``size`` (longer side
  ``int(size * long / short)``), center crop ``crop x crop`` (offsets rounded down), CLIP mean/std.
"""

from collections.abc import Sequence

import torch
import torchvision.transforms.v2.functional as tvF
from torch import Tensor
from torchvision.transforms import InterpolationMode

SIGLIP_MEAN = (0.5, 0.5, 0.5)
SIGLIP_STD = (0.5, 0.5, 0.5)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


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
    """

    def __init__(self, size: int = 384, mean: Sequence[float] = SIGLIP_MEAN, std: Sequence[float] = SIGLIP_STD) -> None:
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.size = int(size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

    def __repr__(self) -> str:
        return f"SiglipTransform(size={self.size})"

    def __call__(self, frames: Tensor) -> Tensor:
        """Transform a video.

        Shapes:
            frames: (T, C, H, W) uint8 -> (T, C, size, size) float32
        """
        _check_frames(frames, "SiglipTransform")
        resized = tvF.resize(frames, [self.size, self.size], interpolation=InterpolationMode.BICUBIC, antialias=True)
        return _normalise(resized, self.mean, self.std)


class ClipTransform:
    """CLIP preprocessing: shorter side to ``size`` (bicubic), center crop ``crop``, CLIP mean/std.

    Args:
        size: Target of the shorter side (336 for ViT-L/14-336).
        crop: Side of the square center crop.
        mean: Per-channel mean.
        std: Per-channel standard deviation.
    """

    def __init__(
        self, size: int = 336, crop: int = 336, mean: Sequence[float] = CLIP_MEAN, std: Sequence[float] = CLIP_STD
    ) -> None:
        if size < 1 or crop < 1 or crop > size:
            raise ValueError(f"need 1 <= crop <= size, got size={size}, crop={crop}")
        self.size = int(size)
        self.crop = int(crop)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)

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
        resized = tvF.resize(frames, [height, width], interpolation=InterpolationMode.BICUBIC, antialias=True)
        top, left = int((height - self.crop) / 2.0), int((width - self.crop) / 2.0)
        cropped = resized[..., top : top + self.crop, left : left + self.crop]  # (T, C, h', w') -> (T, C, crop, crop)
        return _normalise(cropped, self.mean, self.std)
