"""The reducer contract, checked for every option in ``conf/reducer/`` (timm-style: tests come from the registry)."""

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

import videolmm.conf
from videolmm.reducers import TokenReducer

REDUCER_CONFIGS = sorted((Path(videolmm.conf.__file__).parent / "reducer").glob("*.yaml"))
GRID = (9, 7)  # odd and non-square: a swapped h/w or a dropped remainder shows up


def build(path: Path) -> TokenReducer:
    return instantiate(OmegaConf.load(path))


def frames_for(reducer: TokenReducer) -> int:
    return max(reducer.min_frames, 7) + 1  # never a multiple of 3 below 10: exercises uneven slow/fast splits


def test_registry_is_not_empty():
    assert len(REDUCER_CONFIGS) >= 8


@pytest.fixture(params=REDUCER_CONFIGS, ids=lambda p: p.stem)
def reducer(request) -> TokenReducer:
    return build(request.param)


def test_is_a_token_reducer(reducer):
    assert isinstance(reducer, TokenReducer)
    assert isinstance(reducer, torch.nn.Module)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_output_length_equals_num_tokens_and_segments(reducer, dtype):
    T = frames_for(reducer)
    x = torch.randn(2, T, GRID[0] * GRID[1], 5, dtype=dtype)
    out = reducer(x, GRID)
    segments = reducer.segments(T, GRID)
    assert out.shape == (2, reducer.num_tokens(T, GRID), 5)
    assert out.shape[1] == sum(s.rows * s.cols for s in segments)
    assert out.dtype == dtype
    assert all(0 <= f < T for s in segments for f in s.frames)


def test_gradients_reach_the_input(reducer):
    x = torch.randn(1, frames_for(reducer), GRID[0] * GRID[1], 4, requires_grad=True)
    reducer(x, GRID).square().sum().backward()
    assert x.grad is not None
    assert x.grad.abs().sum() > 0


def test_is_deterministic(reducer):
    x = torch.randn(2, frames_for(reducer), GRID[0] * GRID[1], 4)
    assert torch.equal(reducer(x, GRID), reducer(x, GRID))


def test_samples_in_a_batch_are_independent(reducer):
    x = torch.randn(3, frames_for(reducer), GRID[0] * GRID[1], 4)
    batched = reducer(x, GRID)
    for i in range(3):
        torch.testing.assert_close(batched[i : i + 1], reducer(x[i : i + 1], GRID))


def test_has_no_parameters(reducer):
    assert not list(reducer.parameters())


def test_rejects_patches_that_do_not_fill_the_grid(reducer):
    x = torch.randn(1, frames_for(reducer), GRID[0] * GRID[1] - 1, 4)
    with pytest.raises(ValueError, match=r"N=62 .* h\*w=63"):
        reducer(x, GRID)


@pytest.mark.parametrize("shape", [(7, 63, 4), (1, 1, 7, 63, 4)])
def test_rejects_the_wrong_rank(reducer, shape):
    with pytest.raises(ValueError, match=f"rank {len(shape)}"):
        reducer(torch.randn(shape), GRID)


def test_frames_below_the_minimum_are_rejected_with_the_numbers(reducer):
    if reducer.min_frames == 1:
        assert reducer(torch.randn(1, 1, 63, 4), GRID).shape[1] == reducer.num_tokens(1, GRID)
        return
    T = reducer.min_frames - 1
    with pytest.raises(ValueError, match=f"at least {reducer.min_frames} frames, got T={T}"):
        reducer(torch.randn(1, T, 63, 4), GRID)
    with pytest.raises(ValueError, match=f"got T={T}"):
        reducer.num_tokens(T, GRID)
