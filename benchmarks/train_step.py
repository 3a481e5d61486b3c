"""A full training step (forward, backward, AdamW) of VideoLMM against HF LlavaOnevision trained the plain way.

Same weights (through a safetensors directory, see ``model_step.py``), same batch, same optimizer.
VideoLMM runs as the training module does: the LM head only on labelled positions and, with
``--checkpointing``, activation checkpointing of every decoder layer and vision block (HF then
uses its own ``gradient_checkpointing_enable``). Reported: steady-state step time (median after a
warm-up step), tokens/s, model TFLOP/s and, on a GPU with a known peak, MFU, where FLOPs follow
``videolmm.training.VideoLMMFlops`` (torchtitan convention: LLM + vision tower + projector,
attention over each sample's real length, recomputation not counted) for both models.

    python benchmarks/train_step.py                                   # CPU: a small config
    python benchmarks/train_step.py --device cuda --checkpointing     # SigLIP so400m + Qwen2-7B width, 4 layers
"""

import argparse
import dataclasses
import statistics
import time

import torch

from model_step import CPU, CUDA, batch, build
from videolmm.training.flops import VideoLMMFlops, mfu, peak_flops
from videolmm.training.sharding import apply_activation_checkpointing

ALL_TRAIN = {"encoder": True, "projector": True, "separators": True, "llm": True}


def timed_steps(step, rounds: int, device: str) -> list[float]:
    """One warm-up step, then ``rounds`` timed ones (seconds each)."""
    step()
    times = []
    for _ in range(rounds):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def training_step(model: torch.nn.Module, loss_fn, device: str):
    """zero_grad, forward, backward, AdamW step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=device == "cuda")

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


def main() -> None:
    """Build both models, time their training steps, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=None, help="override the config's frame count (CUDA: 64)")
    parser.add_argument("--checkpointing", action="store_true", help="activation checkpointing in both models")
    args = parser.parse_args()
    setup = CUDA if args.device == "cuda" else CPU
    setup = dataclasses.replace(setup, frames=args.frames or (64 if args.device == "cuda" else setup.frames))
    hf, ours = build(setup, args.device)
    if args.checkpointing:
        hf.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        apply_activation_checkpointing(ours)
    inputs = batch(setup, ours.num_visual_tokens(setup.frames), args.device)
    ids, mask, labels = inputs["input_ids"], inputs["attention_mask"], inputs["labels"]
    videos = inputs["videos"].to(setup.dtype)
    runs = {
        "HF LlavaOnevision": training_step(
            hf,
            lambda: hf(input_ids=ids, attention_mask=mask, pixel_values_videos=videos, labels=labels).loss,
            args.device,
        ),
        "VideoLMM": training_step(
            ours, lambda: ours(ids, mask, videos, labels=labels, return_logits=False).loss, args.device
        ),
    }
    flops = sum(
        VideoLMMFlops(ours, ALL_TRAIN)(
            setup.frames * setup.batch, mask.sum(1).tolist(), ours.num_visual_tokens(setup.frames) * setup.batch
        ).values()
    )
    peak = peak_flops(torch.cuda.get_device_name()) if args.device == "cuda" else None
    tokens = ids.numel()
    print(
        f"device {args.device} ({torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu'}), "
        f"dtype {setup.dtype}, B={setup.batch} T={setup.frames} S={tokens // setup.batch}, "
        f"activation checkpointing {args.checkpointing}, model FLOPs/step {flops / 1e12:.2f} T"
    )
    print(f"{'model':<18} {'step s':>8} {'tokens/s':>9} {'TFLOP/s':>8} {'MFU':>6} {'ratio':>6}")
    base = None
    for name, step in runs.items():
        seconds = statistics.median(timed_steps(step, args.rounds, args.device))
        base = base or seconds
        util = f"{mfu(flops, seconds, peak):.1%}" if peak else "n/a"
        print(
            f"{name:<18} {seconds:>8.3f} {tokens / seconds:>9.0f} {flops / seconds / 1e12:>8.3f} {util:>6} "
            f"{base / seconds:>6.2f}"
        )


if __name__ == "__main__":
    main()
