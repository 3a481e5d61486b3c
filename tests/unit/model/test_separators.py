"""Separator vectors where their layout puts them: exact positions (reference_algorithms.md §1.1, §1.2), gradients."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

import videolmm.conf
from videolmm.layout import SeparatorLayout
from videolmm.model import Separators
from videolmm.reducers import Identity, LlavaVideoSlowFast, SpatialPool

SEPARATOR_CONFIGS = sorted((Path(videolmm.conf.__file__).parent / "separators").glob("*.yaml"))
CONFIG_REDUCERS = sorted((Path(videolmm.conf.__file__).parent / "reducer").glob("*.yaml"))


def separated(reducer, separators, T, grid, D=4):
    """Run reducer + separators on (1, T, N, D) patches; return input tokens and output."""
    tokens = reducer(torch.randn(1, T, grid[0] * grid[1], D), grid)
    return tokens, separators(tokens, reducer.segments(T, grid))


def test_grid_newline_positions_match_llava_next():
    # pooled side s, frame t, row r, column c: token at t*s(s+1) + r(s+1) + c, newline at t*s(s+1) + r(s+1) + s
    sep = Separators(dim=4, layout=SeparatorLayout(position="grid"))
    T, s = 3, 3
    tokens, out = separated(SpatialPool(2, "avg"), sep, T, (7, 7))
    assert out.shape == (1, T * s * (s + 1), 4)
    for t in range(T):
        for r in range(s):
            for c in range(s):
                assert torch.equal(out[0, t * s * (s + 1) + r * (s + 1) + c], tokens[0, t * s * s + r * s + c])
            assert torch.equal(out[0, t * s * (s + 1) + r * (s + 1) + s], sep.newline.detach())


def test_frame_newline_follows_every_frame():
    sep = Separators(dim=4, layout=SeparatorLayout(position="frame"))
    tokens, out = separated(SpatialPool(2, "avg"), sep, 2, (4, 4))
    assert out.shape[1] == 2 * (4 + 1)
    assert torch.equal(out[0, [4, 9]], sep.newline.detach().expand(2, 4))
    assert torch.equal(out[0, 5:9], tokens[0, 4:8])


def test_end_newline_is_one_token_after_everything():
    sep = Separators(dim=4, layout=SeparatorLayout(position="end"))
    tokens, out = separated(SpatialPool(2, "bilinear"), sep, 3, (7, 7))
    assert out.shape[1] == 3 * 16 + 1
    assert torch.equal(out[0, :-1], tokens[0])
    assert torch.equal(out[0, -1], sep.newline.detach())


def test_slowfast_layout_interleaves_markers_after_every_frame():
    # T=6, s=3: S0 ft F1 ft F2 ft S3 ft F4 ft F5 ft, each frame with row newlines (reference §1.2)
    sep = Separators(dim=4, layout=SeparatorLayout(position="grid", slowfast_marker=True))
    reducer = LlavaVideoSlowFast(slow_every=3, stride=2, mode="avg")
    _, out = separated(reducer, sep, 6, (8, 8))
    a, b = 4, 2
    lengths = [a * (a + 1) + 1 if t % 3 == 0 else b * (b + 1) + 1 for t in range(6)]
    assert out.shape[1] == sum(lengths)
    ends = torch.tensor(lengths).cumsum(0) - 1
    assert torch.equal(out[0, ends], sep.marker.detach().expand(6, 4))
    assert torch.equal(out[0, ends - 1], sep.newline.detach().expand(6, 4))


@pytest.mark.parametrize("config", SEPARATOR_CONFIGS, ids=lambda p: p.stem)
@pytest.mark.parametrize("reducer_config", CONFIG_REDUCERS, ids=lambda p: p.stem)
def test_output_length_is_tokens_plus_extra_tokens_for_every_config_pair(config, reducer_config):
    sep = Separators(dim=3, layout=instantiate(OmegaConf.load(config)))
    reducer = instantiate(OmegaConf.load(reducer_config))
    T, grid = max(reducer.min_frames, 4) + 1, (9, 7)
    tokens, out = separated(reducer, sep, T, grid, D=3)
    assert out.shape == (1, tokens.shape[1] + sep.layout.extra_tokens(reducer.segments(T, grid)), 3)
    visual = torch.isin(out[0, :, 0], tokens[0, :, 0])  # the visual tokens keep their order
    assert torch.equal(out[0, visual], tokens[0])


def test_gradients_reach_separator_vectors_and_tokens():
    sep = Separators(dim=4, layout=SeparatorLayout(position="grid", slowfast_marker=True))
    x = torch.randn(2, 8, 4, requires_grad=True)
    sep(x, Identity().segments(2, (2, 2))).sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    assert torch.equal(sep.newline.grad, torch.full((4,), 2.0 * 4))  # 2 frames x 2 rows, batch of 2
    assert torch.equal(sep.marker.grad, torch.full((4,), 2.0 * 2))  # 2 frames, batch of 2


def test_none_has_no_parameters_and_returns_input():
    sep = Separators(dim=4)
    x = torch.randn(1, 8, 4)
    assert not list(sep.parameters())
    assert sep(x, Identity().segments(2, (2, 2))) is x


def test_vectors_start_with_standard_deviation_one_over_sqrt_dim():
    sep = Separators(dim=4096, layout=SeparatorLayout(position="end", slowfast_marker=True))
    assert abs(sep.newline.std().item() - 4096**-0.5) < 0.1 * 4096**-0.5
    assert not torch.equal(sep.newline, sep.marker)


def test_keeps_the_input_dtype():
    sep = Separators(dim=4, layout=SeparatorLayout(position="grid"))
    out = sep(torch.randn(1, 8, 4, dtype=torch.bfloat16), Identity().segments(2, (2, 2)))
    assert out.dtype == torch.bfloat16


def test_rejects_tokens_that_do_not_match_the_segments():
    with pytest.raises(ValueError, match=r"L=8 tokens from the segments, got \(1, 9, 4\)"):
        Separators(dim=4, layout=SeparatorLayout(position="grid"))(torch.randn(1, 9, 4), Identity().segments(2, (2, 2)))


def test_bad_width_raises():
    with pytest.raises(ValueError, match="dim must be a positive int, got 0"):
        Separators(dim=0)


def test_a_position_string_instead_of_a_layout_raises():
    with pytest.raises(TypeError, match="layout must be a SeparatorLayout, got 'grid'"):
        Separators(4, "grid")


def test_state_dict_keys_are_the_vector_names():
    layout = SeparatorLayout(position="grid", slowfast_marker=True)
    assert list(Separators(dim=4, layout=layout).state_dict()) == ["newline", "marker"] == list(layout.vectors)
    assert list(Separators(dim=4, layout=SeparatorLayout(slowfast_marker=True)).state_dict()) == ["marker"]
