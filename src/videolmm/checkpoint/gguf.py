"""GGUF language-model weights, read by ``transformers``' GGUF loader (dequantised, never executed).

`load_gguf` fills a `CausalLM` built from config (e.g. ``conf/llm/smollm2_135m.yaml``) and
checks that the file describes the same architecture; `gguf_config` reads only the
architecture, for building a matching `CausalLM` without a YAML.
"""

from pathlib import Path

from transformers import AutoConfig, PretrainedConfig
from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

from videolmm.checkpoint.keymap import KeyMap
from videolmm.checkpoint.load import load_mapped
from videolmm.llm import CausalLM

CHECKED_FIELDS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "tie_word_embeddings",
)
"""Config fields that must agree between the GGUF file and the built model."""


def gguf_config(path: str | Path) -> PretrainedConfig:
    """The ``transformers`` config a GGUF file describes (reads metadata only)."""
    fields = dict(load_gguf_checkpoint(str(path))["config"])
    return AutoConfig.for_model(fields.pop("model_type"), **fields)


def load_gguf(llm: CausalLM, path: str | Path) -> None:
    """Fill ``llm`` with the dequantised weights of a GGUF file.

    Raises:
        ValueError: The file's architecture differs from ``llm``'s (fields listed), or keys are
            missing / unexpected / mis-shaped (listed).
    """
    parsed = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=llm.model)
    found = parsed["config"]
    differences = [
        f"{field}: file {found.get(field)!r} vs model {getattr(llm.config, field)!r}"
        for field in CHECKED_FIELDS
        if field in found and found[field] != getattr(llm.config, field)
    ]
    if differences:
        raise ValueError(f"{path} describes a different model: " + "; ".join(differences))
    load_mapped(llm, parsed["tensors"], KeyMap(rules=(("", "model."),)), source=str(path))
