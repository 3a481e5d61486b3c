"""Prompt text, the prompter's ids, training-style batches turned back into prompts, rank shards."""

import dataclasses

import torch

from tests.unit.eval.conftest import make_prompter, mc, moving_square_mp4, oe
from videolmm.data import ChatTemplate, Turn
from videolmm.data.synthetic import TemporalBenchmark
from videolmm.eval import (
    BenchmarkDataset,
    EvalCollator,
    PromptFormat,
    prompt_rows,
    sample_from_record,
    shard,
)


def test_prompt_format_letters_options_and_instructions():
    text = PromptFormat(multiple_choice="Pick a letter.")(mc("1"))
    assert text == "Which shape?\nA. red square\nB. blue circle\nC. green cross\nD. cyan triangle\nPick a letter."
    assert PromptFormat(open_ended="")(oe("2")) == "What is shown?"
    assert PromptFormat()(mc("3", prompt="fixed text")) == "fixed text"


def test_prompter_renders_chatml_with_the_video_placeholders(tiny_model, tokenizer, clip):
    prompter = make_prompter(tokenizer, tiny_model, num_frames=4)
    prompted = prompter(clip, "which way does the square move ?")
    L = tiny_model.num_visual_tokens(4)
    assert prompted.frames.shape == (4, 3, 28, 28)
    assert prompted.num_visual_tokens == L
    assert (prompted.input_ids == 3).sum() == L
    text = tokenizer.decode(prompted.input_ids[prompted.input_ids != 3])
    assert text.startswith("<|im_start|> system")
    assert text.endswith("<|im_start|> assistant \n")
    assert prompted.duration == 2.0


def test_time_instruction_follows_the_video_marker(tiny_model, tokenizer, clip):
    with_time = make_prompter(tokenizer, tiny_model, num_frames=4, time_instruction=True)
    plain = make_prompter(tokenizer, tiny_model, num_frames=4)
    a, b = with_time(clip, "which way ?"), plain(clip, "which way ?")
    assert a.input_ids.numel() > b.input_ids.numel()
    assert a.times == (0.0, 0.5, 1.0, 1.75)  # int(linspace(0, 7, 4)) / 4 fps


def test_dataset_and_collator_left_pad_and_flag_padding(tiny_model, tokenizer):
    samples = [mc(str(i), prompt="p " * (i + 1)) for i in range(3)]
    samples = [dataclasses.replace(s, video=moving_square_mp4()) for s in samples]
    prompter = make_prompter(tokenizer, tiny_model, num_frames=2)
    dataset = BenchmarkDataset(samples, prompter, PromptFormat(), rank=1, world_size=2)
    assert [dataset.order[i] for i in range(len(dataset))] == [(1, False), (1, True)]
    batch = EvalCollator(pad_id=0)([dataset[0], dataset[1]])
    assert batch.padding == [False, True]
    assert batch.attention_mask[:, -1].all()  # left padding: every row ends with a real token
    assert [p.numel() for p in batch.prompts()] == batch.attention_mask.sum(1).tolist()


def test_shards_cover_every_sample_once():
    for count, world in [(7, 3), (2, 4), (6, 2)]:
        shards = [shard(count, r, world) for r in range(world)]
        assert len({len(s) for s in shards}) == 1
        real = sorted(i for s in shards for i, pad in s if not pad)
        assert real == list(range(count))


def test_records_become_samples_and_conversations_become_prompts(tokenizer):
    generated = TemporalBenchmark().sample("test", 0)
    record = generated.record
    sample = sample_from_record(record, generated.video)
    assert sample.benchmark == "synthetic_temporal"
    assert sample.answer == record["answer_letter"]
    assert sample.question_type == record["question_type"]
    chat = ChatTemplate(tokenizer)
    turns = [Turn("user", record["conversations"][0]["value"]), Turn("assistant", record["conversations"][1]["value"])]
    full = chat.encode(turns, 5).input_ids
    prompt = chat.prompt(turns[:1], 5)
    padded = torch.cat([full, torch.zeros(4, dtype=torch.long)])[None]
    mask = torch.cat([torch.ones_like(full), torch.zeros(4, dtype=torch.long)])[None]
    header = [chat.im_start, *tokenizer.encode("assistant\n", add_special_tokens=False)]
    (row,) = prompt_rows(padded, mask, header)
    assert torch.equal(row, prompt)
