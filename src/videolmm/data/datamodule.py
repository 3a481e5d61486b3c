"""`VideoDataModule`: the Lightning face of the data pipeline (the only data module importing Lightning).

It composes a shard source (`ShardPaths`, or `videolmm.data.synthetic.SyntheticShards`), a
decoder, a frame sampler, a transform and a chat template into one `SampleProcessor`, and serves
`ResumableLoader`s. Skipped samples are counted by reason and logged (logger ``videolmm.data``)
at every epoch end; ``skipped_totals`` keeps the sums and goes into checkpoints.
"""

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypedDict

from lightning.pytorch import LightningDataModule

from videolmm.data.collate import VideoCollator
from videolmm.data.conversation import DEFAULT_SYSTEM_PROMPT, ChatTemplate, Tokenizer
from videolmm.data.decode import PyAVDecoder, VideoDecoder
from videolmm.data.errors import ordered_counts
from videolmm.data.frames import FrameSampler, UniformFrames
from videolmm.data.loader import ResumableLoader
from videolmm.data.reader import ShardReader
from videolmm.data.sample import SampleProcessor
from videolmm.data.shards import expand_urls
from videolmm.data.transforms import FrameTransform

log = logging.getLogger("videolmm.data")

SPLITS = ("train", "val", "test")


class _ReaderOptions(TypedDict, total=False):
    """`ShardReader` keyword arguments set by the data module (other splits than train get seed and strict)."""

    shuffle_buffer: int
    resampled: bool
    samples_per_epoch: int | None
    seed: int
    strict: bool


class ShardSource(Protocol):
    """Where the shards of each split are: ``prepare()`` makes them if needed, ``urls(split)`` lists them."""

    def prepare(self) -> None:
        """Create the shards if they do not exist (runs once, on rank 0)."""
        ...

    def urls(self, split: str) -> list[str] | None:
        """The shard URLs of ``split``, or ``None`` if the split has none."""
        ...


class ShardPaths:
    """Shards that already exist: a path, brace pattern or list per split.

    Args:
        train: Training shards.
        val: Validation shards.
        test: Test shards.
    """

    def __init__(
        self,
        train: str | Sequence[str] | None = None,
        val: str | Sequence[str] | None = None,
        test: str | Sequence[str] | None = None,
    ) -> None:
        self.splits = {"train": train, "val": val, "test": test}

    def prepare(self) -> None:
        """Nothing to make."""

    def urls(self, split: str) -> list[str] | None:
        """See `ShardSource.urls`."""
        patterns = self.splits[split]
        return expand_urls(patterns) if patterns else None


class VideoDataModule(LightningDataModule):
    """Train / val / test loaders over video shards.

    Args:
        shards: The shard source.
        tokenizer: The LLM's tokenizer (given by the builder).
        budget: ``T -> L`` visual tokens per video, e.g. `VisualBudget` (given by the builder).
        transform: uint8 (T, C, H, W) -> float32 (T, C, S, S) frames for the encoder: the builder passes
            ``transform_from(encoder.preprocessing)``, or a configured one that matches it.
        decoder: Video decoder (default `PyAVDecoder`).
        frames: Frame sampler (default ``UniformFrames(32)``); random samplers jitter in training only.
        system_prompt: ChatML system message (``None``: no system turn).
        label_policy: ``"assistant"`` or ``"llava_next"`` (see `videolmm.data.conversation`).
        placeholder_token: Token repeated for the visual tokens.
        max_length: Longest sequence; longer samples are skipped (``too_long``), never cut.
        time_instruction: Add LLaVA-Video's time instruction.
        pack: Pack samples into rows of ``max_length`` tokens.
        batch_size: Training samples per batch.
        eval_batch_size: Validation / test samples per batch (default ``batch_size``).
        num_workers: Loader processes per rank.
        shuffle_buffer: Raw samples in the shuffle buffer (training).
        resampled: Draw training shards with replacement (needs ``samples_per_epoch``).
        samples_per_epoch: Training samples per epoch and rank.
        seed: Seed of shard order, shuffling and frame jitter.
        strict: Stop at the first bad sample (with its key and reason) instead of skipping it.
    """

    def __init__(
        self,
        shards: ShardSource,
        tokenizer: Tokenizer,
        budget: Callable[[int], int],
        transform: FrameTransform,
        decoder: VideoDecoder | None = None,
        frames: FrameSampler | None = None,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        label_policy: str = "assistant",
        placeholder_token: str = "<|video_pad|>",
        max_length: int = 32768,
        time_instruction: bool = False,
        pack: bool = False,
        batch_size: int = 1,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        shuffle_buffer: int = 64,
        resampled: bool = False,
        samples_per_epoch: int | None = None,
        seed: int = 0,
        strict: bool = False,
    ) -> None:
        super().__init__()
        self.shards = shards
        self.tokenizer = tokenizer
        chat = ChatTemplate(tokenizer, system_prompt, label_policy, placeholder_token, max_length)
        self.processor = SampleProcessor(
            decoder if decoder is not None else PyAVDecoder(),
            frames if frames is not None else UniformFrames(32),
            transform,
            chat,
            budget,
            time_instruction,
        )
        pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else chat.im_end
        self.collator = VideoCollator(pad_id, pack=pack, pack_length=max_length if pack else None)
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size or batch_size)
        self.num_workers = int(num_workers)
        self.reader_options: _ReaderOptions = {
            "shuffle_buffer": shuffle_buffer,
            "resampled": resampled,
            "samples_per_epoch": samples_per_epoch,
            "seed": seed,
            "strict": strict,
        }
        self.skipped_totals: dict[str, Counter[str]] = {split: Counter() for split in SPLITS}
        self._loaders: dict[str, ResumableLoader] = {}

    def prepare_data(self) -> None:
        """Make the shards if the source needs to (synthetic data is generated here)."""
        self.shards.prepare()

    def _rank(self) -> tuple[int, int]:
        trainer = self.trainer
        return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)

    def loader(self, split: str) -> ResumableLoader:
        """The (cached) loader of ``split``; raises if the source has no shards for it."""
        if split in self._loaders:
            return self._loaders[split]
        urls = self.shards.urls(split)
        if not urls:
            raise ValueError(f"the shard source has no {split!r} shards")
        train = split == "train"
        options: _ReaderOptions = (
            self.reader_options
            if train
            else {"seed": self.reader_options["seed"], "strict": self.reader_options["strict"]}
        )
        reader = ShardReader(urls, self.processor, train=train, shuffle_shards=train, **options)
        reader.set_distributed(*self._rank())
        self._loaders[split] = ResumableLoader(
            reader,
            self.collator,
            batch_size=self.batch_size if train else self.eval_batch_size,
            num_workers=self.num_workers,
            commit_on_yield=not train,
            on_epoch_end=lambda epoch, counts: self._epoch_end(split, epoch, counts),
        )
        return self._loaders[split]

    def train_dataloader(self) -> ResumableLoader:
        """Training batches, resumable mid-epoch (Lightning saves the loader's state_dict)."""
        return self.loader("train")

    def val_dataloader(self) -> ResumableLoader:
        """Validation batches: shards in order, no shuffling, evaluation-mode frame sampling."""
        return self.loader("val")

    def test_dataloader(self) -> ResumableLoader:
        """Test batches, like validation."""
        return self.loader("test")

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Commit a training batch once Lightning really uses it (it prefetches one ahead)."""
        if isinstance(batch, dict) and "_position" in batch:
            self.loader("train").commit(batch)
        return batch

    def _epoch_end(self, split: str, epoch: int, counts: dict[str, int]) -> None:
        self.skipped_totals[split].update(counts)
        if counts:
            detail = ", ".join(f"{reason} {n}" for reason, n in counts.items())
            log.warning("%s epoch %d: skipped %d samples (%s)", split, epoch, sum(counts.values()), detail)
        else:
            log.info("%s epoch %d: no samples skipped", split, epoch)

    @property
    def skipped(self) -> dict[str, int]:
        """Training samples skipped so far in the current epoch, by reason."""
        return self.loader("train").skipped if "train" in self._loaders else {}

    def state_dict(self) -> dict[str, Any]:
        """Skip totals of finished epochs (the loader positions are the train loader's own state)."""
        return {"skipped_totals": {split: ordered_counts(c) for split, c in self.skipped_totals.items()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the skip totals."""
        for split, counts in state_dict.get("skipped_totals", {}).items():
            self.skipped_totals[split] = Counter(counts)
