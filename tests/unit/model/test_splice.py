"""Splice: placeholder counts are checked per sample (both numbers in the error); tokens land in order."""

import pytest
import torch

from videolmm.model import placeholder_mask, scatter_visual

V = 9  # placeholder id


def test_mask_marks_the_placeholders_when_counts_match():
    ids = torch.tensor([[1, V, V, V, 2], [3, 4, 5, 6, 7]])
    mask = placeholder_mask(ids, V, [3, 0])
    assert mask.tolist() == [[False, True, True, True, False], [False] * 5]


@pytest.mark.parametrize(
    ("ids", "expected", "message"),
    [
        ([[1, V, V, 2]], [3], "sample 0 has 2 placeholder ids \\(id 9\\) but its video gives 3 visual tokens"),
        ([[V, V, V, V]], [3], "sample 0 has 4 placeholder ids"),
        (
            [[1, 2], [V, 3]],
            [0, 0],
            "sample 1 has 1 placeholder ids \\(id 9\\) but it has no video \\(0 visual tokens\\)",
        ),
    ],
)
def test_wrong_placeholder_counts_raise_with_both_numbers(ids, expected, message):
    with pytest.raises(ValueError, match=message):
        placeholder_mask(torch.tensor(ids), V, expected)


def test_mask_needs_one_count_per_sample():
    with pytest.raises(ValueError, match="input_ids has 2 samples but 1 token counts"):
        placeholder_mask(torch.zeros(2, 3, dtype=torch.long), V, [0])


def test_tokens_fill_placeholders_in_batch_then_position_order():
    ids = torch.tensor([[1, V, V, 2], [V, 3, 4, 5], [6, 7, V, V]])
    mask = placeholder_mask(ids, V, [2, 1, 2])
    text = torch.zeros(3, 4, 2)
    a, b, c = torch.tensor([[1.0, 1], [2, 2]]), torch.tensor([[3.0, 3]]), torch.tensor([[4.0, 4], [5, 5]])
    out = scatter_visual(text, mask, [a, b, c])
    assert out[..., 0].tolist() == [[0, 1, 2, 0], [3, 0, 0, 0], [0, 0, 4, 5]]


def test_scatter_passes_gradients_to_text_and_visual_tokens():
    mask = torch.tensor([[False, True, True]])
    text = torch.randn(1, 3, 4, requires_grad=True)
    tokens = torch.randn(2, 4, requires_grad=True)
    scatter_visual(text, mask, [tokens]).sum().backward()
    assert tokens.grad.eq(1).all()
    assert text.grad[0, 0].eq(1).all()
    assert text.grad[0, 1:].eq(0).all()


def test_scatter_rejects_tokens_of_another_width():
    with pytest.raises(ValueError, match="width 3 but the LLM embeds width 4"):
        scatter_visual(torch.zeros(1, 2, 4), torch.tensor([[True, False]]), [torch.zeros(1, 3)])


def test_scatter_without_videos_returns_the_text():
    text = torch.randn(1, 2, 4)
    assert scatter_visual(text, torch.zeros(1, 2, dtype=torch.bool), []) is text
