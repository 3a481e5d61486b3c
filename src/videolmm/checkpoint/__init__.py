"""Weights in and out: HF LLaVA directories, original LLaVA-NeXT checkpoints, GGUF LLMs, timm SigLIP.

Building is not loading: models are built from config (`videolmm.model.build_model`) and these
functions fill them from safetensors (or ``torch.load(weights_only=True)``, or GGUF through
``transformers``), with key maps tested in both directions and strict checks that list every
missing or unexpected key.
"""

from videolmm.checkpoint.gguf import gguf_config, load_gguf
from videolmm.checkpoint.hf_llava import from_hf_pretrained, hf_config, hf_keymap, save_hf_pretrained
from videolmm.checkpoint.initial import keep_random_init, load_hf_llava
from videolmm.checkpoint.keymap import KeyMap
from videolmm.checkpoint.llava_next import llava_next_keymap, load_llava_next, save_llava_next
from videolmm.checkpoint.load import export_mapped, load_mapped, tied_aliases
from videolmm.checkpoint.timm_siglip import siglip_to_timm, timm_to_siglip
from videolmm.checkpoint.weights import read_weights, write_weights

__all__ = [
    "KeyMap",
    "export_mapped",
    "from_hf_pretrained",
    "gguf_config",
    "hf_config",
    "hf_keymap",
    "keep_random_init",
    "llava_next_keymap",
    "load_gguf",
    "load_hf_llava",
    "load_llava_next",
    "load_mapped",
    "read_weights",
    "save_hf_pretrained",
    "save_llava_next",
    "siglip_to_timm",
    "tied_aliases",
    "timm_to_siglip",
    "write_weights",
]
