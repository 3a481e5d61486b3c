"""One model path: training, scoring and likelihoods all come from `VideoLMM` and one head loss.

- the LightningModule's micro-batch loss *is* ``VideoLMM.forward(...).loss_sum`` (padded and packed);
- ``forward`` runs the configured head loss (chunked by default) and agrees with the plain one;
- ``score`` reduces the same per-token NLL per row, with a greedy flag from the same pass;
- no cross-entropy or log-softmax over the vocabulary is computed outside ``llm/head_loss.py``.
"""

import ast
from pathlib import Path

import pytest
import torch

from tests.unit.perf.tiny import new_module, video_sample
from videolmm.data import IGNORE_INDEX, VideoCollator
from videolmm.llm import ChunkedCrossEntropy, PackedSequences, PlainCrossEntropy, sequence_scores

SRC = Path(__file__).resolve().parents[3] / "src" / "videolmm"
SPECS = [(5, 2), (2, 3), (7, 1), (1, 2)]  # (labelled answer tokens, frames)


def samples():
    return [video_sample(f"s{i}", labels, frames, seed=i) for i, (labels, frames) in enumerate(SPECS)]


@pytest.mark.parametrize("pack", [False, True], ids=["padded", "packed"])
def test_the_training_loss_is_the_models_forward(pack):
    module = new_module()
    batch = VideoCollator(pad_id=0, pack=pack, pack_length=64 if pack else None)(samples())
    total, count = module(batch)
    model = module.model
    if pack:
        out = model(batch["input_ids"], videos=batch["videos"], labels=batch["labels"], return_logits=False,
                    packed=PackedSequences.from_batch(batch))  # fmt: skip
    else:
        out = model(batch["input_ids"], batch["attention_mask"], batch["videos"], batch["labels"], return_logits=False)
    assert count.item() == out.num_label_tokens.item() == sum(n for n, _ in SPECS)
    torch.testing.assert_close(total, out.loss_sum, atol=0, rtol=0)
    torch.testing.assert_close(out.loss, out.loss_sum / out.num_label_tokens, atol=0, rtol=0)


def test_forward_runs_the_configured_head_loss_and_it_agrees_with_the_plain_one():
    module = new_module()
    model = module.model
    assert isinstance(model.llm.head_loss, ChunkedCrossEntropy)  # the default
    batch = VideoCollator(pad_id=0)(samples())
    args = (batch["input_ids"], batch["attention_mask"], batch["videos"], batch["labels"])
    model.llm.head_loss = ChunkedCrossEntropy(chunk_size=3)  # several chunks for 15 labelled tokens
    chunked = model(*args, return_logits=False)
    model.llm.head_loss = PlainCrossEntropy()
    plain = model(*args, return_logits=True)
    torch.testing.assert_close(chunked.loss, plain.loss, atol=1e-6, rtol=1e-6)
    # and the plain one is the textbook formula on the returned logits
    logits, labels = plain.logits[:, :-1], batch["labels"][:, 1:]
    keep = labels != IGNORE_INDEX
    want = torch.nn.functional.cross_entropy(logits[keep].float(), labels[keep])
    torch.testing.assert_close(plain.loss, want, atol=1e-6, rtol=1e-6)


def test_score_reduces_the_forward_loss_per_row():
    model = new_module().model.eval()
    batch = VideoCollator(pad_id=0)(samples())
    args = (batch["input_ids"], batch["attention_mask"], batch["videos"])
    scores = model.score(*args[:1], batch["labels"], *args[1:])
    out = model(*args, batch["labels"], return_logits=False)
    assert scores.count.tolist() == [n for n, _ in SPECS]
    torch.testing.assert_close(scores.nll.sum(), out.loss_sum, atol=1e-5, rtol=1e-6)
    for row, sample in enumerate(samples()):  # each row scored alone gives its own NLL
        alone = model.score(sample.input_ids[None], sample.labels[None], videos=[sample.frames])
        torch.testing.assert_close(alone.nll[0], scores.nll[row], atol=1e-5, rtol=1e-5)


def test_the_greedy_flag_is_true_exactly_when_every_target_is_the_argmax():
    torch.manual_seed(0)
    hidden, head = torch.randn(2, 6, 8), torch.nn.Linear(8, 11)
    labels = torch.full((2, 6), IGNORE_INDEX)
    best = head(hidden).argmax(-1)  # (2, 6): the argmax at each position
    labels[:, 3:] = best[:, 2:5]  # positions 2..4 predict labels 3..5
    labels[1, 4] = (best[1, 3] + 1) % 11  # one miss in row 1
    for loss in (PlainCrossEntropy(), ChunkedCrossEntropy(chunk_size=2)):
        scores = sequence_scores(hidden, labels, head, loss)
        assert scores.greedy.tolist() == [True, False]
        assert scores.count.tolist() == [3, 3]
        logprobs = head(hidden).float().log_softmax(-1)  # the reference, outside the library
        want = -logprobs[0, 2:5].gather(1, labels[0, 3:, None]).sum()
        torch.testing.assert_close(scores.nll[0], want, atol=1e-5, rtol=1e-6)


VOCAB_MATH = {"cross_entropy", "log_softmax", "logsumexp", "nll_loss", "CrossEntropyLoss", "NLLLoss"}


def _calls(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every call of a function or method named in `VOCAB_MATH`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in VOCAB_MATH:
                found.append((node.lineno, name))
    return found


def test_the_call_finder_sees_the_forms_the_library_uses():
    source = "import torch.nn.functional as F\nF.cross_entropy(a, b)\nx.log_softmax(-1)\ntorch.logsumexp(x, 1)\n"
    assert [name for _, name in _calls(ast.parse(source))] == ["cross_entropy", "log_softmax", "logsumexp"]


def test_no_vocabulary_cross_entropy_outside_the_head_loss_module():
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path == SRC / "llm" / "head_loss.py":
            continue
        offenders += [f"{path.relative_to(SRC)}:{line}: {name}" for line, name in _calls(ast.parse(path.read_text()))]
    assert not offenders, "\n".join(offenders)
    assert _calls(ast.parse((SRC / "llm" / "head_loss.py").read_text())), "the head loss module computes them"
