"""Packed batches: attention within samples only, positions restarting, the same per-sample losses as one by one."""

import importlib.util

import pytest
import torch
from transformers import Qwen2Config

from tests.unit.perf.tiny import VIDEO_ID, new_module, video_sample
from videolmm.data import IGNORE_INDEX, VideoCollator
from videolmm.llm import CausalLM, PackedSequences, PlainCrossEntropy, token_loss_sum

# (labelled answer tokens, frames): unequal lengths 3+18+5=26, 3+27+2=32, 3+9+7=19, 3+18+1=22
SPECS = [(5, 2), (2, 3), (7, 1), (1, 2)]


def samples():
    return [video_sample(f"s{i}", labels, frames, seed=i) for i, (labels, frames) in enumerate(SPECS)]


def packed_batch():
    batch = VideoCollator(pad_id=0, pack=True, pack_length=64)(samples())
    assert batch["input_ids"].shape == (2, 58)  # first fit: [26+32], [19+22] -> rows of 58 and 41 (+17 padding)
    return batch


@pytest.mark.parametrize("flatten", [False, True], ids=["rows", "flat"])
def test_a_packed_batch_gives_each_sample_the_loss_it_has_alone(flatten):
    module = new_module(llm={"flatten_packed": flatten})
    collate = VideoCollator(pad_id=0)
    alone = {s.key: [t.item() for t in module(collate([s]))] for s in samples()}
    batch = packed_batch()
    sequences = PackedSequences.from_batch(batch)
    hidden = module.model.hidden_states(batch["input_ids"], videos=batch["videos"], packed=sequences)  # (R, P, E)
    split = sequences.split
    for key, h, labels in zip(batch["keys"], split(hidden), split(batch["labels"]), strict=True):
        loss, count = token_loss_sum(h[None], labels[None], module.model.llm.head)
        assert count.item() == alone[key][1]
        assert loss.item() == pytest.approx(alone[key][0], rel=1e-5, abs=1e-6)
    total, count = module(batch)
    assert count.item() == sum(c for _, c in alone.values())
    assert total.item() == pytest.approx(sum(v for v, _ in alone.values()), rel=1e-5)


def test_packed_and_padded_batches_give_the_same_gradients():
    grads = []
    for pack in (False, True):
        module = new_module()
        collate = VideoCollator(pad_id=0, pack=pack, pack_length=64 if pack else None)
        loss, _ = module(collate(samples()))
        loss.backward()
        grads.append({n: p.grad for n, p in module.model.named_parameters()})
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, atol=1e-5, rtol=1e-4)


def tiny_llm(**kwargs) -> CausalLM:
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2)  # fmt: skip
    return CausalLM(config, **kwargs).eval()


@pytest.mark.parametrize("flatten", [False, True], ids=["rows", "flat"])
def test_attention_never_crosses_a_sample_boundary(flatten):
    llm = tiny_llm(flatten_packed=flatten)
    packed = PackedSequences.from_rows([[6, 5], [4]])  # rows of 11 and 4 (+7 padding)
    x = torch.randn(2, 11, 32)
    y = x.clone()
    y[0, :6] += 1.0  # change only the first sample
    with torch.no_grad():
        a, b = llm(x, packed=packed), llm(y, packed=packed)
        alone = llm(x[:1, 6:11])  # the second sample on its own, positions 0..4
        third = llm(x[1:, :4])
    assert not torch.allclose(a[0, :6], b[0, :6])
    torch.testing.assert_close(a[:, 6:], b[:, 6:], atol=0, rtol=0)  # nothing after it sees the change
    torch.testing.assert_close(a[:1, 6:11], alone, atol=1e-6, rtol=0)  # and positions restarted at 0
    torch.testing.assert_close(a[1:, :4], third, atol=1e-6, rtol=0)


def test_the_last_token_of_a_packed_sample_does_not_predict_the_next_samples_first_token():
    hidden, head = torch.randn(1, 7, 8), torch.nn.Linear(8, 5)
    labels = torch.tensor([[IGNORE_INDEX, 1, 2, 3, 4, 0, 1]])  # sample 2 starts at index 4 with a label
    positions = PackedSequences.from_rows([[4, 3]]).position_ids
    _, count = token_loss_sum(hidden, labels, head, PlainCrossEntropy(), positions)
    _, unaware = token_loss_sum(hidden, labels, head, PlainCrossEntropy())
    assert (count.item(), unaware.item()) == (5, 6)  # targets 1,2,3 | 0,1; index 3 -> 4 is dropped


def test_packed_batches_fail_loudly_when_inconsistent():
    module = new_module()
    batch = packed_batch()
    with pytest.raises(ValueError, match="cu_seqlens covers 77 tokens but the rows hold 99"):
        module(dict(batch, cu_seqlens=batch["cu_seqlens"][:-1]))
    shifted = batch["position_ids"].clone()
    shifted[0, 26] = 5  # the second sample does not restart at 0
    with pytest.raises(ValueError, match="must count 0, 1"):
        module(dict(batch, position_ids=shifted))
    ids = batch["input_ids"].clone()
    ids[0, (ids[0] == VIDEO_ID).nonzero()[0]] = 7  # one placeholder fewer in the first sample
    with pytest.raises(ValueError, match=r"packed sample 0 has 17 placeholder ids \(id \d+\) but its video gives 18"):
        module(dict(batch, input_ids=ids))
    with pytest.raises(ValueError, match="got 3 videos \\(or None\\) for 4 samples"):
        module(dict(batch, videos=batch["videos"][:3]))
    sequences = PackedSequences.from_batch(batch)
    with pytest.raises(ValueError, match="pass no attention_mask"):
        module.model(batch["input_ids"], batch["attention_mask"], batch["videos"], packed=sequences)
    with pytest.raises(ValueError, match="pass no attention_mask"):
        module.model.llm(torch.zeros(1, 4, 64), torch.ones(1, 4), packed=PackedSequences.from_rows([[2, 2]]))


def test_packed_sequences_flatten_and_unflatten_rows():
    packed = PackedSequences.from_rows([[3], [1, 1]])
    assert packed.position_ids.tolist() == [[0, 1, 2], [0, 0, 0]]
    assert packed.attention_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert packed.cu_seqlens.tolist() == [0, 3, 4, 5]
    x = torch.arange(6).reshape(2, 3)
    assert packed.flatten(x).tolist() == [[0, 1, 2, 3, 4]]
    assert packed.unflatten(packed.flatten(x)).tolist() == [[0, 1, 2], [3, 4, 0]]
    assert [t.tolist() for t in packed.split(x)] == [[0, 1, 2], [3], [4]]
    assert packed.attention_kwargs()["max_length_q"] == 3


@pytest.mark.gpu
@pytest.mark.parametrize("implementation", ["sdpa", "flash_attention_2"])
def test_packed_rows_on_cuda_match_each_sample_alone(implementation):
    if implementation == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        pytest.skip("flash-attn is not installed")
    llm = tiny_llm(attn_implementation=implementation).to("cuda", torch.bfloat16)
    rows = [[40, 7], [130]]
    packed = PackedSequences.from_rows(rows, device="cuda")
    x = torch.randn(2, 130, 32, device="cuda", dtype=torch.bfloat16)
    with torch.no_grad():
        together = packed.split(llm(x, packed=packed))
        alone = [llm(part[None])[0] for part in packed.split(x)]
    for got, want in zip(together, alone, strict=True):
        torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)
