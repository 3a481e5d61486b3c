"""The Lightning side of evaluation: answer and score questions in ``validate`` / ``test``.

`EvaluationModule` is a ``LightningModule`` that holds a built `VideoLMM` (loaded by
`videolmm.eval.load_model`, or the model of a training run: its state-dict keys are ``model.*``
as in `VideoLMMModule`). Its test steps generate a reply per question and update a
`videolmm.eval.BenchmarkScorer`; at the end of the epoch the scores are synchronised across ranks
(torchmetrics) and, on rank 0, written as ``{stage}.json`` and ``{stage}.md`` into ``output_dir``;
each rank also writes its per-question replies to ``predictions-{stage}-rank{r}.jsonl``. It
accepts two kinds of batch:

* `videolmm.eval.EvalBatch` from `BenchmarkDataModule` (benchmark readers): left-padded prompts;
* the training collator's dicts (`videolmm.data.VideoDataModule`, e.g. the synthetic test split):
  each conversation is cut after the chat template's generation header
  (`videolmm.data.ChatTemplate.generation_header`) of its last turn and its record says the answer
  (`videolmm.eval.sample_from_record`). Validation logs their token loss (``val/loss``, summed by
  `VideoLMM.forward` as in `VideoLMMModule`) and adds the scores when ``score_validation`` is set.

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
from torch import Tensor
from torch.utils.data import DataLoader

from videolmm.data.conversation import ChatTemplate
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
from videolmm.llm.packing import PackedSequences
from videolmm.model.videolmm import VideoLMM
from videolmm.training.sharding import shard_model

Batch = EvalBatch | dict[str, Any]
"""A benchmark batch or a training-collator batch."""


class EvaluationModule(L.LightningModule):
    """Answer and score benchmark questions with the `VideoLMM` it holds (see the module docstring).

    Args:
        model: The built model (random, loaded from a checkpoint, or a training run's).
        chat: The chat template of the prompts: its tokenizer decodes the replies (end tokens,
            padding) and its `ChatTemplate.generation_header` cuts conversation batches into prompts.
        generation: Decoding settings.
        judge: Rates open-ended replies (``None``: normalised exact match).
        buckets: Duration buckets for samples without a benchmark label.
        output_dir: Where results and predictions are written (``None``: not written).
        score_validation: Also generate and score in validation (costly: off by default).
        meta: Description written with the results (model, checkpoint, setting).
        fsdp_param_dtype: Under FSDP2 (a strategy with a device mesh), the dtype parameters are
            gathered in (``"bfloat16"``) or ``None``.
    """

    def __init__(
        self,
        model: VideoLMM,
        chat: ChatTemplate,
        generation: GenerationSettings | None = None,
        judge: Judge | None = None,
        buckets: DurationBuckets | None = None,
        output_dir: str | Path | None = None,
        score_validation: bool = False,
        meta: dict[str, Any] | None = None,
        fsdp_param_dtype: str | None = "bfloat16",
    ) -> None:
        super().__init__()
        self.model = model
        self.chat = chat
        self.tokenizer: Any = chat.tokenizer
        self.generation = generation or GenerationSettings()
        self.scorer = BenchmarkScorer(judge, buckets)
        self.output_dir = None if output_dir is None else Path(output_dir)
        self.score_validation = bool(score_validation)
        self.meta = dict(meta or {})
        self.fsdp_param_dtype = fsdp_param_dtype
        self.results: dict[str, EvalResults] = {}
        self._predictions: list[dict[str, Any]] = []
        self._val = torch.zeros(2, dtype=torch.float64)  # loss sum, labelled tokens
        self._loss_batches = 0
        self._sharded = False

    def configure_model(self) -> None:
        """Shard the model once (FSDP2 over the data-parallel mesh) when the strategy gives a device mesh."""
        if self.device_mesh is None or self._sharded:
            return
        mesh = self.device_mesh["data_parallel"]
        shard_model(self.model, mesh, param_dtype=self.fsdp_param_dtype, forward_methods=("score", "generate"))
        self._sharded = True

    def questions(self, batch: Batch) -> tuple[list[Tensor], list[Tensor], list[BenchmarkSample], list[bool]]:
        """Prompts, videos, samples and padding flags of a batch of either kind.

        Shapes:
            prompts: B x (S_b,); videos: B x (T_b, C, H, W)
        """
        if isinstance(batch, EvalBatch):
            return batch.prompts(), batch.videos, batch.samples, batch.padding
        prompts, videos, samples = _conversation_batch(batch, self.chat.generation_header())
        return prompts, videos, samples, [False] * len(samples)

    def answer(self, batch: Batch) -> tuple[list[str], list[BenchmarkSample], list[bool]]:
        """Replies, samples and padding flags of a batch of either kind."""
        prompts, videos, samples, padding = self.questions(batch)
        generator = ReplyGenerator(self.model, self.tokenizer, self.generation)
        return generator(prompts, videos), samples, padding

    def _score(self, batch: Batch) -> None:
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

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        """Answer and score the batch."""
        self._score(batch)

    def on_test_epoch_end(self) -> None:
        """Synchronise, log ``test/accuracy``, write the results."""
        self._finish("test")

    def on_validation_epoch_start(self) -> None:
        """Reset the loss sums and, when scoring, the scores."""
        self._val = torch.zeros(2, dtype=torch.float64, device=self.device)
        self._loss_batches = 0
        if self.score_validation:
            self._reset()

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Token loss of conversation batches; answers and scores when ``score_validation``."""
        if not isinstance(batch, EvalBatch):
            loss_sum, count = _token_loss(self.model, batch)
            self._val += torch.stack([loss_sum.detach().double(), count.double()])
            self._loss_batches += 1
        if self.score_validation:
            self._score(batch)

    def on_validation_epoch_end(self) -> None:
        """Log ``val/loss`` (when there were conversation batches) and ``val/accuracy`` (when scoring)."""
        if self._loss_batches:
            self._log_loss()
        if self.score_validation:
            self._finish("val")

    def _log_loss(self) -> None:
        """Log the token-mean validation loss over all batches and ranks."""
        val = self._val
        if self.trainer.world_size > 1:
            val = self.trainer.strategy.reduce(val, reduce_op="sum")
        self.log("val/loss", (val[0] / val[1].clamp(min=1)).item(), prog_bar=True, rank_zero_only=True)

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


def _token_loss(model: VideoLMM, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """Summed token loss and labelled-token count of a training-collator batch (packed when it has ``cu_seqlens``).

    Shapes:
        batch["input_ids"], batch["labels"]: (B, S) -> scalar, scalar
    """
    packed = "cu_seqlens" in batch  # packed rows: attention and targets kept within each sample
    out = model(
        batch["input_ids"],
        attention_mask=None if packed else batch.get("attention_mask"),
        videos=batch.get("videos"),
        labels=batch["labels"],
        return_logits=False,
        position_ids=None if packed else batch.get("position_ids"),
        packed=PackedSequences.from_batch(batch) if packed else None,
    )
    if out.loss_sum is None or out.num_label_tokens is None:
        raise RuntimeError("VideoLMM.forward returned no loss for a batch with labels")
    return out.loss_sum, out.num_label_tokens


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
        return DataLoader(
            self.dataset,
            shuffle=False,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            collate_fn=self.collator,
        )

    def test_dataloader(self) -> DataLoader:
        """The questions in order."""
        return self._loader()

    def val_dataloader(self) -> DataLoader:
        """The same questions (for ``validate``)."""
        return self._loader()
