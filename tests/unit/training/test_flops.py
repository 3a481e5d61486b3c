"""FLOP accounting in the torchtitan convention."""

import pytest

from videolmm.training import TransformerCost, mfu, pass_factor, peak_flops


def test_trained_transformer_costs_torchtitan_6n_plus_12_l_d_s_per_token():
    cost = TransformerCost(params=7_000_000_000, layers=28, width=3584)
    s = 8192
    per_token = pass_factor(trainable=True, input_needs_grad=True) * cost.forward_flops([s]) / s
    assert per_token == pytest.approx(6 * 7e9 + 12 * 28 * 3584 * s)


def test_attention_is_summed_over_real_lengths():
    cost = TransformerCost(params=0, layers=1, width=1)
    assert cost.forward_flops([3, 4]) == 4 * (9 + 16)


def test_pass_factors():
    assert [pass_factor(True, True), pass_factor(False, True), pass_factor(False, False)] == [3, 2, 1]


@pytest.mark.parametrize(
    ("name", "peak"),
    [
        ("NVIDIA H100 80GB HBM3", 989e12),
        ("NVIDIA H100 PCIe", 756e12),
        ("NVIDIA H200", 989e12),
        ("NVIDIA A100-SXM4-80GB", 312e12),
        ("cpu", None),
    ],
)
def test_peak_flops_by_device_name(name, peak):
    assert peak_flops(name) == peak


def test_mfu():
    assert mfu(989e12 * 0.5, 1.0, 989e12) == pytest.approx(0.5)
    assert mfu(989e12, 1.0, 989e12, devices=4) == pytest.approx(0.25)
