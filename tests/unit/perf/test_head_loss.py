"""The chunked cross-entropy equals the plain one in value and gradients, and never holds the full logits."""

import importlib.util

import pytest
import torch

from videolmm.llm.head_loss import ChunkedCrossEntropy, LigerCrossEntropy, PlainCrossEntropy


def problem(n: int = 37, width: int = 16, vocab: int = 50, bias: bool = True, dtype=torch.float32):
    torch.manual_seed(0)
    head = torch.nn.Linear(width, vocab, bias=bias).to(dtype)
    hidden = torch.randn(n, width, dtype=dtype, requires_grad=True)
    targets = torch.randint(0, vocab, (n,))
    return hidden, targets, head


def loss_and_grads(loss_fn, hidden, targets, head):
    for p in (hidden, *head.parameters()):
        p.grad = None
    loss = loss_fn(hidden, targets, head)
    (loss * 0.7).backward()  # a non-unit upstream gradient
    return loss.detach(), [hidden.grad.clone()] + [p.grad.clone() for p in head.parameters()]


@pytest.mark.parametrize("chunk_size", [1, 5, 37, 100])
@pytest.mark.parametrize("bias", [True, False])
def test_chunked_loss_and_gradients_equal_the_plain_ones(chunk_size, bias):
    hidden, targets, head = problem(bias=bias)
    want, want_grads = loss_and_grads(PlainCrossEntropy(), hidden, targets, head)
    got, got_grads = loss_and_grads(ChunkedCrossEntropy(chunk_size), hidden, targets, head)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-6)
    for g, w in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(g, w, atol=1e-6, rtol=1e-5)


def test_chunked_loss_in_bfloat16_matches_the_plain_upcast_loss():
    hidden, targets, head = problem(n=64, width=32, vocab=300, dtype=torch.bfloat16)
    want, want_grads = loss_and_grads(PlainCrossEntropy(), hidden, targets, head)
    got, got_grads = loss_and_grads(ChunkedCrossEntropy(16), hidden, targets, head)
    torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-4)  # both upcast the bf16 logits to float32
    for g, w in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(g.float(), w.float(), atol=2e-2, rtol=2e-2)  # weight grad: fp32 vs bf16 sums


def test_chunked_loss_runs_under_autocast_with_bfloat16_hidden_states():
    hidden, targets, head = problem()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = ChunkedCrossEntropy(8)(hidden.bfloat16(), targets, head)  # float32 weight, bf16 rows
    loss.backward()
    want = PlainCrossEntropy()(hidden.detach(), targets, head)
    torch.testing.assert_close(loss.detach(), want.detach(), rtol=2e-2, atol=0)  # bf16 forward logits
    assert hidden.grad.dtype == torch.float32
    assert head.weight.grad.dtype == torch.float32


def test_a_frozen_head_gets_no_gradient_and_no_rows_give_zero():
    hidden, targets, head = problem()
    head.requires_grad_(False)
    ChunkedCrossEntropy(8)(hidden, targets, head).backward()
    assert head.weight.grad is None
    assert hidden.grad is not None
    empty = ChunkedCrossEntropy(8)(hidden[:0], targets[:0], head)
    assert empty.item() == 0.0


def test_chunked_loss_keeps_only_the_hidden_states_for_the_backward():
    hidden, targets, head = problem(n=64, width=8, vocab=1000)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        ChunkedCrossEntropy(16)(hidden, targets, head)
    assert max(saved) == 1000 * 8  # the head weight; no (rows, vocab) logits are kept
    saved.clear()
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t.numel()) or t, lambda t: t):
        PlainCrossEntropy()(hidden, targets, head)
    assert max(saved) == 64 * 1000  # the plain loss keeps (n, vocab) float32 log-probabilities


def test_logits_memory_of_the_plain_loss_grows_with_tokens_and_the_chunked_one_stops_at_a_chunk():
    vocab = 152064  # Qwen2: 32K labelled tokens of float32 logits are 19.9 GB
    assert PlainCrossEntropy().logits_memory(32768, vocab, 2)[0] == 4 * 32768 * vocab == 19_931_332_608
    assert ChunkedCrossEntropy(1024).logits_memory(32768, vocab, 2) == (0, 8 * 1024 * vocab)
    assert ChunkedCrossEntropy(1024).logits_memory(10, vocab, 4) == (0, 8 * 10 * vocab)
    with pytest.raises(ValueError, match="positive"):
        ChunkedCrossEntropy(0)


def test_liger_loss_without_the_package_raises_a_clear_error():
    if importlib.util.find_spec("liger_kernel") is not None:
        pytest.skip("liger-kernel is installed")
    with pytest.raises(ImportError, match="pip install liger-kernel"):
        LigerCrossEntropy()


@pytest.mark.gpu
def test_liger_loss_equals_the_plain_loss_on_cuda():
    if importlib.util.find_spec("liger_kernel") is None:
        pytest.skip("liger-kernel is not installed")
    hidden, targets, head = problem(n=256, width=64, vocab=4000, bias=False)
    hidden, head = hidden.detach().cuda().requires_grad_(), head.cuda()
    want, want_grads = loss_and_grads(PlainCrossEntropy(), hidden, targets.cuda(), head)
    got, got_grads = loss_and_grads(LigerCrossEntropy(), hidden, targets.cuda(), head)
    torch.testing.assert_close(got, want, atol=1e-3, rtol=1e-4)
    for g, w in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(g, w, atol=1e-4, rtol=1e-3)
