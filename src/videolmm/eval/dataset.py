"""`BenchmarkDataset`: benchmark samples -> prompts and frames, sharded over ranks without double counting.

Each rank reads samples ``rank, rank + W, ...``; ranks with fewer samples than the longest shard
repeat their last sample, flagged ``padding`` (metrics skip it), so every rank runs the same
number of batches (a sharded model needs every rank in every forward) and every sample is scored
exactly once. `EvalCollator` left-pads the prompts for generation.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset

from videolmm.eval.generation import left_pad
from videolmm.eval.prompter import VideoPrompter
from videolmm.eval.prompts import PromptFormat
from videolmm.eval.schema import BenchmarkSample


def shard(count: int, rank: int = 0, world_size: int = 1) -> list[tuple[int, bool]]:
    """``(index, padding)`` of the samples rank ``rank`` of ``world_size`` evaluates.

    Every rank gets ``ceil(count / world_size)`` entries; repeated entries are flagged padding.
    """
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} outside world size {world_size}")
    if count < 1:
        raise ValueError("there are no samples to evaluate")
    own = list(range(rank, count, world_size))
    length = -(-count // world_size)
    filler = own[-1] if own else 0
    return [(i, False) for i in own] + [(filler, True)] * (length - len(own))


@dataclass(frozen=True)
class EvalItem:
    """One prompt ready to batch.

    Attributes:
        sample: The question.
        frames: (T, C, H, W) float32.
        input_ids: (S,) prompt ids.
        padding: A repeated sample that must not be scored.
    """

    sample: BenchmarkSample
    frames: Tensor
    input_ids: Tensor
    padding: bool = False


class BenchmarkDataset(Dataset):
    """Prompts and frames of one rank's share of the samples (see the module docstring).

    Args:
        samples: Every sample of the benchmark(s).
        prompter: Decodes and tokenises.
        prompt_format: Renders the question's text.
        rank: This process's rank.
        world_size: Processes evaluating together.
    """

    def __init__(
        self,
        samples: Sequence[BenchmarkSample],
        prompter: VideoPrompter,
        prompt_format: PromptFormat,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.samples = list(samples)
        self.prompter = prompter
        self.prompt_format = prompt_format
        self.order = shard(len(self.samples), rank, world_size)

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, position: int) -> EvalItem:
        index, padding = self.order[position]
        sample = self.samples[index]
        try:
            prompted = self.prompter(sample.video, self.prompt_format(sample))
        except ValueError as error:  # BadSampleError is a ValueError: name the sample
            raise ValueError(f"{sample.benchmark} sample {sample.id!r}: {error}") from error
        return EvalItem(sample, prompted.frames, prompted.input_ids, padding)


class EvalBatch:
    """A batch of prompts for generation (Lightning moves it with `to`).

    Attributes:
        input_ids: (B, S) left-padded prompt ids.
        attention_mask: (B, S) 1 on real tokens.
        videos: B x (T_b, C, H, W).
        samples: The questions.
        padding: Which rows are padding repeats.
    """

    def __init__(
        self,
        input_ids: Tensor,
        attention_mask: Tensor,
        videos: list[Tensor],
        samples: list[BenchmarkSample],
        padding: list[bool],
    ) -> None:
        self.input_ids = input_ids
        self.attention_mask = attention_mask
        self.videos = videos
        self.samples = samples
        self.padding = padding

    def __len__(self) -> int:
        return len(self.samples)

    def to(self, device: torch.device | str) -> "EvalBatch":
        """The batch with its tensors on ``device``."""
        return EvalBatch(
            self.input_ids.to(device),
            self.attention_mask.to(device),
            [v.to(device) for v in self.videos],
            self.samples,
            self.padding,
        )

    def prompts(self) -> list[Tensor]:
        """Each row's prompt without its padding.

        Shapes:
            B x (S_b,)
        """
        return [ids[mask.bool()] for ids, mask in zip(self.input_ids, self.attention_mask, strict=True)]


class EvalCollator:
    """`EvalItem` list -> `EvalBatch` with left padding.

    Args:
        pad_id: The padding token id.
    """

    def __init__(self, pad_id: int) -> None:
        self.pad_id = int(pad_id)

    def __repr__(self) -> str:
        return f"EvalCollator(pad_id={self.pad_id})"

    def __call__(self, items: Sequence[EvalItem]) -> EvalBatch:
        """Collate ``items``."""
        input_ids, mask = left_pad([item.input_ids for item in items], self.pad_id)
        return EvalBatch(
            input_ids, mask, [i.frames for i in items], [i.sample for i in items], [i.padding for i in items]
        )
