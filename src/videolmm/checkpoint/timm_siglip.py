"""Weight conversion between `SiglipEncoder` (HF names) and `TimmSiglipEncoder` (timm names).

=============================================  ==========================================
`SiglipEncoder`                                `TimmSiglipEncoder`
=============================================  ==========================================
``embeddings.patch_embedding.*``               ``vit.patch_embed.proj.*``
``embeddings.position_embedding.weight`` (N,D)  ``vit.pos_embed`` (1, N, D)
``layers.{i}.layer_norm1.*`` / ``layer_norm2``  ``vit.blocks.{i}.norm1.*`` / ``norm2``
``layers.{i}.self_attn.{q,k,v}_proj.*``        ``vit.blocks.{i}.attn.qkv.*`` (q, k, v stacked)
``layers.{i}.self_attn.out_proj.*``            ``vit.blocks.{i}.attn.proj.*``
``layers.{i}.mlp.fc1.*`` / ``fc2``             ``vit.blocks.{i}.mlp.fc1.*`` / ``fc2``
=============================================  ==========================================
"""

import re
from collections.abc import Mapping

import torch
from torch import Tensor

_BLOCK_RENAMES = (
    ("layer_norm1.", "norm1."),
    ("layer_norm2.", "norm2."),
    ("self_attn.out_proj.", "attn.proj."),
    ("mlp.", "mlp."),
)
_LAYER = re.compile(r"^layers\.(\d+)\.(.*)$")
_BLOCK = re.compile(r"^vit\.blocks\.(\d+)\.(.*)$")
_QKV = ("q_proj", "k_proj", "v_proj")


def siglip_to_timm(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """A `SiglipEncoder` state dict in `TimmSiglipEncoder` names (q/k/v fused).

    Raises:
        ValueError: A key has no timm counterpart.
    """
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key == "embeddings.position_embedding.weight":
            out["vit.pos_embed"] = value.unsqueeze(0)  # (N, D) -> (1, N, D)
        elif key.startswith("embeddings.patch_embedding."):
            out[key.replace("embeddings.patch_embedding.", "vit.patch_embed.proj.")] = value
        elif (m := _LAYER.match(key)) is None:
            raise ValueError(f"no timm name for SigLIP key {key!r}")
        elif m.group(2).startswith("self_attn.") and m.group(2).split(".")[1] in _QKV:
            continue  # fused below
        else:
            rest = _rename(m.group(2), _BLOCK_RENAMES, key)
            out[f"vit.blocks.{m.group(1)}.{rest}"] = value
    for i in sorted({int(m.group(1)) for k in state if (m := _LAYER.match(k))}):
        for kind in ("weight", "bias"):
            parts = [state[f"layers.{i}.self_attn.{p}.{kind}"] for p in _QKV]
            out[f"vit.blocks.{i}.attn.qkv.{kind}"] = torch.cat(parts)  # 3 x (D, .) -> (3D, .)
    return out


def timm_to_siglip(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """A `TimmSiglipEncoder` state dict in `SiglipEncoder` names (qkv split).

    Raises:
        ValueError: A key has no SigLIP counterpart.
    """
    back = tuple((t, h) for h, t in _BLOCK_RENAMES)
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key == "vit.pos_embed":
            out["embeddings.position_embedding.weight"] = value.squeeze(0)  # (1, N, D) -> (N, D)
        elif key.startswith("vit.patch_embed.proj."):
            out[key.replace("vit.patch_embed.proj.", "embeddings.patch_embedding.")] = value
        elif (m := _BLOCK.match(key)) is None:
            raise ValueError(f"no SigLIP name for timm key {key!r}")
        elif m.group(2).startswith("attn.qkv."):
            kind = m.group(2).rsplit(".", 1)[1]
            for name, part in zip(_QKV, value.chunk(3), strict=True):  # (3D, .) -> 3 x (D, .)
                out[f"layers.{m.group(1)}.self_attn.{name}.{kind}"] = part
        else:
            out[f"layers.{m.group(1)}.{_rename(m.group(2), back, key)}"] = value
    return out


def _rename(rest: str, pairs: tuple[tuple[str, str], ...], key: str) -> str:
    for src, dst in pairs:
        if rest.startswith(src):
            return dst + rest[len(src) :]
    raise ValueError(f"no counterpart for key {key!r}")
