"""`TimmSiglipEncoder`: the same SigLIP tower as `SiglipEncoder`, implemented by ``timm``.

timm's ``VisionTransformer`` without class token, pooling head or final norm, with the
tanh-approximated GELU of SigLIP. Weights convert from `SiglipEncoder` with
`videolmm.checkpoint.siglip_to_timm` (q/k/v fused into one ``qkv`` projection), and the two
implementations then agree to float32 rounding.
"""

from functools import partial

from timm.models.vision_transformer import Block, VisionTransformer
from torch import Tensor, nn

from videolmm.encoders.base import PatchEncoder, kept_layers
from videolmm.encoders.siglip import SiglipEncoder


class TimmSiglipEncoder(PatchEncoder):
    """SigLIP vision transformer via ``timm``, randomly initialised from its shape.

    Args:
        hidden_size: ``D``.
        intermediate_size: MLP width.
        num_layers: Layers of the tower as stored (26 for LLaVA's so400m).
        num_heads: Attention heads.
        image_size: Frame side in pixels.
        patch_size: Patch side in pixels.
        layer_norm_eps: LayerNorm epsilon.
        act_layer: MLP activation (a ``timm`` layer name; SigLIP uses ``"gelu_tanh"``).
        select_layer: Index into the tower's hidden states (0 = embeddings); layers after it are
            not built.
        chunk_size: Frames encoded per call; ``None`` encodes all ``B * T`` frames at once.
    """

    block_classes: tuple[type[nn.Module], ...] = (Block,)
    preprocessing_for = staticmethod(SiglipEncoder.preprocessing_for)  # the same tower takes the same frames

    def __init__(
        self,
        hidden_size: int = 1152,
        intermediate_size: int = 4304,
        num_layers: int = 26,
        num_heads: int = 16,
        image_size: int = 384,
        patch_size: int = 14,
        layer_norm_eps: float = 1e-6,
        act_layer: str = "gelu_tanh",
        select_layer: int = -1,
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
        self.vit = VisionTransformer(
            img_size=image_size,
            patch_size=patch_size,
            embed_dim=hidden_size,
            depth=kept_layers(num_layers, select_layer),
            num_heads=num_heads,
            # timm sizes the MLP as int(dim * mlp_ratio); the half keeps float rounding off the floor
            mlp_ratio=(intermediate_size + 0.5) / hidden_size,
            class_token=False,
            global_pool="",
            num_classes=0,
            final_norm=False,
            act_layer=act_layer,
            norm_layer=partial(nn.LayerNorm, eps=layer_norm_eps),
        )

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, image_size={self.image_size}, patch_size={self.patch_size}, "
            f"layers={len(self.vit.blocks)}/{self.num_layers}, chunk_size={self.chunk_size}"
        )

    def encode_images(self, images: Tensor) -> Tensor:
        """Encode a batch of images.

        Shapes:
            images: (n, C, H, W) -> (n, N, D)
        """
        return self.vit.forward_features(images.to(self.vit.patch_embed.proj.weight.dtype))
