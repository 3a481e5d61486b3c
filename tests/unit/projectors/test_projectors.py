"""Projectors: LLaVA's mlp2x_gelu (exact GELU) and linear, with HF's parameter names."""

import math

import torch
from transformers import LlavaOnevisionConfig, Qwen2Config, SiglipVisionConfig
from transformers.models.llava_onevision.modeling_llava_onevision import LlavaOnevisionMultiModalProjector

from videolmm.projectors import LinearProjector, MLPProjector


def test_mlp_is_linear_exact_gelu_linear():
    proj = MLPProjector(in_dim=8, out_dim=16)
    x = torch.randn(2, 3, 5, 8)
    h = x @ proj.linear_1.weight.T + proj.linear_1.bias
    h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))  # the erf form, not the tanh approximation
    want = h @ proj.linear_2.weight.T + proj.linear_2.bias
    torch.testing.assert_close(proj(x), want, atol=1e-6, rtol=0)


def test_mlp_hidden_width_defaults_to_the_output_width():
    proj = MLPProjector(in_dim=8, out_dim=16)
    assert (proj.linear_1.out_features, proj.linear_2.in_features) == (16, 16)
    assert MLPProjector(in_dim=8, out_dim=16, hidden_dim=4).linear_1.out_features == 4
    assert MLPProjector(in_dim=8, out_dim=16, bias=False).linear_1.bias is None


def test_mlp_equals_hf_multimodal_projector_with_the_same_state_dict():
    config = LlavaOnevisionConfig(
        vision_config=SiglipVisionConfig(hidden_size=8), text_config=Qwen2Config(hidden_size=16)
    )
    hf = LlavaOnevisionMultiModalProjector(config)
    proj = MLPProjector(in_dim=8, out_dim=16)
    proj.load_state_dict(hf.state_dict())  # same names: linear_1, linear_2
    x = torch.randn(4, 8)
    torch.testing.assert_close(proj(x), hf(x), atol=1e-6, rtol=0)


def test_projectors_map_any_leading_shape_and_pass_gradients():
    for proj in (MLPProjector(in_dim=8, out_dim=16), LinearProjector(in_dim=8, out_dim=16)):
        x = torch.randn(2, 3, 7, 8, requires_grad=True)
        y = proj(x)
        assert y.shape == (2, 3, 7, 16)
        y.sum().backward()
        assert x.grad is not None
        assert all(p.grad is not None for p in proj.parameters())
        assert (proj.in_dim, proj.out_dim) == (8, 16)
