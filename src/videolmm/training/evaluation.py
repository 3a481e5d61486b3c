"""The Lightning side of evaluation: answer and score questions in ``validate`` / ``test``.

`EvaluationModule` is a `VideoLMMModule` (same model config, same checkpoints) whose test steps
generate a reply per question and update a `videolmm.eval.BenchmarkScorer`; at the end of the
epoch the scores are synchronised across ranks (torchmetrics) and, on rank 0, written as
``{stage}.json`` and ``{stage}.md`` into ``output_dir``; each rank also writes its per-question
replies to ``predictions-{stage}-rank{r}.jsonl``. It accepts two kinds of batch:

* `videolmm.eval.EvalBatch` from `BenchmarkDataModule` (benchmark readers): left-padded prompts;
* the training collator's dicts (`videolmm.data.VideoDataModule`, e.g. the synthetic test split):
  each conversation is cut after its last ``<|im_start|>assistant\\n`` and its record says the
  answer (`videolmm.eval.sample_from_record`). Validation keeps the token loss of the parent class
  and adds the scores when ``score_validation`` is set.

`BenchmarkDataModule` serves one rank's share of a reader's samples (`videolmm.eval.shard`, no
double counting); build the trainer with ``use_distributed_sampler=False`` so that Lightning does
not shard them a second time. Under FSDP every rank must run the same number of decoding steps,
which HF ``generate`` does not guarantee when ranks stop early: evaluate sharded models with
``max_new_tokens`` steps forced or with DDP.
"""

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig
from torch import Tensor
from torch.utils.data import DataLoader

from videolmm.eval.dataset import BenchmarkDataset, EvalBatch, EvalCollator
from videolmm.eval.generation import GenerationSettings, ReplyGenerator
from videolmm.eval.groups import DurationBuckets
from videolmm.eval.judge import Judge
from videolmm.eval.prompter import VideoPrompter
from videolmm.eval.prompts import PromptFormat
from videolmm.eval.records import prompt_rows, sample_from_record
from videolmm.eval.results import EvalResults, write_results
from videolmm.eval.schema import BenchmarkSample
from videolmm.eval.scorer import BenchmarkScorer
from videolmm.training.module import VideoLMMModule
from videolmm.training.stage import Stage

FROZEN = Stage("frozen_eval", {"encoder": False, "projector": False, "separators": False, "llm": False})
"""Nothing trains: the stage an evaluation-only module uses by default."""


class EvaluationModule(VideoLMMModule):
    """A `VideoLMMModule` that answers and scores benchmark questions (see the module docstring).

    Args:
        model: The model config node (see `VideoLMMModule`).
        tokenizer: The LLM's tokenizer (end tokens, padding, decoding, the assistant header).
        generation: Decoding settings.
        judge: Rates open-ended replies (``None``: normalised exact match).
        buckets: Duration buckets for samples without a benchmark label.
        output_dir: Where results and predictions are written (``None``: not written).
        score_validation: Also generate and score in validation (costly: off by default).
        meta: Description written with the results (model, checkpoint, setting).
        stage: See `VideoLMMModule` (default: nothing trains).
        optimizer: See `VideoLMMModule` (default AdamW; unused by ``test``).
        lr: See `VideoLMMModule`.
        weight_decay: See `VideoLMMModule`.
        scheduler: See `VideoLMMModule`.
        fsdp_param_dtype: See `VideoLMMModule`.
    """

    def __init__(
        self,
        model: DictConfig,
        tokenizer: Any,
        generation: GenerationSettings | None = None,
        judge: Judge | None = None,
        buckets: DurationBuckets | None = None,
        output_dir: str | Path | None = None,
        score_validation: bool = False,
        meta: dict[str, Any] | None = None,
        stage: Stage = FROZEN,
        optimizer: Callable[..., torch.optim.Optimizer] = torch.optim.AdamW,
        lr: float = 0.0,
        weight_decay: float = 0.0,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        fsdp_param_dtype: str | None = "bfloat16",
    ) -> None:
        super().__init__(
            model,
            stage,
            optimizer,
            lr,
            weight_decay=weight_decay,
            scheduler=scheduler,
            fsdp_param_dtype=fsdp_param_dtype,
        )
        self.tokenizer = tokenizer
        self.generation = generation or GenerationSettings()
        self.scorer = BenchmarkScorer(judge, buckets)
        self.output_dir = None if output_dir is None else Path(output_dir)
        self.score_validation = bool(score_validation)
        self.meta = dict(meta or {})
        self.results: dict[str, EvalResults] = {}
        self._predictions: list[dict[str, Any]] = []
        self._loss_batches = 0
        vocab = tokenizer.get_vocab()
        self._header = [vocab["<|im_start|>"], *tokenizer.encode("assistant\n", add_special_tokens=False)]

    def answer(self, batch: EvalBatch | dict[str, Any]) -> tuple[list[str], list[BenchmarkSample], list[bool]]:
        """Replies, samples and padding flags of a batch of either kind."""
        assert self.model is not None, "configure_model() has not run"
        if isinstance(batch, EvalBatch):
            prompts, videos, samples, padding = batch.prompts(), batch.videos, batch.samples, batch.padding
        else:
            prompts, videos, samples = _conversation_batch(batch, self._header)
            padding = [False] * len(samples)
        generator = ReplyGenerator(self.model, self.tokenizer, self.generation)
        return generator(prompts, videos), samples, padding

    def _score(self, batch: EvalBatch | dict[str, Any]) -> None:
        replies, samples, padding = self.answer(batch)
        kept = [(r, s) for r, s, pad in zip(replies, samples, padding, strict=True) if not pad]
        if not kept:
            return
        self.scorer.update([r for r, _ in kept], [s for _, s in kept])
        for reply, sample in kept:
            row = {"benchmark": sample.benchmark, "id": sample.id, "reply": reply, "answer": sample.answer}
            self._predictions.append(row | self.scorer.assess(reply, sample))

    def _reset(self) -> None:
        self.scorer.reset()
        self._predictions = []

    def on_test_epoch_start(self) -> None:
        """Forget the previous run's replies."""
        self._reset()

    def test_step(self, batch: EvalBatch | dict[str, Any], batch_idx: int) -> None:
        """Answer and score the batch."""
        self._score(batch)

    def on_test_epoch_end(self) -> None:
        """Synchronise, log ``test/accuracy``, write the results."""
        self._finish("test")

    def on_validation_epoch_start(self) -> None:
        """Reset the loss sums and, when scoring, the scores."""
        super().on_validation_epoch_start()
        self._loss_batches = 0
        if self.score_validation:
            self._reset()

    def validation_step(self, batch: EvalBatch | dict[str, Any], batch_idx: int) -> None:
        """Token loss of conversation batches; answers and scores when ``score_validation``."""
        if not isinstance(batch, EvalBatch):
            super().validation_step(batch, batch_idx)
            self._loss_batches += 1
        if self.score_validation:
            self._score(batch)

    def on_validation_epoch_end(self) -> None:
        """Log ``val/loss`` (when there were conversation batches) and ``val/accuracy`` (when scoring)."""
        if self._loss_batches:
            super().on_validation_epoch_end()
        if self.score_validation:
            self._finish("val")

    def _finish(self, stage: str) -> None:
        results = self.scorer.results(self.meta)  # a collective: every rank computes
        self.results[stage] = results
        if results.rows:
            self.log(f"{stage}/accuracy", results.row().accuracy, rank_zero_only=True)
        if self.output_dir is None:
            return
        self.output_dir.mkdir(parents=True, exist_ok=True)
        rank = self.trainer.global_rank
        with (self.output_dir / f"predictions-{stage}-rank{rank}.jsonl").open("w") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in self._predictions)
        if self.trainer.is_global_zero:
            write_results(results, self.output_dir, stem=stage)


def _conversation_batch(batch: dict[str, Any], header: Sequence[int]) -> tuple[list[Tensor], list[Tensor], list]:
    """Prompts, videos and samples of a training-collator batch (one video per row, not packed)."""
    if "cu_seqlens" in batch:
        raise ValueError("packed batches cannot be answered: evaluate with pack=false")
    prompts = prompt_rows(batch["input_ids"], batch["attention_mask"], header)
    videos = list(batch["videos"])  # (B, T, C, H, W) -> B x (T, C, H, W), or already a list
    if len(videos) != len(prompts):
        raise ValueError(f"{len(videos)} videos for {len(prompts)} rows: evaluation needs one video per row")
    samples = [sample_from_record(record, record["video"]) for record in batch["records"]]
    return prompts, videos, samples


class BenchmarkDataModule(L.LightningDataModule):
    """Test (and validation) batches of a benchmark reader's samples, this rank's share only.

    Args:
        reader: Returns the samples (a `videolmm.eval.readers` reader).
        prompter: Decodes and tokenises.
        prompt_format: Renders each question's text.
        pad_id: The padding token id.
        batch_size: Questions per batch.
        num_workers: Loader processes.
    """

    def __init__(
        self,
        reader: Callable[[], Sequence[BenchmarkSample]],
        prompter: VideoPrompter,
        prompt_format: PromptFormat,
        pad_id: int,
        batch_size: int = 1,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        self.reader = reader
        self.prompter = prompter
        self.prompt_format = prompt_format
        self.collator = EvalCollator(pad_id)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.dataset: BenchmarkDataset | None = None

    def setup(self, stage: str) -> None:
        """Read the samples and keep this rank's share."""
        if self.dataset is None:
            rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
            self.dataset = BenchmarkDataset(self.reader(), self.prompter, self.prompt_format, rank, world)

    def _loader(self) -> DataLoader:
        if self.dataset is None:
            self.setup("test")
        assert self.dataset is not None
        options = {"batch_size": self.batch_size, "num_workers": self.num_workers, "collate_fn": self.collator}
        return DataLoader(self.dataset, shuffle=False, **options)

    def test_dataloader(self) -> DataLoader:
        """The questions in order."""
        return self._loader()

    def val_dataloader(self) -> DataLoader:
        """The same questions (for ``validate``)."""
        return self._loader()
