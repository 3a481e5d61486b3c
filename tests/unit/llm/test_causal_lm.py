"""The causal-LM adapter: equal to the HF model it wraps; loss over the LM head; generate with a KV cache."""

import pytest
import torch
from transformers import LlamaConfig, Qwen2Config
from transformers.models.llama.modeling_llama import LlamaDecoderLayer
from transformers.models.qwen2.modeling_qwen2 import Qwen2DecoderLayer

from videolmm.llm import IGNORE_INDEX, CausalLM, causal_lm_loss


def tiny_qwen2(**kw) -> CausalLM:
    config = Qwen2Config(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, **kw,
    )  # fmt: skip
    return CausalLM(config).eval()


def test_adapter_exposes_width_embedding_and_blocks():
    llm = tiny_qwen2()
    assert llm.hidden_size == 32
    assert llm.vocab_size == 96
    assert llm.embed(torch.randint(0, 96, (2, 5))).shape == (2, 5, 32)
    assert llm.block_classes == (Qwen2DecoderLayer,)
    assert not llm.tied
    llama = CausalLM(LlamaConfig(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                 num_attention_heads=4, tie_word_embeddings=True))  # fmt: skip
    assert llama.block_classes == (LlamaDecoderLayer,)
    assert llama.tied


def test_attention_implementation_comes_from_the_argument():
    assert tiny_qwen2().config._attn_implementation == "sdpa"
    eager = CausalLM(tiny_qwen2().config, attn_implementation="eager")
    assert eager.model.model.layers[0].self_attn.config._attn_implementation == "eager"


def test_hidden_states_and_logits_equal_the_hf_forward():
    llm = tiny_qwen2()
    ids = torch.randint(0, 96, (2, 7))
    mask = torch.ones_like(ids)
    mask[1, :2] = 0  # left padding
    with torch.no_grad():
        hf = llm.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        hidden = llm(llm.embed(ids), mask)
    torch.testing.assert_close(hidden, hf.hidden_states[-1], atol=1e-6, rtol=0)
    torch.testing.assert_close(llm.logits(hidden), hf.logits, atol=1e-6, rtol=0)


def test_loss_equals_hf_causal_lm_loss():
    llm = tiny_qwen2()
    ids = torch.randint(0, 96, (3, 9))
    labels = ids.clone()
    labels[:, :4] = IGNORE_INDEX  # prompt
    labels[2, 6:] = IGNORE_INDEX
    with torch.no_grad():
        want = llm.model(input_ids=ids, labels=labels).loss
        got = causal_lm_loss(llm(llm.embed(ids)), labels, llm.head)
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)


def test_loss_without_predicted_tokens_is_zero_and_differentiable():
    llm = tiny_qwen2()
    hidden = llm(llm.embed(torch.randint(0, 96, (1, 4))))
    loss = causal_lm_loss(hidden, torch.full((1, 4), IGNORE_INDEX), llm.head)
    assert loss.item() == 0.0
    loss.backward()


def test_loss_rejects_labels_of_another_shape():
    with pytest.raises(ValueError, match=r"\(2, 5\) and labels \(2, 4\)"):
        causal_lm_loss(torch.zeros(2, 5, 8), torch.zeros(2, 4, dtype=torch.long), torch.nn.Linear(8, 3))


def test_generate_from_embeddings_equals_greedy_decoding_without_cache():
    llm = tiny_qwen2()
    ids = torch.randint(0, 96, (1, 6))
    new = llm.generate(llm.embed(ids), torch.ones_like(ids), max_new_tokens=5, do_sample=False, pad_token_id=0)
    assert new.shape == (1, 5)
    seq = ids
    with torch.no_grad():
        for _ in range(5):
            nxt = llm.logits(llm(llm.embed(seq)))[:, -1].argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
    assert torch.equal(new, seq[:, 6:])
