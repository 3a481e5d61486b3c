"""What every vision encoder shares: the `VisionEncoder` contract, frame batching and `PatchEncoder`.

An encoder maps frames (B, T, C, H, W) to patch features (B, T, N, D) with ``N = h * w``.
Frames are encoded as ``B * T`` independent images, optionally ``chunk_size`` images at a
time so that inference on long videos keeps activation memory bounded.

Every encoder declares the `videolmm.preprocessing.Preprocessing` its frames need, from its own
arguments: ``EncoderClass.preprocessing_for(image_size=...)`` reads it from a config without
building the tower, and the ``preprocessing`` property of a built encoder returns the same.
"""

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import torch
from einops import rearrange
from torch import Tensor, nn

from videolmm.preprocessing import Preprocessing
from videolmm.shapes import Grid, is_positive_int


@runtime_checkable
class VisionEncoder(Protocol):
    """The encoder contract.

    Attributes:
        embed_dim: ``D``, the width of the patch features.
        image_size: Side in pixels of the square frames the encoder accepts.
        patch_size: Side in pixels of one patch.
        num_channels: ``C`` of the frames.
        block_classes: The repeated block types (for sharding and activation checkpointing).

    ``preprocessing`` (a property) is what uint8 frames go through before `forward`:
    ``preprocessing_for(image_size=image_size)``.
    """

    embed_dim: int
    image_size: int
    patch_size: int
    num_channels: int
    block_classes: tuple[type[nn.Module], ...]

    @property
    def preprocessing(self) -> Preprocessing:
        """The preprocessing of this encoder's frames."""
        ...

    @staticmethod
    def preprocessing_for(image_size: int) -> Preprocessing:
        """The preprocessing of an encoder of this class at ``image_size``, without building one."""
        ...

    def grid(self, image_size: int) -> Grid:
        """The patch grid ``(h, w)`` of a square frame of ``image_size`` pixels."""
        ...

    def forward(self, frames: Tensor) -> Tensor:
        """Encode (B, T, C, H, W) frames to (B, T, N, D) patches."""
        ...

    def __call__(self, frames: Tensor) -> Tensor:
        """`forward` through ``nn.Module.__call__`` (hooks run): (B, T, C, H, W) frames to (B, T, N, D)."""
        ...


def patch_grid(image_size: int, patch_size: int) -> Grid:
    """``(image_size // patch_size,) * 2``: a strided patch convolution drops the remainder (384 / 14 -> 27)."""
    side = image_size // patch_size
    if side < 1:
        raise ValueError(f"image_size {image_size} is smaller than patch_size {patch_size}")
    return side, side


def kept_layers(num_layers: int, select_layer: int) -> int:
    """Transformer layers needed to produce ``hidden_states[select_layer]`` of a ``num_layers`` tower.

    ``hidden_states`` has ``num_layers + 1`` entries (index 0 is the embedding output), so
    ``select_layer=-1`` keeps every layer and ``-2`` drops the last one (LLaVA's CLIP setting).
    """
    kept = num_layers + 1 + select_layer if select_layer < 0 else select_layer
    if not 1 <= kept <= num_layers:
        raise ValueError(
            f"select_layer={select_layer} picks no transformer layer of a {num_layers}-layer tower "
            f"(valid: 1..{num_layers} or -{num_layers}..-1)"
        )
    return kept


def check_chunk_size(chunk_size: int | None) -> int | None:
    """Return ``chunk_size`` if it is ``None`` or a positive int, else raise `ValueError`."""
    if chunk_size is not None and not is_positive_int(chunk_size):
        raise ValueError(f"chunk_size must be None or a positive int, got {chunk_size!r}")
    return chunk_size


def encode_frames(
    frames: Tensor,
    encode_images: Callable[[Tensor], Tensor],
    *,
    image_size: int,
    num_channels: int,
    chunk_size: int | None,
    who: str,
) -> Tensor:
    """Check ``frames`` and encode them as ``B * T`` images, ``chunk_size`` at a time.

    Args:
        frames: Frames (B, T, C, H, W).
        encode_images: Maps images (n, C, H, W) to patch features (n, N, D).
        image_size: The frame side the encoder accepts (``H == W == image_size``).
        num_channels: The ``C`` the encoder accepts.
        chunk_size: Images per call of ``encode_images``; ``None`` encodes all at once.
        who: Name used in error messages.

    Shapes:
        frames: (B, T, C, H, W) -> (B, T, N, D)
    """
    if frames.ndim != 5:
        raise ValueError(f"{who} expects frames of shape (B, T, C, H, W), got rank {frames.ndim} {tuple(frames.shape)}")
    B, T, C, H, W = frames.shape
    if (num_channels, image_size, image_size) != (C, H, W):
        raise ValueError(
            f"{who} expects frames of {num_channels}x{image_size}x{image_size} (C x H x W), got {C}x{H}x{W}"
        )
    if B * T == 0:
        raise ValueError(f"{who} got an empty batch of frames: B={B}, T={T}")
    images = rearrange(frames, "b t c h w -> (b t) c h w")  # (B, T, C, H, W) -> (B*T, C, H, W)
    if chunk_size is None or chunk_size >= B * T:
        patches = encode_images(images)  # (B*T, N, D)
    else:
        patches = torch.cat([encode_images(chunk) for chunk in images.split(chunk_size)])  # (B*T, N, D)
    return rearrange(patches, "(b t) n d -> b t n d", b=B)  # (B*T, N, D) -> (B, T, N, D)


class PatchEncoder(nn.Module):
    """What the encoders implement alike: the shape attributes, `grid`, `preprocessing` and `forward`.

    A subclass sets ``block_classes``, builds its tower after ``super().__init__(...)``, and defines
    ``preprocessing_for`` and ``encode_images``; `forward` encodes frames through `encode_frames`.

    Args:
        hidden_size: ``D``.
        image_size: Frame side in pixels.
        patch_size: Patch side in pixels.
        num_layers: Layers of the full tower (those after ``select_layer`` are not built).
        select_layer: Index into the tower's hidden states (0 = embeddings).
        chunk_size: Frames encoded per call; ``None`` encodes all ``B * T`` frames at once.
    """

    def __init__(
        self,
        *,
        hidden_size: int,
        image_size: int,
        patch_size: int,
        num_layers: int,
        select_layer: int,
        chunk_size: int | None,
    ) -> None:
        super().__init__()
        patch_grid(image_size, patch_size)  # a frame smaller than a patch is refused before anything is built
        self.embed_dim = hidden_size
        self.image_size = image_size
        self.patch_size = patch_size
        self.num_channels = 3
        self.num_layers = num_layers
        self.select_layer = select_layer
        self.chunk_size = check_chunk_size(chunk_size)

    @staticmethod
    def preprocessing_for(image_size: int) -> Preprocessing:
        """The preprocessing of an encoder of this class at ``image_size`` (defined by each subclass)."""
        raise NotImplementedError

    @property
    def preprocessing(self) -> Preprocessing:
        """What frames go through before `forward`: ``preprocessing_for(image_size=self.image_size)``."""
        return self.preprocessing_for(image_size=self.image_size)

    def grid(self, image_size: int) -> Grid:
        """``(image_size // patch_size,) * 2`` (a CLS token is not part of the grid)."""
        return patch_grid(image_size, self.patch_size)

    def encode_images(self, images: Tensor) -> Tensor:
        """Encode a batch of images (defined by each subclass).

        Shapes:
            images: (n, C, H, W) -> (n, N, D)
        """
        raise NotImplementedError

    def forward(self, frames: Tensor) -> Tensor:
        """Encode every frame.

        Shapes:
            frames: (B, T, C, H, W) -> (B, T, N, D)
        """
        return encode_frames(
            frames,
            self.encode_images,
            image_size=self.image_size,
            num_channels=self.num_channels,
            chunk_size=self.chunk_size,
            who=type(self).__name__,
        )
