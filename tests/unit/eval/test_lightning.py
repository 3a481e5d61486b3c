"""`EvaluationModule` under ``trainer.test``: benchmark batches and training-collator batches, results on disk."""

import json

import lightning as L
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tests.unit.eval.conftest import make_prompter
from videolmm.data import ChatTemplate, SampleProcessor, VideoCollator, parse_record
from videolmm.data.synthetic import TemporalBenchmark
from videolmm.eval import BenchmarkDataset, EvalCollator, GenerationSettings, PromptFormat, ReplyGenerator
from videolmm.eval.readers import SyntheticBenchmark
from videolmm.training import VideoLMMModule
from videolmm.training.evaluation import BenchmarkDataModule, EvaluationModule

SETTINGS = GenerationSettings(max_new_tokens=4)


def trainer() -> L.Trainer:
    return L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                     enable_progress_bar=False, enable_model_summary=False, use_distributed_sampler=False)  # fmt: skip


@pytest.fixture
def module(tiny_model, tokenizer, tmp_path):
    chat = ChatTemplate(tokenizer, placeholder_token="<|video_pad|>")
    return EvaluationModule(tiny_model, chat, SETTINGS, output_dir=tmp_path, meta={"model": "tiny"})


def test_test_run_scores_every_sample_once_and_writes_results(module, tiny_model, tokenizer, tmp_path):
    reader = SyntheticBenchmark(TemporalBenchmark(), "test", count=4)
    prompter = make_prompter(tokenizer, tiny_model, num_frames=8)
    datamodule = BenchmarkDataModule(reader, prompter, PromptFormat(), pad_id=0, batch_size=2)
    trainer().test(module, datamodule=datamodule, verbose=False)
    results = module.results["test"]
    assert results.row().n == 4
    assert results.row("synthetic", "format: multiple_choice").n + results.row("synthetic", "format: open_ended").n == 4
    predictions = [json.loads(line) for line in (tmp_path / "predictions-test-rank0.jsonl").read_text().splitlines()]
    assert [p["id"] for p in predictions] == [s.id for s in reader()]
    assert results.row().accuracy == pytest.approx(np.mean([p["correct"] for p in predictions]))
    batch = EvalCollator(0)([BenchmarkDataset(reader(), prompter, PromptFormat())[i] for i in range(4)])
    direct = ReplyGenerator(tiny_model, tokenizer, SETTINGS)(batch.prompts(), batch.videos)
    assert [p["reply"] for p in predictions] == direct  # the replies the metrics scored
    assert json.loads((tmp_path / "test.json").read_text())["meta"] == {"model": "tiny"}
    assert "| synthetic | all | 4 |" in (tmp_path / "test.md").read_text()


def test_training_collator_batches_give_the_same_prompts_and_replies(module, tiny_model, tokenizer):
    """The synthetic test split as the training data module serves it: cut after the last assistant header."""
    prompter = make_prompter(tokenizer, tiny_model, num_frames=8)
    processor = SampleProcessor(prompter.decoder, prompter.frames, prompter.transform, prompter.chat, prompter.budget)
    generated = [TemporalBenchmark().sample("test", i) for i in range(3)]
    rng = np.random.default_rng(0)
    samples = [processor.process(parse_record(g.record), g.video, g.key, rng=rng, train=False) for g in generated]
    batch = VideoCollator(pad_id=0)(samples)
    trainer().test(module, dataloaders=DataLoader([batch], batch_size=None), verbose=False)
    questions = [g.record["conversations"][0]["value"].replace("<video>\n", "") for g in generated]
    prompts = [prompter(g.video, q).input_ids for g, q in zip(generated, questions, strict=True)]
    by_prompter = ReplyGenerator(tiny_model, tokenizer, SETTINGS)(prompts, [s.frames for s in samples])
    replies = [p["reply"] for p in module._predictions]
    assert replies == by_prompter
    assert module.results["test"].row().n == 3


def test_validation_keeps_the_loss_and_adds_scores_when_asked(tiny_model, tokenizer):
    module = EvaluationModule(tiny_model, ChatTemplate(tokenizer), SETTINGS, score_validation=True)
    prompter = make_prompter(tokenizer, tiny_model, num_frames=8)
    processor = SampleProcessor(prompter.decoder, prompter.frames, prompter.transform, prompter.chat, prompter.budget)
    g = TemporalBenchmark().sample("val", 0)
    sample = processor.process(parse_record(g.record), g.video, g.key, rng=np.random.default_rng(0), train=False)
    batch = VideoCollator(0)([sample])
    metrics = trainer().validate(module, dataloaders=DataLoader([batch], batch_size=None))[0]
    assert set(metrics) == {"val/loss", "val/accuracy"}
    with torch.no_grad():
        loss = tiny_model(batch["input_ids"], batch["attention_mask"], batch["videos"], batch["labels"]).loss
    assert metrics["val/loss"] == pytest.approx(loss.item(), rel=1e-5)  # the model's own token-mean loss
    assert module.results["val"].row().n == 1


def test_the_module_holds_the_model_and_prompts_with_the_chat_templates_generation_prompt(
    module, tiny_model, tokenizer
):
    """A composition, not a `VideoLMMModule`; conversation rows cut to exactly `ChatTemplate.prompt` of their turns."""
    assert not isinstance(module, VideoLMMModule)
    assert module.model is tiny_model
    prompter = make_prompter(tokenizer, tiny_model, num_frames=8)
    processor = SampleProcessor(prompter.decoder, prompter.frames, prompter.transform, prompter.chat, prompter.budget)
    generated = [TemporalBenchmark().sample("test", i) for i in range(3)]
    rng = np.random.default_rng(0)
    samples = [processor.process(parse_record(g.record), g.video, g.key, rng=rng, train=False) for g in generated]
    prompts, _, _, padding = module.questions(VideoCollator(pad_id=0)(samples))
    for prompt, sample in zip(prompts, samples, strict=True):
        expected = module.chat.prompt(sample.record.turns[:-1], sample.num_visual_tokens)  # the reply left out
        assert prompt.tolist() == expected.tolist()
        assert prompt[-len(module.chat.generation_header()) :].tolist() == module.chat.generation_header()
    assert padding == [False] * 3
