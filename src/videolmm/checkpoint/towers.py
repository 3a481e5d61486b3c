"""Key rules for the vision towers inside checkpoints (HF and original LLaVA use HF's tower names).

A checkpoint's tower sits under a format-specific prefix (``vision_tower.`` in HF LLaVA files,
``model.vision_tower.vision_tower.vision_model.`` in LLaVA-NeXT files). Inside it the names are
HF's: ``embeddings.*``, ``pre_layrnorm.*`` (CLIP), ``encoder.layers.{i}.*``,
``post_layernorm.*`` and ``head.*``. The post-layernorm, the pooling head and the layers after
the selected one are not part of our encoders, so they are declared dropped.
"""

import re

from torch import nn

from videolmm.encoders import ClipEncoder, SiglipEncoder


def tower_rules(
    encoder: nn.Module, prefix: str, prefix_aliases: tuple[str, ...] = ()
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Rules, aliases and dropped patterns mapping a checkpoint's tower to ``encoder.*``.

    Args:
        encoder: A `SiglipEncoder` or `ClipEncoder`.
        prefix: Where the tower sits in the checkpoint (canonical spelling).
        prefix_aliases: Other spellings of ``prefix`` to accept when reading.

    Raises:
        ValueError: The encoder is not one whose weights these formats hold.
    """
    if not isinstance(encoder, SiglipEncoder | ClipEncoder):
        raise ValueError(
            f"{type(encoder).__name__} has no key map to HF/LLaVA vision-tower names; "
            "use SiglipEncoder or ClipEncoder (convert timm weights with siglip_to_timm)"
        )
    rules = [(f"{prefix}embeddings.", "encoder.embeddings."), (f"{prefix}encoder.layers.", "encoder.layers.")]
    if isinstance(encoder, ClipEncoder):
        rules.append((f"{prefix}pre_layrnorm.", "encoder.pre_layernorm."))
    escaped = re.escape(prefix)
    dropped = [f"{escaped}post_layernorm\\.", f"{escaped}head\\."]
    dropped += [f"{escaped}encoder\\.layers\\.{i}\\." for i in range(len(encoder.layers), encoder.num_layers)]
    aliases = tuple((alias, prefix) for alias in prefix_aliases)
    return tuple(rules), aliases, tuple(dropped)
