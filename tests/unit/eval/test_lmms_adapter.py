"""The lmms-eval adapter through lmms-eval's own call path: entry-point registration, a local task, no download.

Skipped when lmms-eval is not importable (it is installed --no-deps with a few modules, see the
evaluation how-to). The tasks are written here: a generation task and a multiple-choice (log-likelihood)
task over a two-document JSON Lines file and a real mp4; their expected scores are computed with
videolmm's own generation and likelihood code, so the tests check that lmms-eval scored exactly the
adapter's answers.
"""

import collections
import copy
import json
import os
import textwrap

import pytest
import torch

from tests.unit.eval.conftest import make_prompter, moving_square_mp4
from videolmm.eval import GenerationSettings, ReplyGenerator, continuation_logprob

QUESTIONS = ["which way does the square move ?", "what colour is the square ?"]
CHOICES = ["left", "right", "up", "down"]

TASKS = """\
task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {docs}
  cache_dir: {cache}
test_split: test
output_type: {output_type}
doc_to_visual: !function utils.doc_to_visual
doc_to_text: !function utils.doc_to_text
{extra}
metric_list:
  - metric: {metric}
    aggregation: mean
    higher_is_better: true
"""

UTILS = """\
def doc_to_visual(doc):
    return [doc["video"]]


def doc_to_text(doc, lmms_eval_specific_kwargs=None):
    return doc["question"]


def doc_to_choice(doc):
    return doc["choices"]


def process_results(doc, results):
    return {"exact": float(results[0] == doc["expected"])}
"""


@pytest.fixture
def lmms(monkeypatch, tmp_path):
    """lmms-eval's modules, offline (skip when lmms-eval is absent, except in CI where setup installs it)."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    if os.environ.get("CI"):  # scripts/setup.sh installs it: a missing lmms-eval is a failure there, not a skip
        import lmms_eval.evaluator as evaluator
    else:
        evaluator = pytest.importorskip("lmms_eval.evaluator", reason="lmms-eval is not installed")
    import lmms_eval.models
    import lmms_eval.tasks

    return evaluator, lmms_eval.models, lmms_eval.tasks


@pytest.fixture
def adapter(lmms, tiny_model, tokenizer):
    from videolmm.eval.lmms_adapter import VideoLMMLmms

    model = copy.deepcopy(tiny_model)
    with torch.no_grad():
        model.llm.head.weight[len(tokenizer) :] = 0.0  # replies in the tokenizer's words
    prompter = make_prompter(tokenizer, model, num_frames=4)
    return VideoLMMLmms(model=model, tokenizer=tokenizer, prompter=prompter, generation=GenerationSettings(4))


def write_task(folder, name, output_type, metric, docs, extra):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (folder / "utils.py").write_text(UTILS)
    text = TASKS.format(name=name, docs=folder / "docs.jsonl", cache=folder / "cache", output_type=output_type,
                        metric=metric, extra=textwrap.dedent(extra).strip())  # fmt: skip
    (folder / f"{name}.yaml").write_text(text)


def test_lmms_eval_finds_the_adapter_through_the_entry_point(lmms):
    from videolmm.eval.lmms_adapter import VideoLMMLmms

    _, models, _ = lmms
    assert models.get_model("videolmm") is VideoLMMLmms


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "square.mp4"
    path.write_bytes(moving_square_mp4())
    return path


def test_a_generation_task_runs_through_simple_evaluate(lmms, adapter, video, tmp_path):
    evaluator, _, tasks = lmms
    prompts = [adapter.prompter(video, q) for q in QUESTIONS]
    replies = ReplyGenerator(adapter.model, adapter.tokenizer, GenerationSettings(4))(
        [p.input_ids for p in prompts], [p.frames for p in prompts]
    )
    assert replies[0]  # a non-empty reply to compare
    expected = [replies[0], "<none>"]
    docs = [{"video": str(video), "question": q, "expected": e} for q, e in zip(QUESTIONS, expected, strict=True)]
    write_task(tmp_path / "tasks", "videolmm_tiny_gen", "generate_until", "exact", docs, """
        doc_to_target: expected
        generation_kwargs:
          max_new_tokens: 4
          do_sample: false
        process_results: !function utils.process_results
    """)  # fmt: skip
    manager = tasks.TaskManager(include_path=str(tmp_path / "tasks"), include_defaults=False)
    out = evaluator.simple_evaluate(model=adapter, tasks=["videolmm_tiny_gen"], task_manager=manager, log_samples=True)
    assert out["results"]["videolmm_tiny_gen"]["exact,none"] == 0.5  # the first reply matched, the second did not
    assert [s["resps"][0][0] for s in out["samples"]["videolmm_tiny_gen"]] == replies


def test_a_multiple_choice_task_scores_the_adapter_likelihoods(lmms, adapter, video, tmp_path):
    """lmms-eval builds the log-likelihood requests and scores them (argmin of the loss).

    lmms-eval 0.7.3's evaluator turns every non-string model output into a string
    (``unwrap_generation_output``), which breaks its own ``multiple_choice`` tasks for every model;
    so this test drives the task object the way the evaluator does, minus that step.
    """
    _, _, tasks = lmms
    prompts = [adapter.prompter(video, q) for q in QUESTIONS]
    losses = []
    for p in prompts:
        ids = [adapter.tokenizer.encode(f" {c}", add_special_tokens=False, return_tensors="pt")[0] for c in CHOICES]
        losses.append([-continuation_logprob(adapter.model, p.input_ids, i, p.frames)[0] / i.numel() for i in ids])
    gold = [int(torch.tensor(losses[0]).argmin()), int(torch.tensor(losses[1]).argmax())]  # right, then wrong
    docs = [{"video": str(video), "question": q, "choices": CHOICES, "answer": a}
            for q, a in zip(QUESTIONS, gold, strict=True)]  # fmt: skip
    write_task(tmp_path / "tasks", "videolmm_tiny_mc", "multiple_choice", "acc", docs, """
        doc_to_choice: !function utils.doc_to_choice
        doc_to_target: answer
    """)  # fmt: skip
    manager = tasks.TaskManager(include_path=str(tmp_path / "tasks"), include_defaults=False)
    task = tasks.get_task_dict(["videolmm_tiny_mc"], manager)["videolmm_tiny_mc"]
    task.build_all_requests()
    adapter.task_dict["videolmm_tiny_mc"] = task.dataset  # what simple_evaluate gives the model
    for instance, answer in zip(task.instances, adapter.loglikelihood(task.instances), strict=True):
        instance.resps.append(answer)
    task.apply_filters()
    by_doc = collections.defaultdict(list)
    for instance in task.instances:
        by_doc[instance.doc_id].append(instance)
    accuracy = [
        task.process_results(doc, [r.filtered_resps["none"] for r in sorted(by_doc[i], key=lambda r: r.idx)])["acc"]
        for i, doc in enumerate(task.test_docs())
    ]
    assert accuracy == [1.0, 0.0]
    assert [a[0] for a in adapter.loglikelihood(task.instances[:4])] == pytest.approx(losses[0])


def test_multi_round_generation_feeds_the_conversation_back(lmms, adapter, video):
    from lmms_eval.api.instance import Instance

    seen = []

    def doc_to_text(doc, previous_output=None, round_idx=None, previous_round_info=None):
        seen.append((round_idx, list(previous_output)))
        return None, f"and round {round_idx} ?", round_idx == 3, None, {"round": round_idx}

    adapter.task_dict = {"t": {"test": [{"video": str(video)}]}}
    arguments = ("which way ?", {"max_new_tokens": 3}, lambda d: [d["video"]], doc_to_text, 0, "t", "test")
    metadata = {"task": "t", "doc_id": 0, "repeats": 1}
    request = Instance("generate_until_multi_round", arguments, idx=0, metadata=metadata)
    (rounds,) = adapter.generate_until_multi_round([request])
    assert len(rounds) == 3
    assert seen == [(1, [rounds[0]]), (2, list(rounds[:2])), (3, list(rounds))]
