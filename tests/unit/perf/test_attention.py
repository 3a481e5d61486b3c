"""Attention backends: chosen by config (SDPA with cuDNN first by default), checked early, and logged."""

import importlib.util
import logging

import pytest
import torch
from transformers import Qwen2Config

from videolmm.llm import SDPA_PRIORITY, CausalLM, describe_attention, sdpa_priority
from videolmm.llm.attention import sdpa_backends


def config() -> Qwen2Config:
    return Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                       num_attention_heads=4, num_key_value_heads=2)  # fmt: skip


def test_the_default_sdpa_priority_puts_cudnn_first_and_math_last():
    assert SDPA_PRIORITY == ("CUDNN_ATTENTION", "FLASH_ATTENTION", "EFFICIENT_ATTENTION", "MATH")
    assert CausalLM(config()).sdpa_backends == SDPA_PRIORITY
    with pytest.raises(ValueError, match="SDPA backends must be a non-empty list"):
        sdpa_backends(["FLASH", "MATH"])
    with pytest.raises(ValueError, match="SDPA backends must be a non-empty list"):
        CausalLM(config(), sdpa_backends=[])


def test_the_priority_applies_inside_the_context_only():
    before = torch._C._get_sdp_priority_order()
    with sdpa_priority("sdpa", ["MATH", "FLASH_ATTENTION"]):
        inside = torch._C._get_sdp_priority_order()
        assert not torch.backends.cuda.cudnn_sdp_enabled()  # only the listed kernels are enabled
    assert inside[:2] == [int(torch.nn.attention.SDPBackend.MATH), int(torch.nn.attention.SDPBackend.FLASH_ATTENTION)]
    assert torch._C._get_sdp_priority_order() == before


def test_the_configured_kernels_are_used_and_give_the_same_hidden_states():
    torch.manual_seed(0)
    fast = CausalLM(config())
    math = CausalLM(config(), sdpa_backends=["MATH"])
    eager = CausalLM(config(), attn_implementation="eager")
    math.load_state_dict(fast.state_dict())
    eager.load_state_dict(fast.state_dict())
    x = torch.randn(2, 9, 32)
    with torch.no_grad():
        torch.testing.assert_close(math(x), fast(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(eager(x), fast(x), atol=1e-5, rtol=1e-5)
    assert fast.model.config._attn_implementation == "sdpa"  # one config object per model: no cross-talk


@pytest.fixture
def enabled_logger():
    """Hydra apps run in-process by other tests apply logging configs that disable existing loggers."""
    logger = logging.getLogger("videolmm.llm.causal_lm")
    disabled, logger.disabled = logger.disabled, False
    yield
    logger.disabled = disabled


@pytest.mark.usefixtures("enabled_logger")
def test_the_chosen_kernels_are_logged_once_per_device_and_dtype(caplog):
    llm = CausalLM(config(), sdpa_backends=["MATH"])
    with caplog.at_level(logging.INFO, logger="videolmm.llm.causal_lm"):
        llm(torch.randn(1, 5, 32))
        llm(torch.randn(1, 7, 32))
    lines = [r.getMessage() for r in caplog.records if r.name == "videolmm.llm.causal_lm"]
    assert lines == ["attention: sdpa on cpu (torch.float32), priority MATH; causal -> MATH, packed -> MATH"]


def test_flash_attention_without_the_package_fails_before_building():
    if importlib.util.find_spec("flash_attn") is not None:
        pytest.skip("flash-attn is installed")
    with pytest.raises(ImportError, match=r"needs the flash-attn package.*use attn_implementation=sdpa"):
        CausalLM(config(), attn_implementation="flash_attention_2")


@pytest.mark.gpu
def test_on_cuda_the_log_names_a_kernel_of_the_priority_list():
    line = describe_attention("sdpa", SDPA_PRIORITY, 28, 4, 128, torch.device("cuda"), torch.bfloat16)
    causal, packed = line.split("causal -> ")[1].split(", packed -> ")
    assert causal in SDPA_PRIORITY, line  # cuDNN where this GPU, cuDNN and torch build run it, else the next
    assert packed in SDPA_PRIORITY, line
    assert packed != "FLASH_ATTENTION"  # the flash kernel takes no mask
