"""`ClipEncoder`: the CLIP ViT vision tower of LLaVA-NeXT(-Video) and LITA, built from a config.

LLaVA reads the hidden state of layer -2 (``mm_vision_select_layer``) and drops the CLS token
(``select_feature="patch"``): 24x24 = 576 patches at 336 px, 16x16 = 256 at 224 px, width 1024.
Layers after the selected one are not built, and neither is the post-layernorm (it only
normalises CLIP's pooled CLS output).
"""

from torch import Tensor, nn
from transformers import CLIPVisionModel
from transformers.models.clip.modeling_clip import CLIPEncoderLayer

from videolmm.encoders.base import PatchEncoder, kept_layers
from videolmm.encoders.hf_tower import hf_vision_tower, tower_layers
from videolmm.preprocessing import CLIP_MEAN, CLIP_STD, Preprocessing, Resize


class ClipEncoder(PatchEncoder):
    """CLIP vision transformer via ``transformers``, randomly initialised from its shape.

    Args:
        hidden_size: ``D``.
        intermediate_size: MLP width.
        num_layers: Layers of the full tower (24 for ViT-L/14).
        num_heads: Attention heads.
        image_size: Frame side in pixels (336 or 224 for ViT-L/14).
        patch_size: Patch side in pixels.
        layer_norm_eps: LayerNorm epsilon.
        hidden_act: MLP activation (a ``transformers`` activation name).
        select_layer: Index into the tower's hidden states (0 = embeddings); -2 as LLaVA.
        drop_cls: Drop the CLS token (LLaVA's ``"patch"`` features); otherwise ``N = h * w + 1``
            and the output does not form a grid.
        attn_implementation: ``"sdpa"``, ``"eager"`` or ``"flash_attention_2"``.
        chunk_size: Frames encoded per call; ``None`` encodes all ``B * T`` frames at once.
    """

    block_classes: tuple[type[nn.Module], ...] = (CLIPEncoderLayer,)

    def __init__(
        self,
        hidden_size: int = 1024,
        intermediate_size: int = 4096,
        num_layers: int = 24,
        num_heads: int = 16,
        image_size: int = 336,
        patch_size: int = 14,
        layer_norm_eps: float = 1e-5,
        hidden_act: str = "quick_gelu",
        select_layer: int = -2,
        drop_cls: bool = True,
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
        self.drop_cls = bool(drop_cls)
        tower = hf_vision_tower(
            CLIPVisionModel,
            hidden_size=hidden_size,
            intermediate_size=intermediate_size,
            num_layers=kept_layers(num_layers, select_layer),
            num_heads=num_heads,
            image_size=image_size,
            patch_size=patch_size,
            layer_norm_eps=layer_norm_eps,
            hidden_act=hidden_act,
            attn_implementation=attn_implementation,
        )  # its post_layernorm is not kept
        self.config = tower.config
        self.embeddings = tower.get_submodule("embeddings")
        self.pre_layernorm = tower.get_submodule("pre_layrnorm")
        self.layers = tower_layers(tower)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, image_size={self.image_size}, patch_size={self.patch_size}, "
            f"layers={len(self.layers)}/{self.num_layers}, drop_cls={self.drop_cls}, chunk_size={self.chunk_size}"
        )

    @staticmethod
    def preprocessing_for(image_size: int) -> Preprocessing:
        """CLIP's preprocessing: shorter side to ``image_size``, center crop, bicubic, CLIP mean/std."""
        return Preprocessing(image_size=image_size, resize=Resize.SHORTER_SIDE_CROP, mean=CLIP_MEAN, std=CLIP_STD)

    def encode_images(self, images: Tensor) -> Tensor:
        """Encode a batch of images.

        Shapes:
            images: (n, C, H, W) -> (n, N, D), ``N = h * w`` (``h * w + 1`` with the CLS token)
        """
        x = self.pre_layernorm(self.embeddings(images))  # (n, 1 + N, D)
        for layer in self.layers:
            x = layer(x, attention_mask=None)
        return x[:, 1:] if self.drop_cls else x  # (n, 1 + N, D) -> (n, N, D)
