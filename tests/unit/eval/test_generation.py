"""Batched generation with left padding: identical greedy replies, stop at the end token, sampling."""

import copy

import pytest
import torch

from tests.unit.eval.conftest import VIDEO_ID
from videolmm.eval import GenerationSettings, ReplyGenerator, cut_at_end, cut_at_strings, left_pad

GREEDY = GenerationSettings(max_new_tokens=6)


def prompts_and_videos(model, lengths=(2, 9, 5), num_frames=(2, 4, 2), seed=1):
    """Prompts of unequal length (text, placeholders, text) and videos of unequal frame counts."""
    g = torch.Generator().manual_seed(seed)
    prompts, videos = [], []
    for n, T in zip(lengths, num_frames, strict=True):
        L = model.num_visual_tokens(T)
        text = torch.randint(5, 90, (n,), generator=g)
        prompts.append(torch.cat([text, torch.full((L,), VIDEO_ID), torch.randint(5, 90, (3,), generator=g)]))
        videos.append(torch.randn(T, 3, 28, 28, generator=g))
    return prompts, videos


def test_batched_and_one_by_one_greedy_replies_are_identical(tiny_model, tokenizer):
    generator = ReplyGenerator(tiny_model, tokenizer, GREEDY)
    prompts, videos = prompts_and_videos(tiny_model)
    batched = generator.ids(prompts, videos)
    alone = [generator.ids([p], [v])[0] for p, v in zip(prompts, videos, strict=True)]
    assert batched == alone
    assert [len(ids) for ids in batched] == [6, 6, 6]  # the random model never emits an end token here
    assert len({tuple(ids) for ids in batched}) > 1  # the comparison is not between identical replies


def test_generation_stops_at_the_end_token(tiny_model, tokenizer):
    """Replies stop before their first end token; the others go on, and the batch ends when all have ended."""
    model = copy.deepcopy(tiny_model)
    with torch.no_grad():
        model.llm.head.weight[len(tokenizer) :] = 0.0  # only the tokenizer's ids can win the argmax
    prompts, videos = prompts_and_videos(model)
    free = ReplyGenerator(model, tokenizer, GenerationSettings(max_new_tokens=10, end_tokens=("[UNK]",))).ids(
        prompts, videos
    )
    stop = free[0][2]  # the third token of the first reply becomes the end token
    settings = GenerationSettings(max_new_tokens=10, end_tokens=(tokenizer.convert_ids_to_tokens(stop),))
    stopped = ReplyGenerator(model, tokenizer, settings).ids(prompts, videos)
    expected = [row[: row.index(stop)] if stop in row else row for row in free]
    assert stopped == expected
    assert len(stopped[0]) <= 2


def test_left_padding_and_cutting():
    ids, mask = left_pad([torch.tensor([5, 6]), torch.tensor([7, 8, 9])], pad_id=0)
    assert ids.tolist() == [[0, 5, 6], [7, 8, 9]]
    assert mask.tolist() == [[0, 1, 1], [1, 1, 1]]
    assert cut_at_end(torch.tensor([[4, 2, 9], [4, 5, 6], [0, 1, 1]]), end_ids=[2, 0]) == [[4], [4, 5, 6], []]
    assert cut_at_strings("A.\n\nmore", ["\n\n", "Q:"]) == "A."
    assert cut_at_strings("A.", []) == "A."


def test_sampling_is_reproducible_with_a_seed_and_differs_from_greedy(tiny_model, tokenizer):
    sampled = GenerationSettings(max_new_tokens=6, do_sample=True, temperature=5.0, top_p=1.0)
    generator = ReplyGenerator(tiny_model, tokenizer, sampled)
    prompts, videos = prompts_and_videos(tiny_model)
    torch.manual_seed(3)
    first = generator.ids(prompts, videos)
    torch.manual_seed(3)
    assert generator.ids(prompts, videos) == first
    assert first != generator.ids(prompts, videos, GREEDY)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="max_new_tokens"):
        GenerationSettings(max_new_tokens=0)
    with pytest.raises(ValueError, match="temperature"):
        GenerationSettings(do_sample=True, temperature=0.0)
    assert "temperature" not in GenerationSettings().hf_kwargs([2], 0)
