"""Evaluation and inference: benchmark samples, readers, prompts, generation, metrics and results.

A benchmark reader (`videolmm.eval.readers`) turns a local copy of a benchmark into
`BenchmarkSample` objects; `BenchmarkDataset` decodes their videos and renders their prompts
(`VideoPrompter`, `PromptFormat`); `ReplyGenerator` answers batches of prompts; `BenchmarkScorer`
scores the replies (torchmetrics, per benchmark, question type, duration and format, synchronised
across ranks); `EvalResults` are written as JSON and Markdown. The Lightning side is
`videolmm.training.evaluation`; the lmms-eval adapter is `videolmm.eval.lmms_adapter` (imported on
its own: it imports lmms-eval when that is installed). `videolmm.eval.choice` scores closed-set
answers by likelihood (the training job's per-question-type tally of the synthetic benchmark).
"""

from videolmm.eval.answers import exact_match, normalize_answer
from videolmm.eval.dataset import BenchmarkDataset, EvalBatch, EvalCollator, EvalItem, shard
from videolmm.eval.generation import GenerationSettings, ReplyGenerator, cut_at_end, cut_at_strings, left_pad
from videolmm.eval.groups import FACETS, OVERALL, DurationBuckets, GroupKey, sample_groups
from videolmm.eval.judge import Judge, JudgeVerdict
from videolmm.eval.letters import ANSWER_PREFIXES, extract_option_letter, option_letters
from videolmm.eval.likelihood import continuation_logprob
from videolmm.eval.loading import checkpoint_tokenizer, load_model, load_state, matched_transform, with_representation
from videolmm.eval.metrics import (
    ExactMatchAccuracy,
    GroupedAccuracy,
    GroupScore,
    JudgedAccuracy,
    MultipleChoiceAccuracy,
    group_code,
)
from videolmm.eval.prompter import PromptedVideo, VideoPrompter
from videolmm.eval.prompts import MULTIPLE_CHOICE_INSTRUCTION, OPEN_ENDED_INSTRUCTION, PromptFormat
from videolmm.eval.records import prompt_rows, sample_from_record
from videolmm.eval.results import EvalResults, ResultRow, write_results
from videolmm.eval.schema import BenchmarkSample
from videolmm.eval.scorer import BenchmarkScorer

__all__ = [
    "ANSWER_PREFIXES",
    "FACETS",
    "MULTIPLE_CHOICE_INSTRUCTION",
    "OPEN_ENDED_INSTRUCTION",
    "OVERALL",
    "BenchmarkDataset",
    "BenchmarkSample",
    "BenchmarkScorer",
    "DurationBuckets",
    "EvalBatch",
    "EvalCollator",
    "EvalItem",
    "EvalResults",
    "ExactMatchAccuracy",
    "GenerationSettings",
    "GroupKey",
    "GroupScore",
    "GroupedAccuracy",
    "Judge",
    "JudgeVerdict",
    "JudgedAccuracy",
    "MultipleChoiceAccuracy",
    "PromptFormat",
    "PromptedVideo",
    "ReplyGenerator",
    "ResultRow",
    "VideoPrompter",
    "checkpoint_tokenizer",
    "continuation_logprob",
    "cut_at_end",
    "cut_at_strings",
    "exact_match",
    "extract_option_letter",
    "group_code",
    "left_pad",
    "load_model",
    "load_state",
    "matched_transform",
    "normalize_answer",
    "option_letters",
    "prompt_rows",
    "sample_from_record",
    "sample_groups",
    "shard",
    "with_representation",
    "write_results",
]
