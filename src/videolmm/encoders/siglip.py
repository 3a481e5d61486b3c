"""`SiglipEncoder`: the SigLIP vision tower of LLaVA-OneVision / LLaVA-Video, built from a config.

The released LLaVA checkpoints store a 26-layer so400m tower (the original's last layer removed)
and read its last hidden state **before** the post-layernorm: 27x27 = 729 patches of width 1152
at 384 px. This module holds exactly the layers it runs (no post-layernorm, no pooling head),
so every parameter receives a gradient.
"""

from torch import Tensor, nn
from transformers import SiglipVisionModel
from transformers.models.siglip.modeling_siglip import SiglipEncoderLayer

from videolmm.encoders.base import PatchEncoder, kept_layers
from videolmm.encoders.hf_tower import hf_vision_tower, tower_layers
from videolmm.preprocessing import SIGLIP_MEAN, SIGLIP_STD, Preprocessing, Resize


class SiglipEncoder(PatchEncoder):
    """SigLIP vision transformer via ``transformers``, randomly initialised from its shape.

    Args:
        hidden_size: ``D``.
        intermediate_size: MLP width.
        num_layers: Layers of the tower as stored (26 for LLaVA's so400m).
        num_heads: Attention heads.
        image_size: Frame side in pixels.
        patch_size: Patch side in pixels.
        layer_norm_eps: LayerNorm epsilon.
        hidden_act: MLP activation (a ``transformers`` activation name).
        select_layer: Index into the tower's hidden states (0 = embeddings); layers after it are
            not built.
        attn_implementation: ``"sdpa"``, ``"eager"`` or ``"flash_attention_2"``.
        chunk_size: Frames encoded per call; ``None`` encodes all ``B * T`` frames at once.
    """

    block_classes: tuple[type[nn.Module], ...] = (SiglipEncoderLayer,)

    def __init__(
        self,
        hidden_size: int = 1152,
        intermediate_size: int = 4304,
        num_layers: int = 26,
        num_heads: int = 16,
        image_size: int = 384,
        patch_size: int = 14,
        layer_norm_eps: float = 1e-6,
        hidden_act: str = "gelu_pytorch_tanh",
        select_layer: int = -1,
        attn_implementation: str = "sdpa",
        chunk_size: int | None = None,
    ) -> None:
        super().__init__(
            hidden_size=hidden_size,
            image_size=image_size,
            patch_size=patch_size,
            num_layers=num_layers,
            select_layer=select_layer,
            chunk_size=chunk_size,
        )
        tower = hf_vision_tower(
            SiglipVisionModel,
            hidden_size=hidden_size,
            intermediate_size=intermediate_size,
            num_layers=kept_layers(num_layers, select_layer),
            num_heads=num_heads,
            image_size=image_size,
            patch_size=patch_size,
            layer_norm_eps=layer_norm_eps,
            hidden_act=hidden_act,
            attn_implementation=attn_implementation,
            vision_use_head=False,
        )  # its post_layernorm is not kept
        self.config = tower.config
        self.embeddings = tower.get_submodule("embeddings")
        self.layers = tower_layers(tower)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, image_size={self.image_size}, patch_size={self.patch_size}, "
            f"layers={len(self.layers)}/{self.num_layers}, chunk_size={self.chunk_size}"
        )

    @staticmethod
    def preprocessing_for(image_size: int) -> Preprocessing:
        """SigLIP's preprocessing: squash to ``image_size x image_size``, bicubic, mean = std = 0.5."""
        return Preprocessing(image_size=image_size, resize=Resize.SQUASH, mean=SIGLIP_MEAN, std=SIGLIP_STD)

    def encode_images(self, images: Tensor) -> Tensor:
        """Encode a batch of images.

        Shapes:
            images: (n, C, H, W) -> (n, N, D)
        """
        x = self.embeddings(images)  # (n, N, D)
        for layer in self.layers:
            x = layer(x, attention_mask=None)
        return x
