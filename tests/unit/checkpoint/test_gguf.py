"""GGUF weights through transformers' loader, on a tiny Llama written here as llama.cpp writes one."""

from pathlib import Path

import gguf
import numpy as np
import pytest
import torch

from videolmm.checkpoint import gguf_config, load_gguf
from videolmm.llm import CausalLM

from .tiny import llama, qwen2

BLOCK_NAMES = {
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def rope_permute(w: np.ndarray, heads: int) -> np.ndarray:
    """llama.cpp's row order for q/k projections (transformers undoes it when reading)."""
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_llama_gguf(llm: CausalLM, path: Path) -> None:
    cfg = llm.config
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_name("tiny")
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    writer.add_vocab_size(cfg.vocab_size)
    state = {k: v.numpy() for k, v in llm.model.state_dict().items()}
    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    for i in range(cfg.num_hidden_layers):
        names.update({f"model.layers.{i}.{hf}.weight": f"blk.{i}.{g}.weight" for hf, g in BLOCK_NAMES.items()})
    for hf_name, gguf_name in names.items():
        w = state[hf_name]
        if ".attn_q." in gguf_name:
            w = rope_permute(w, cfg.num_attention_heads)
        elif ".attn_k." in gguf_name:
            w = rope_permute(w, cfg.num_key_value_heads)
        writer.add_tensor(gguf_name, np.ascontiguousarray(w))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def logits(llm: CausalLM, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return llm.logits(llm(llm.embed(ids)))


def test_gguf_weights_fill_a_model_built_from_config(tmp_path):
    source = llama(tied=True).eval()
    write_llama_gguf(source, tmp_path / "tiny.gguf")
    config = gguf_config(tmp_path / "tiny.gguf")
    assert (config.model_type, config.hidden_size, config.num_key_value_heads) == ("llama", 48, 4)
    target = llama(tied=True).eval()
    load_gguf(target, tmp_path / "tiny.gguf")
    ids = torch.randint(0, 96, (1, 9))
    torch.testing.assert_close(logits(target, ids), logits(source, ids), atol=1e-6, rtol=0)


def test_gguf_of_another_architecture_is_refused(tmp_path):
    write_llama_gguf(llama(tied=True), tmp_path / "tiny.gguf")
    with pytest.raises(ValueError, match="model_type: file 'llama' vs model 'qwen2'"):
        load_gguf(qwen2(), tmp_path / "tiny.gguf")
