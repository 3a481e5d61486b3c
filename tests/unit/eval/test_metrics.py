"""The torchmetrics metrics on hand-made replies with known answers, per group, merged as ranks merge."""

import pytest
import torch

from tests.unit.eval.conftest import mc, oe
from videolmm.eval import (
    OVERALL,
    BenchmarkScorer,
    DurationBuckets,
    ExactMatchAccuracy,
    GroupKey,
    JudgedAccuracy,
    JudgeVerdict,
    MultipleChoiceAccuracy,
)


def scores_by_label(scores):
    return {(k.benchmark, k.label): (v.n, v.sums) for k, v in scores.items()}


def test_multiple_choice_accuracy_per_benchmark_type_duration_and_format():
    metric = MultipleChoiceAccuracy(DurationBuckets((60.0,)))
    samples = [
        mc("1", "B", qtype="count", duration=10.0),
        mc("2", "A", qtype="count", duration=100.0),
        mc("3", "C", qtype="order", duration=20.0),
        mc("4", "D", benchmark="other", qtype="order", duration=None, duration_group="long"),
    ]
    metric.update(["B", "The answer is C", "(C) green cross", "no idea"], samples)
    got = scores_by_label(metric.compute())
    assert got[("all", "all")] == (4, {"correct": 2.0, "answered": 3.0})
    assert got[("bench", "all")] == (3, {"correct": 2.0, "answered": 3.0})
    assert got[("bench", "question_type: count")] == (2, {"correct": 1.0, "answered": 2.0})
    assert got[("bench", "question_type: order")] == (1, {"correct": 1.0, "answered": 1.0})
    assert got[("bench", "duration: 0-60s")] == (2, {"correct": 2.0, "answered": 2.0})
    assert got[("bench", "duration: >=60s")] == (1, {"correct": 0.0, "answered": 1.0})
    assert got[("other", "duration: long")] == (1, {"correct": 0.0, "answered": 0.0})  # the benchmark's own label
    assert got[("bench", "format: multiple_choice")][0] == 3
    assert next(iter(metric.compute())) == OVERALL  # overall first


def test_exact_match_accuracy_uses_the_answer_and_its_references():
    metric = ExactMatchAccuracy()
    samples = [oe("1", "a red square"), oe("2", "yes", references=("yeah",)), oe("3", "two")]
    metric.update(["Red square.", "Yeah", "three"], samples)
    overall = metric.compute()[OVERALL]
    assert (overall.n, overall.sums["correct"]) == (3, 2.0)
    assert overall.mean("correct") == pytest.approx(2 / 3)


def test_judged_accuracy_records_the_judge_verdict_and_score():
    calls = []

    def judge(question, reply, references):
        calls.append((question, reply, tuple(references)))
        return JudgeVerdict(correct=reply.startswith("red"), score=4.0 if reply.startswith("red") else 1.0)

    metric = JudgedAccuracy(judge)
    metric.update(["red thing", "blue"], [oe("1"), oe("2", references=("red",))])
    overall = metric.compute()[OVERALL]
    assert overall.sums == {"correct": 1.0, "score": 5.0}
    assert calls[1] == ("What is shown?", "blue", ("a red square", "red"))
    assert JudgeVerdict(True).value == 1.0


def test_metrics_refuse_the_other_format_and_mismatched_lengths():
    with pytest.raises(ValueError, match="multiple_choice samples"):
        MultipleChoiceAccuracy().update(["x"], [oe("1")])
    with pytest.raises(ValueError, match="open_ended samples"):
        ExactMatchAccuracy().update(["x"], [mc("1")])
    with pytest.raises(ValueError, match="2 replies for 1 samples"):
        ExactMatchAccuracy().update(["x", "y"], [oe("1")])


def test_merged_rank_states_equal_one_process_over_all_samples():
    """Two 'ranks' with different samples and groups, merged with the states' cat reduction."""
    samples = [mc("1", "A", qtype="count"), mc("2", "B", qtype="order"), mc("3", "C", benchmark="b2"), mc("4", "D")]
    replies = ["A", "C", "C", "D"]
    whole = MultipleChoiceAccuracy()
    whole.update(replies, samples)
    rank0, rank1, empty = MultipleChoiceAccuracy(), MultipleChoiceAccuracy(), MultipleChoiceAccuracy()
    rank0.update(replies[:2], samples[:2])
    rank1.update(replies[2:], samples[2:])  # sees benchmark b2, which rank 0 never names
    rank0.merge_state(rank1)
    rank0.merge_state(empty)  # a rank without samples
    assert rank0.compute() == whole.compute()
    assert scores_by_label(whole.compute())[("b2", "all")] == (1, {"correct": 1.0, "answered": 1.0})


def test_states_are_float64_lists_reduced_by_concatenation():
    metric = MultipleChoiceAccuracy()
    assert metric._reductions.keys() == {"codes", "values", "names"}
    assert all(fn.__name__ == "dim_zero_cat" for fn in metric._reductions.values())
    metric.update(["A"], [mc("1", "A")])
    assert {t.dtype for state in (metric.codes, metric.values, metric.names) for t in state} == {torch.float64}


def test_reset_forgets_samples_and_names():
    metric = MultipleChoiceAccuracy()
    metric.update(["A"], [mc("1", "A")])
    metric.reset()
    metric.update(["B"], [mc("2", "A")])
    assert metric.compute()[OVERALL].sums == {"correct": 0.0, "answered": 1.0}


def test_scorer_routes_by_format_and_merges_rows():
    scorer = BenchmarkScorer()
    scorer.update(["B", "red square", "A"], [mc("1", "B"), oe("2", "red square"), mc("3", "C")])
    results = scorer.results({"model": "test"})
    row = results.row()
    assert (row.n, row.accuracy, row.answered, row.score) == (3, pytest.approx(2 / 3), 1.0, None)
    assert results.row("bench", "format: open_ended").accuracy == 1.0
    assert results.row("bench", "format: multiple_choice").accuracy == 0.5
    assert scorer.assess("B", mc("4", "B")) == {"correct": 1.0, "answered": 1.0}
    with pytest.raises(KeyError, match="no results"):
        results.row("nope")


def test_group_keys_round_trip_and_sort_overall_first():
    key = GroupKey("videomme", "question_type", "Counting Problem")
    assert GroupKey.decode(key.encode()) == key
    assert key.label == "question_type: Counting Problem"
    keys = [GroupKey("b", "duration", "x"), GroupKey("a", "all", "all"), OVERALL, GroupKey("a", "format", "y")]
    assert sorted(keys, key=GroupKey.sort_key)[:2] == [OVERALL, GroupKey("a", "all", "all")]


def test_duration_buckets():
    buckets = DurationBuckets((120, 900))
    assert [buckets(s) for s in (0, 119.9, 120, 899, 900, 4000, None)] == [
        "0-120s", "0-120s", "120-900s", "120-900s", ">=900s", ">=900s", "unknown"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="increasing"):
        DurationBuckets((900, 120))
