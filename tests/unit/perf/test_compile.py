"""torch.compile of vision blocks, the reducer and decoder layers: same outputs and gradients, same state dict."""

import pytest
import torch

from tests.unit.perf.tiny import new_module, video_sample
from videolmm.data import VideoCollator
from videolmm.training.compile import CompileBlocks, compile_blocks


def batch():
    return VideoCollator(pad_id=0)([video_sample("a", 4, 2, seed=0), video_sample("b", 2, 3, seed=1)])


def loss_and_grads(module, data):
    loss, _ = module(data)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in module.model.named_parameters()}


def check_same(compiled, data, atol):
    reference = new_module()
    want, want_grads = loss_and_grads(reference, data)
    got, got_grads = loss_and_grads(compiled, data)
    torch.testing.assert_close(got, want, atol=atol, rtol=0)
    assert got_grads.keys() == want_grads.keys()
    for name, grad in want_grads.items():
        torch.testing.assert_close(got_grads[name], grad, atol=atol, rtol=1e-4)


def test_the_callback_compiles_every_block_and_keeps_outputs_gradients_and_keys():
    module = new_module()
    keys = set(module.model.state_dict())
    CompileBlocks(backend="eager").on_fit_start(None, module)  # traced by dynamo, no codegen
    compiled = [m for m in module.model.modules() if "forward" in vars(m)]
    assert len(compiled) == 5  # 2 SigLIP blocks, the reducer, 2 Qwen2 decoder layers
    assert compile_blocks(module.model, backend="eager") == 0  # a second call changes nothing
    assert set(module.model.state_dict()) == keys
    check_same(module, batch(), atol=1e-6)


def test_compile_can_be_limited_to_some_parts():
    module = new_module()
    assert compile_blocks(module.model, encoder=False, reducer=False, llm=True, backend="aot_eager") == 2
    with pytest.raises(TypeError, match="configured VideoLMMModule"):
        CompileBlocks().on_fit_start(None, torch.nn.Module())


@pytest.mark.slow
def test_inductor_compiled_blocks_match_eager_on_cpu():
    module = new_module()
    compile_blocks(module.model, backend="inductor")  # C++ code generation: ~40 s on 2 CPU cores
    check_same(module, batch(), atol=1e-5)
