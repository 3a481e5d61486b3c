"""Accuracy metrics over benchmark samples, broken down by group and correct across ranks.

Each metric scores a batch of replies against their `BenchmarkSample` and records, for every group
the sample counts in (`sample_groups`), one row of values (``correct`` and metric-specific
columns). The states are ``torchmetrics`` list states reduced by concatenation
(``dist_reduce_fx="cat"``), so ranks may see different samples and different groups: a group is
stored as a 52-bit code of its name (exact in float64) and every rank also stores the bytes of the
names it has seen, so after synchronisation any rank can name every group. All states are float64,
so a rank that saw no sample contributes empty tensors of the same dtype.

* `MultipleChoiceAccuracy`: the option letter extracted from the reply (`extract_option_letter`)
  against the answer letter; columns ``correct`` and ``answered`` (a letter was found).
* `ExactMatchAccuracy`: normalised exact match against the reference answers; column ``correct``.
* `JudgedAccuracy`: a user-supplied `Judge`; columns ``correct`` and ``score``.
"""

import hashlib
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from videolmm.eval.answers import exact_match
from videolmm.eval.groups import DurationBuckets, GroupKey, sample_groups
from videolmm.eval.judge import Judge
from videolmm.eval.letters import extract_option_letter
from videolmm.eval.schema import BenchmarkSample

_CODE_BITS = 52  # float64 holds every integer below 2**53 exactly


def group_code(name: str) -> int:
    """A stable 52-bit code of a group name (the same in every process, unlike ``hash``)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << _CODE_BITS) - 1)


class GroupScore(NamedTuple):
    """Column sums of one group: ``(n, sums)``.

    ``n`` is the number of samples in the group, ``sums`` the sum of each column (``correct``, ...)
    over them. A named tuple, because metric outputs go through ``apply_to_collection``.
    """

    n: int
    sums: dict[str, float]

    def mean(self, column: str) -> float:
        """The column's mean over the group (``mean("correct")`` is the accuracy)."""
        return self.sums[column] / self.n


def _cat(state: Any) -> Tensor:
    """A list state (or its synchronised tensor) as one 1-D float64 tensor."""
    if isinstance(state, list):
        return dim_zero_cat(state) if state else torch.zeros(0, dtype=torch.float64)
    return state


class GroupedAccuracy(Metric):
    """Base class: per-group sums of per-sample value rows (see the module docstring).

    Subclasses set `COLUMNS` and implement `assess`.

    Args:
        buckets: Duration buckets for samples without a benchmark duration label.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = ("correct",)
    # List states made by ``add_state`` (while synchronised each is one tensor, hence `_cat`).
    codes: list[Tensor]
    values: list[Tensor]
    names: list[Tensor]
    full_state_update = False
    higher_is_better = True
    is_differentiable = False

    def __init__(self, buckets: DurationBuckets | None = None) -> None:
        super().__init__()
        self.buckets = buckets if buckets is not None else DurationBuckets()
        self.add_state("codes", default=[], dist_reduce_fx="cat")
        self.add_state("values", default=[], dist_reduce_fx="cat")
        self.add_state("names", default=[], dist_reduce_fx="cat")
        self.set_dtype(torch.float64)
        self._named: set[str] = set()

    def assess(self, reply: str, sample: BenchmarkSample) -> tuple[float, ...]:
        """The value row (one float per column of `COLUMNS`) of one reply."""
        raise NotImplementedError

    def update(self, replies: Sequence[str], samples: Sequence[BenchmarkSample]) -> None:
        """Score ``replies[i]`` against ``samples[i]`` and record it in each of the sample's groups."""
        if len(replies) != len(samples):
            raise ValueError(f"got {len(replies)} replies for {len(samples)} samples")
        codes: list[int] = []
        values: list[float] = []
        names: list[int] = []
        for reply, sample in zip(replies, samples, strict=True):
            row = self.assess(reply, sample)
            for key in sample_groups(sample, self.buckets):
                name = key.encode()
                codes.append(group_code(name))
                values.extend(row)
                if name not in self._named:
                    self._named.add(name)
                    names.extend([*name.encode(), 0])
        device = self.device
        self.codes.append(torch.tensor(codes, dtype=torch.float64, device=device))
        self.values.append(torch.tensor(values, dtype=torch.float64, device=device))
        self.names.append(torch.tensor(names, dtype=torch.float64, device=device))

    def compute(self) -> dict[GroupKey, GroupScore]:
        """Column sums per group over every sample seen (by every rank, when synchronised)."""
        codes = _cat(self.codes).long().cpu()
        values = _cat(self.values).cpu().view(-1, len(self.COLUMNS))  # (n * K,) -> (n, K)
        lookup = _names_by_code(_cat(self.names))
        scores = {}
        for code in codes.unique().tolist():
            if code not in lookup:
                raise RuntimeError(f"group code {code} has no name: the name states were not synchronised")
            rows = values[codes == code]  # (n_group, K)
            sums = dict(zip(self.COLUMNS, rows.sum(0).tolist(), strict=True))
            scores[GroupKey.decode(lookup[code])] = GroupScore(rows.shape[0], sums)
        return dict(sorted(scores.items(), key=lambda item: item[0].sort_key()))

    def reset(self) -> None:
        """Clear the states and the names this rank has recorded."""
        super().reset()
        self._named = set()


def _names_by_code(raw: Tensor) -> dict[int, str]:
    """Decode the 0-terminated name bytes of every rank; `RuntimeError` on a code collision."""
    data = bytes(raw.long().tolist())
    lookup: dict[int, str] = {}
    for name in filter(None, (part.decode() for part in data.split(b"\0"))):
        code = group_code(name)
        if lookup.setdefault(code, name) != name:
            raise RuntimeError(f"group names {lookup[code]!r} and {name!r} share the code {code}")
    return lookup


def _check_format(sample: BenchmarkSample, expected: str, metric: str) -> None:
    if sample.format != expected:
        raise ValueError(f"{metric} scores {expected} samples; {sample.benchmark} {sample.id!r} is {sample.format}")


class MultipleChoiceAccuracy(GroupedAccuracy):
    """Option-letter accuracy of multiple-choice replies (columns ``correct``, ``answered``)."""

    COLUMNS = ("correct", "answered")

    def assess(self, reply: str, sample: BenchmarkSample) -> tuple[float, ...]:
        """``(correct, answered)``: the extracted letter is the answer; a letter was found at all."""
        _check_format(sample, "multiple_choice", type(self).__name__)
        letter = extract_option_letter(reply, sample.options)
        return float(letter == sample.answer), float(letter is not None)


class ExactMatchAccuracy(GroupedAccuracy):
    """Normalised exact match of open-ended replies against the answer and its references."""

    COLUMNS = ("correct",)

    def assess(self, reply: str, sample: BenchmarkSample) -> tuple[float, ...]:
        """``(correct,)`` by `exact_match`."""
        _check_format(sample, "open_ended", type(self).__name__)
        return (float(exact_match(reply, (sample.answer, *sample.references))),)


class JudgedAccuracy(GroupedAccuracy):
    """Open-ended replies rated by a judge callable (columns ``correct``, ``score``).

    Args:
        judge: ``judge(question, reply, references) -> JudgeVerdict``.
        buckets: See `GroupedAccuracy`.
    """

    COLUMNS = ("correct", "score")

    def __init__(self, judge: Judge, buckets: DurationBuckets | None = None) -> None:
        super().__init__(buckets)
        self.judge = judge

    def assess(self, reply: str, sample: BenchmarkSample) -> tuple[float, ...]:
        """``(correct, score)`` from the judge's verdict."""
        _check_format(sample, "open_ended", type(self).__name__)
        verdict = self.judge(sample.question, reply, (sample.answer, *sample.references))
        return float(verdict.correct), verdict.value
