"""Vision encoders: frames (B, T, C, H, W) -> patch features (B, T, N, D).

Every encoder has ``embed_dim``, ``image_size``, ``patch_size``, ``grid(image_size)``,
``block_classes`` and ``preprocessing`` (also ``preprocessing_for(image_size=...)`` on the class, for
a config not yet built), and is built from its shape alone (random initialisation, nothing downloaded).
"""

from videolmm.encoders.base import VisionEncoder, encode_frames, kept_layers, patch_grid
from videolmm.encoders.clip import ClipEncoder
from videolmm.encoders.siglip import SiglipEncoder
from videolmm.encoders.timm_siglip import TimmSiglipEncoder

__all__ = [
    "ClipEncoder",
    "SiglipEncoder",
    "TimmSiglipEncoder",
    "VisionEncoder",
    "encode_frames",
    "kept_layers",
    "patch_grid",
]
