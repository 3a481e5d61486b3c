"""`VideoLMMModule` on the tiny model: global token-mean loss, skipped non-finite steps, frozen components."""

import copy
from pathlib import Path

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

import videolmm.conf
from videolmm.model.build import build_model
from videolmm.training import Stage
from videolmm.training.module import VideoLMMModule

CONF = Path(videolmm.conf.__file__).parent
VIDEO_ID = 255


def model_config():
    groups = {
        g: OmegaConf.load(CONF / g / f"{name}.yaml")
        for g, name in [
            ("encoder", "tiny"),
            ("reducer", "avg_pool_2x2"),
            ("projector", "mlp2x_gelu"),
            ("separators", "none"),
            ("llm", "tiny"),
        ]
    }
    return OmegaConf.create({**groups, "video_token_id": VIDEO_ID, "reduce_after_projector": True})


FULL = Stage("full", {"encoder": True, "projector": True, "separators": True, "llm": True})


def sample(num_labels: int, num_frames: int = 2, seed: int = 0) -> dict:
    """One sequence: 3 prompt ids, the video placeholders (9 per 7x7 frame pooled to 3x3), then answer ids."""
    g = torch.Generator().manual_seed(seed)
    visual = 9 * num_frames
    prompt = torch.randint(0, 200, (3,), generator=g)
    answer = torch.randint(0, 200, (num_labels,), generator=g)
    ids = torch.cat([prompt, torch.full((visual,), VIDEO_ID), answer])
    labels = torch.cat([torch.full((3 + visual,), -100), answer])
    return {"input_ids": ids, "labels": labels, "video": torch.randn(num_frames, 3, 28, 28, generator=g)}


def collate(samples: list[dict]) -> dict:
    """Right-pad to the longest sample."""
    S = max(len(s["input_ids"]) for s in samples)

    def pad(t: torch.Tensor, value: int) -> torch.Tensor:
        return torch.cat([t, torch.full((S - len(t),), value, dtype=t.dtype)])

    return {
        "input_ids": torch.stack([pad(s["input_ids"], 0) for s in samples]),
        "labels": torch.stack([pad(s["labels"], -100) for s in samples]),
        "attention_mask": torch.stack([pad(torch.ones_like(s["input_ids"]), 0) for s in samples]),
        "videos": [s["video"] for s in samples],
    }


def fit(module: VideoLMMModule, batches: list[dict], accumulate: int = 1, steps: int = 1) -> L.Trainer:
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps,
        accumulate_grad_batches=accumulate,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(module, DataLoader(batches, batch_size=None, shuffle=False))
    return trainer


def new_module(**kwargs) -> VideoLMMModule:
    torch.manual_seed(0)
    module = VideoLMMModule(model_config(), FULL, torch.optim.SGD, lr=0.5, **kwargs)
    module.configure_model()
    return module


def test_accumulated_micro_batches_update_like_one_batch_of_the_global_token_mean():
    samples = [sample(n, seed=i) for i, n in enumerate([1, 7, 2, 5])]  # unequal label counts
    reference = new_module()
    start = copy.deepcopy(reference.model.state_dict())
    # plain PyTorch: SGD step on the token mean over all 4 samples
    model = build_model(model_config())
    model.load_state_dict(start)
    batch = collate(samples)
    out = model(batch["input_ids"], batch["attention_mask"], batch["videos"], batch["labels"], return_logits=False)
    out.loss.backward()
    expected = {n: p.detach() - 0.5 * p.grad for n, p in model.named_parameters()}

    one = new_module()
    fit(one, [collate(samples)])
    two = new_module()
    fit(two, [collate(samples[:2]), collate(samples[2:])], accumulate=2)
    for name, param in one.model.named_parameters():
        torch.testing.assert_close(param, expected[name], atol=2e-6, rtol=1e-5)
        torch.testing.assert_close(dict(two.model.named_parameters())[name], expected[name], atol=2e-6, rtol=1e-5)


def test_a_non_finite_loss_skips_the_step_and_is_counted():
    module = new_module(max_nonfinite=3)
    start = copy.deepcopy(module.model.state_dict())
    bad = collate([sample(3)])
    bad["videos"][0][0, 0, 0, 0] = float("nan")
    fit(module, [bad, bad], steps=2)
    assert module.skipped_steps == 2
    for name, value in module.model.state_dict().items():
        assert torch.equal(value, start[name]), name


def test_consecutive_non_finite_steps_stop_the_run_with_a_message():
    module = new_module(max_nonfinite=2)
    bad = collate([sample(3)])
    bad["videos"][0][0, 0, 0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="2 steps in a row had a non-finite loss"):
        fit(module, [bad, bad, bad], steps=3)


def test_a_good_step_resets_the_non_finite_streak():
    module = new_module(max_nonfinite=2)
    bad = collate([sample(3)])
    bad["videos"][0][0, 0, 0, 0] = float("nan")
    fit(module, [bad, collate([sample(3)]), bad], steps=3)
    assert module.skipped_steps == 2
    assert module._nonfinite_in_a_row == 1


def test_frozen_components_get_no_gradient_and_no_optimizer_state():
    align = Stage("align", {"encoder": False, "projector": True, "separators": True, "llm": False})
    torch.manual_seed(0)
    module = VideoLMMModule(model_config(), align, torch.optim.AdamW, lr=1e-3)
    trainer = fit(module, [collate([sample(4)])])
    optimizer = trainer.optimizers[0]
    for name in ("encoder", "llm"):
        for p in getattr(module.model, name).parameters():
            assert p.grad is None
            assert p not in optimizer.state
    assert all(p in optimizer.state for p in module.model.projector.parameters())
    assert "projector" in module.parameter_table


def test_activation_checkpointing_gives_the_same_gradients():
    batch = collate([sample(4), sample(2, seed=1)])
    grads = []
    for checkpointing in (False, True):
        module = new_module(activation_checkpointing=checkpointing)
        wrapped = sum(type(m).__name__ == "CheckpointWrapper" for m in module.model.modules())
        assert wrapped == (4 if checkpointing else 0)  # 2 SigLIP blocks + 2 Qwen2 decoder layers
        loss, _ = module(batch)
        loss.backward()
        grads.append(
            {n.replace("._checkpoint_wrapped_module", ""): p.grad.clone() for n, p in module.model.named_parameters()}
        )
        keys = set(module.model.state_dict())
    assert keys == set(build_model(model_config()).state_dict())  # checkpoints keep their key names
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], atol=1e-6, rtol=1e-5)


def test_throughput_monitor_logs_rates_and_the_exact_visual_share():
    from videolmm.training.callbacks import ThroughputMonitor

    module = new_module()
    batches = [collate([sample(4), sample(2, num_frames=3, seed=1)]), collate([sample(1, seed=2)])]
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[ThroughputMonitor(window=2)],
    )
    trainer.fit(module, DataLoader(batches, batch_size=None))
    metrics = trainer.callback_metrics
    visual = 9 * 2 + 9 * 3 + 9 * 2
    tokens = (3 + 18 + 4) + (3 + 27 + 2) + (3 + 18 + 1)
    assert metrics["perf/visual_token_share"].item() == pytest.approx(visual / tokens)
    assert metrics["perf/samples_per_s"] > 0
    assert metrics["perf/tokens_per_s"].item() == pytest.approx(metrics["perf/samples_per_s"].item() * tokens / 3)
    assert "perf/mfu" not in metrics  # no known peak on CPU


def test_flops_of_the_tiny_model_by_component():
    from videolmm.training.flops import VideoLMMFlops

    model = new_module().model
    flops = VideoLMMFlops(model, FULL.trainable)
    enc = sum(p.numel() for p in model.encoder.parameters())
    proj = sum(p.numel() for p in model.projector.parameters())
    llm = sum(p.numel() for p in model.llm.parameters()) - 256 * 64  # minus the (untied) input embedding
    got = flops(frames=2, lengths=[30, 20], visual_tokens=18)
    assert got["encoder"] == 3 * (2 * enc * 98 + 4 * 2 * 32 * 2 * 49**2)
    assert got["projector"] == 3 * 2 * proj * 98  # projected before pooling: every patch
    assert got["llm"] == 3 * (2 * llm * 50 + 4 * 2 * 64 * (30**2 + 20**2))
    frozen = VideoLMMFlops(model, {"encoder": False, "projector": True, "separators": True, "llm": False})
    assert frozen(2, [30, 20], 18)["encoder"] == got["encoder"] / 3
    assert frozen(2, [30, 20], 18)["llm"] == got["llm"] / 3 * 2
