"""`Preprocessing`: how raw frames become what an encoder accepts, as plain data.

Each encoder declares its preprocessing from its own arguments (``encoder.preprocessing``, and
``EncoderClass.preprocessing_for(image_size=...)`` from a config, before any tower is built); the
data pipeline builds the transform from it (`videolmm.data.transform_from`). This module imports
neither, so both can import it.

A preprocessing maps uint8 frames (T, C, H, W) of any aspect ratio to float32 (T, C, S, S),
``S = image_size``: a resize (`Resize`, antialiased, with ``interpolation``), then
``(x - 255 * mean) / (255 * std)`` per channel.

* SigLIP (so400m-patch14-384): `Resize.SQUASH` to ``S x S``, bicubic, mean = std = 0.5
  (`SIGLIP_MEAN`, `SIGLIP_STD`).
* CLIP (ViT-L/14-336): `Resize.SHORTER_SIDE_CROP`, bicubic, `CLIP_MEAN` and `CLIP_STD`.
"""

from dataclasses import dataclass, fields
from enum import StrEnum

__all__ = ["CLIP_MEAN", "CLIP_STD", "SIGLIP_MEAN", "SIGLIP_STD", "Preprocessing", "Resize"]

SIGLIP_MEAN = (0.5, 0.5, 0.5)
SIGLIP_STD = (0.5, 0.5, 0.5)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class Resize(StrEnum):
    """How a frame of any aspect ratio becomes a square of ``S = image_size`` pixels.

    Attributes:
        SQUASH: Resize to exactly ``S x S``; the aspect ratio is not kept, nothing is cropped (SigLIP).
        SHORTER_SIDE_CROP: Resize the shorter side to ``S`` (the longer to ``int(S * long / short)``),
            then center crop ``S x S``, offsets rounded down (CLIP).
    """

    SQUASH = "squash"
    SHORTER_SIDE_CROP = "shorter_side_crop"


@dataclass(frozen=True)
class Preprocessing:
    """What an encoder needs done to uint8 frames (T, C, H, W) -> float32 (T, C, S, S).

    Args:
        image_size: ``S``, the side of the square frames the encoder accepts.
        resize: How frames reach ``S x S``.
        mean: Per-channel mean (on the [0, 1] scale).
        std: Per-channel standard deviation (on the [0, 1] scale).
        interpolation: The resize's interpolation, a ``torchvision`` ``InterpolationMode`` value.

    Raises:
        ValueError: A non-positive ``image_size`` or ``std``, or ``mean``/``std`` not of 3 channels.
    """

    image_size: int
    resize: Resize
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"

    def __post_init__(self) -> None:
        if self.image_size < 1:
            raise ValueError(f"image_size must be positive, got {self.image_size}")
        if len(self.mean) != 3 or len(self.std) != 3:
            raise ValueError(f"mean and std need 3 channels, got mean={self.mean}, std={self.std}")
        if min(self.std) <= 0:
            raise ValueError(f"std must be positive, got {self.std}")

    def __str__(self) -> str:
        return (
            f"{self.resize} to {self.image_size}x{self.image_size} ({self.interpolation}), "
            f"mean={self.mean}, std={self.std}"
        )

    def differences(self, other: "Preprocessing") -> list[str]:
        """``"field: mine != other's"`` for each field where ``other`` differs (empty: the same)."""
        return [
            f"{field.name}: {getattr(self, field.name)} != {getattr(other, field.name)}"
            for field in fields(self)
            if getattr(self, field.name) != getattr(other, field.name)
        ]
