"""Closed-set answer scoring: rank each sample's candidate replies by the model's likelihood.

For a sample whose record lists ``candidates`` (the reply each option would get, e.g.
``"left (A)"``, ``"right (B)"``), every candidate is appended as the assistant turn and scored
by the summed negative log-likelihood of its labelled tokens (the reply and ``<|im_end|>``);
the prediction is the candidate with the lowest. This needs no answer parsing, so a tiny model
is judged on what it learned rather than on its formatting; chance is ``1 / len(candidates)``.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from videolmm.data.conversation import ChatTemplate
from videolmm.data.records import Turn
from videolmm.llm.loss import IGNORE_INDEX
from videolmm.model.videolmm import VideoLMM


def candidates(record: dict[str, Any]) -> tuple[list[str], int]:
    """The record's candidate replies and the index of the correct one (its last assistant turn)."""
    if "candidates" not in record:
        raise ValueError(f"record {record.get('id')!r} has no 'candidates' to score")
    options = list(record["candidates"])
    reply = record["conversations"][-1]["value"]
    if reply not in options:
        raise ValueError(f"record {record['id']!r}: the reply {reply!r} is not among its candidates {options}")
    return options, options.index(reply)


def _pad(rows: Sequence[Tensor], value: int) -> Tensor:
    """Right-pad 1-D rows to (n, S_max)."""
    return torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True, padding_value=value)


@torch.no_grad()
def candidate_nll(
    model: VideoLMM, chat: ChatTemplate, turns: Sequence[Turn], video: Tensor, replies: Sequence[str], num_visual: int
) -> Tensor:
    """Summed NLL of each reply as the final assistant turn of ``turns`` (the last turn is replaced).

    Shapes:
        video: (T, C, H, W) -> (K,) for K replies
    """
    prompt = tuple(turns[:-1])
    encoded = [chat.encode((*prompt, Turn("assistant", reply)), num_visual) for reply in replies]
    ids = _pad([e.input_ids for e in encoded], 0).to(video.device)  # (K, S)
    labels = _pad([e.labels for e in encoded], IGNORE_INDEX).to(video.device)  # (K, S)
    mask = _pad([torch.ones_like(e.input_ids) for e in encoded], 0).to(video.device)  # (K, S)
    return model.score(ids, labels, mask, [video] * len(replies)).nll  # (K,)


@dataclass
class ChoiceTally:
    """Correct / total / summed chance per group (question kind, question type, temporal or control)."""

    correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    chance: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    sizes: list[tuple[int, int]] = field(default_factory=list)
    """``(T, L)`` of every scored video: frames and visual tokens."""

    def add(self, groups: Sequence[str], hit: bool, num_candidates: int, size: tuple[int, int] | None = None) -> None:
        """Count one answer in each of ``groups``; ``size`` is the video's ``(T, L)`` when known."""
        if size is not None:
            self.sizes.append(size)
        for group in groups:
            self.correct[group] += int(hit)
            self.total[group] += 1
            self.chance[group] += 1.0 / num_candidates

    def rows(self) -> list[tuple[str, int, float, float]]:
        """``(group, n, accuracy, chance)`` per group: the first-seen groups of each sample in order, then sorted."""
        order = sorted(self.total, key=lambda g: (g not in _SUMMARY, _SUMMARY.index(g) if g in _SUMMARY else 0, g))
        return [(g, self.total[g], self.correct[g] / self.total[g], self.chance[g] / self.total[g]) for g in order]

    def to_json(self) -> list[dict[str, Any]]:
        """`rows` as records."""
        return [{"group": g, "n": n, "accuracy": acc, "chance": ch} for g, n, acc, ch in self.rows()]

    def table(self) -> str:
        """A fixed-width table of `rows`."""
        width = max([len(g) for g in self.total] + [5])
        lines = [f"{'group':<{width}} {'n':>5} {'accuracy':>9} {'chance':>7}"]
        lines += [f"{g:<{width}} {n:>5} {acc:>9.3f} {ch:>7.3f}" for g, n, acc, ch in self.rows()]
        return "\n".join(lines)


_SUMMARY = ["overall", "temporal questions", "control questions"]


def sample_groups(record: dict[str, Any]) -> list[str]:
    """The groups a synthetic-benchmark record is counted in: overall, temporal or control, kind and format."""
    family = "temporal" if record["temporal"] else "control"
    return ["overall", f"{family} questions", f"{record['kind']} ({record['question_type']}), {record['format']}"]


def _video_list(videos: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return list(videos.unbind(0)) if isinstance(videos, Tensor) else list(videos)


@torch.no_grad()
def score_split(model: VideoLMM, data: Any, split: str, max_samples: int | None = None) -> ChoiceTally:
    """Score every sample of a `VideoDataModule` split whose record lists ``candidates``.

    Args:
        model: The trained model (put in eval mode for the duration).
        data: The DataModule (its ``loader(split)`` and chat template are used).
        split: ``"val"`` or ``"test"``.
        max_samples: Stop after this many samples (``None``: the whole split).
    """
    from tqdm import tqdm

    from videolmm.data.records import parse_record

    chat = data.processor.chat
    device = next(model.parameters()).device
    tally = ChoiceTally()
    was_training = model.training
    model.eval()
    seen = 0
    with tqdm(desc=f"scoring {split}", unit="sample", total=max_samples) as bar:
        for batch in data.loader(split):
            videos = _video_list(batch["videos"])
            for record, video, num_visual in zip(
                batch["records"], videos, batch["num_visual_tokens"].tolist(), strict=True
            ):
                replies, answer = candidates(record)
                nll = candidate_nll(model, chat, parse_record(record).turns, video.to(device), replies, num_visual)
                hit = int(nll.argmin()) == answer
                tally.add(sample_groups(record), hit, len(replies), size=(video.shape[0], num_visual))
                seen += 1
                bar.update()
                if max_samples is not None and seen >= max_samples:
                    model.train(was_training)
                    return tally
    model.train(was_training)
    return tally
