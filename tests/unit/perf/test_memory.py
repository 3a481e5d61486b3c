"""The activation-memory model: exact per-block bytes, and the planner's peak against measured CPU peaks.

Measured peak: torch's CPU allocator reports every allocation and free to the profiler
(``profile_memory=True``); the running sum of those events, in time order, is the memory torch
holds, and its maximum over one forward + backward is the peak (relative to the start). This is
the CPU analogue of ``torch.cuda.max_memory_allocated`` and ignores the allocator's caching.
"""

import itertools

import pytest
import torch
import torch.profiler as P
from transformers import LlamaConfig, Qwen2Config

from tests.unit.perf.tiny import FULL, new_module, video_sample
from videolmm.data import VideoCollator
from videolmm.llm import CausalLM, ChunkedCrossEntropy, PlainCrossEntropy
from videolmm.training.memory import DecoderShape, activation_memory
from videolmm.training.sharding import apply_activation_checkpointing


def saved_bytes(run, exclude: set[int]) -> int:
    """Bytes of the distinct storages autograd keeps during ``run()``, parameters and ``exclude`` left out."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in exclude:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        run()
    return sum(seen.values())


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("config_class", [Qwen2Config, LlamaConfig])
def test_decoder_layer_keeps_the_bytes_per_token_the_model_counts(dtype, config_class):
    config = config_class(vocab_size=64, hidden_size=64, intermediate_size=96, num_hidden_layers=1,
                          num_attention_heads=4, num_key_value_heads=2)  # fmt: skip
    llm = CausalLM(config).to(dtype)
    S = 96
    x = torch.randn(1, S, 64, dtype=dtype, requires_grad=True)
    positions = torch.arange(S)[None]
    cos, sin = llm.model.model.rotary_emb(x, positions)  # shared by all layers: counted outside the layers
    layer = llm.model.model.layers[0]
    exclude = {p.untyped_storage().data_ptr() for p in llm.parameters()} | {t.untyped_storage().data_ptr()
                                                                           for t in (cos, sin)}  # fmt: skip
    got = saved_bytes(lambda: layer(x, attention_mask=None, position_embeddings=(cos, sin), position_ids=positions),
                      exclude)  # fmt: skip
    a = torch.finfo(dtype).bits // 8
    assert got == DecoderShape.of(llm).saved(a) * S  # 8E + 6aE + 2a*kv + 4aI + 4H + 8 per token


def test_vision_block_keeps_the_bytes_per_patch_the_model_counts():
    from videolmm.training.memory import VisionShape

    module = new_module()
    encoder = module.model.encoder  # tiny SigLIP: D=32, MLP 64, 7x7 patches
    x = torch.randn(8, 49, 32, requires_grad=True)
    params = {p.untyped_storage().data_ptr() for p in encoder.parameters()}
    got = saved_bytes(lambda: encoder.layers[0](x, None), params)
    lse = 4 * encoder.config.num_attention_heads  # the attention's float32 log-sum-exp, left out of the plan (0.3%)
    assert got == (VisionShape.of(module.model).saved(4) + lse) * 8 * 49  # 8aD + 2aI + 16 (LayerNorm stats, float32)


def peak_bytes(run) -> int:
    """Peak of torch's CPU allocations during ``run()``, from the profiler's allocation events."""
    with P.profile(activities=[P.ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    return max(itertools.accumulate(n for _, n in events))


CASES = [  # frames, labelled answer tokens, llm, checkpointing, head loss
    (16, 600, "tiny", False, ChunkedCrossEntropy(128)),
    (8, 1000, "tiny", True, PlainCrossEntropy()),
    (32, 300, "tiny_llama", True, ChunkedCrossEntropy(128)),
]


@pytest.mark.parametrize(("frames", "labelled", "llm", "checkpointing", "loss"), CASES)
def test_planned_peak_is_within_15_percent_of_the_measured_cpu_peak(frames, labelled, llm, checkpointing, loss):
    module = new_module(llm)
    module.model.llm.head_loss = loss
    if checkpointing:
        apply_activation_checkpointing(module.model)
    batch = VideoCollator(pad_id=0)([video_sample("a", labelled, frames, seed=0)])

    def step() -> None:
        loss_sum, _ = module(batch)
        loss_sum.backward()

    step()  # warm-up: lazy initialisations are not activations
    module.model.zero_grad(set_to_none=True)
    measured = peak_bytes(step)
    plan = activation_memory(module.model, FULL.trainable, frames, batch["input_ids"].shape[1], labelled,
                             act_bytes=4, checkpointing=checkpointing)  # fmt: skip
    gradients = 4 * sum(p.numel() for p in module.model.parameters())  # float32, allocated during the backward
    ratio = measured / (plan.peak + gradients)
    assert 0.85 <= ratio <= 1.05, f"measured {measured:,} B vs planned {plan.peak + gradients:,.0f} B ({ratio:.3f})"


def test_checkpointing_keeps_only_block_inputs():
    module = new_module()
    plain = activation_memory(module.model, FULL.trainable, 16, 1047, 900, act_bytes=4)
    ckpt = activation_memory(module.model, FULL.trainable, 16, 1047, 900, act_bytes=4, checkpointing=True)
    assert ckpt.kept["llm"] == 4 * 64 * 1047 * 2  # E x S x layers, float32
    assert ckpt.kept["encoder"] == 4 * 32 * 16 * 49 * 2  # D x patches x blocks
    assert ckpt.peak < plain.peak
    frozen = activation_memory(module.model, {"encoder": False, "projector": False, "llm": False}, 16, 1047, 900)
    assert frozen.peak == 0  # nothing trains: nothing is kept
