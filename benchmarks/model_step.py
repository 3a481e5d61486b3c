"""One training step (forward + backward) of VideoLMM against HF LlavaOnevision, same weights and inputs.

The HF model is built from a config (random, seeded), saved as safetensors to a temporary
directory and loaded with ``videolmm.checkpoint.from_hf_pretrained``, so both hold identical weights.
Both then run the same batch (video + prompt + labelled answer) in alternation; the script
prints the loss of each (they must agree), the median step time, tokens/s (B * S, visual
tokens included) and their ratio, and the peak memory a step adds on top of the resident
weights (CUDA: ``max_memory_allocated``; CPU: resident set size sampled every millisecond).

VideoLMM runs its training path (``return_logits=False``): the loss goes through the LM head on
labelled positions only, so neither the forward nor the backward of the (S, vocab) product runs
for prompt and visual tokens; HF computes and back-propagates full logits. ``--with-logits``
also times VideoLMM returning full logits (an extra forward-only product; the loss is unchanged).
The gap therefore grows with the share of unlabelled tokens (here 32 answer tokens of S=881).

    python benchmarks/model_step.py                 # CPU config (~700 MB of weights)
    python benchmarks/model_step.py --device cuda   # SigLIP so400m + Qwen2-7B width cut to 4 layers, bf16, 32 frames
"""

import argparse
import contextlib
import ctypes
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, Qwen2Config, SiglipVisionConfig

from videolmm.checkpoint import from_hf_pretrained
from videolmm.model import VideoLMM

VIDEO_ID = 151647


@dataclass(frozen=True)
class Setup:
    """A benchmark configuration: the two towers' shapes and the batch."""

    vision: dict
    text: dict
    frames: int
    batch: int
    prompt_tokens: int
    answer_tokens: int
    dtype: torch.dtype


CPU = Setup(
    vision={"hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 4, "num_attention_heads": 6},
    text={"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 2, "num_attention_heads": 14,
          "num_key_value_heads": 2, "tie_word_embeddings": True},  # Qwen2-0.5B width, 2 layers
    frames=4, batch=1, prompt_tokens=64, answer_tokens=32, dtype=torch.float32,
)  # fmt: skip
CUDA = Setup(
    vision={"hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 26, "num_attention_heads": 16},
    text={"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 4, "num_attention_heads": 28,
          "num_key_value_heads": 4, "tie_word_embeddings": False},  # Qwen2-7B width, 4 layers
    frames=32, batch=1, prompt_tokens=64, answer_tokens=64, dtype=torch.bfloat16,
)  # fmt: skip


def hf_model(setup: Setup) -> LlavaOnevisionForConditionalGeneration:
    """The HF model of ``setup`` (SigLIP at 384 px, 27x27 patches; Qwen2 vocabulary), seeded, float32."""
    torch.manual_seed(0)
    vision = SiglipVisionConfig(**setup.vision, image_size=384, patch_size=14, vision_use_head=False)
    rope = {"rope_type": "default", "rope_theta": 1e6}
    text = Qwen2Config(vocab_size=152064, max_position_embeddings=32768, rope_parameters=rope, **setup.text)
    config = LlavaOnevisionConfig(vision_config=vision, text_config=text, video_token_index=VIDEO_ID)
    config._attn_implementation = "sdpa"
    return LlavaOnevisionForConditionalGeneration(config)


def batch(setup: Setup, visual_tokens: int, device: str) -> dict[str, torch.Tensor]:
    """Prompt + placeholder run + answer for every sample; labels only on the answer.

    Shapes:
        input_ids, attention_mask, labels: (B, S); videos: (B, T, 3, 384, 384)
    """
    g = torch.Generator().manual_seed(1)
    B = setup.batch
    prompt = torch.randint(0, 150000, (B, setup.prompt_tokens), generator=g)
    answer = torch.randint(0, 150000, (B, setup.answer_tokens), generator=g)
    ids = torch.cat([prompt[:, :8], torch.full((B, visual_tokens), VIDEO_ID), prompt[:, 8:], answer], dim=1)
    labels = torch.full_like(ids, -100)
    labels[:, -setup.answer_tokens :] = answer
    videos = torch.randn(B, setup.frames, 3, 384, 384, generator=g)
    out = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels, "videos": videos}
    return {k: v.to(device) for k, v in out.items()}


def rss_bytes() -> int:
    """Resident set size of this process."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def release_free_heap() -> None:
    """Return freed heap pages to the OS (glibc), so that the resident size counts live memory only."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_during(fn: Callable[[], torch.Tensor], device: str) -> tuple[torch.Tensor, int]:
    """Run ``fn`` and return its result and the peak memory it added (bytes) above the level before it."""
    if device == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = fn()
        torch.cuda.synchronize()
        return out, torch.cuda.max_memory_allocated() - before
    release_free_heap()
    before, peak, done = rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = fn()
    finally:
        done.set()
        sampler.join()
    return out, max(peak[0], rss_bytes()) - before


def steps(model: torch.nn.Module, call: Callable[[], object], device: str) -> Callable[[], torch.Tensor]:
    """One training step: clear gradients, forward, backward; returns the loss (detached)."""

    def step() -> torch.Tensor:
        model.zero_grad(set_to_none=True)
        loss = call().loss
        loss.backward()
        if device == "cuda":
            torch.cuda.synchronize()
        return loss.detach()

    return step


def compare(steps: dict[str, Callable[[], torch.Tensor]], rounds: int, device: str) -> list[dict]:
    """Warm every step up once, time ``rounds`` rounds in alternation (median), then each step's peak memory."""
    for step in steps.values():
        step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    losses: dict[str, float] = {}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            losses[name] = step().float().item()
            times[name].append(time.perf_counter() - start)
    peaks = {name: peak_during(step, device)[1] for name, step in steps.items()}
    return [{"name": n, "loss": losses[n], "seconds": statistics.median(times[n]), "peak": peaks[n]} for n in steps]


def build(setup: Setup, device: str) -> tuple[LlavaOnevisionForConditionalGeneration, VideoLMM]:
    """The HF model and VideoLMM with the same weights (through a safetensors directory)."""
    hf = hf_model(setup)
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        ours = from_hf_pretrained(tmp)
    return hf.to(device, setup.dtype).train(), ours.to(device, setup.dtype).train()


def main() -> None:
    """Parse arguments, run both models alternately, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rounds", type=int, default=3, help="timed steps per model (median reported)")
    parser.add_argument("--with-logits", action="store_true", help="also time VideoLMM returning full logits")
    args = parser.parse_args()
    setup = CUDA if args.device == "cuda" else CPU
    hf, ours = build(setup, args.device)
    inputs = batch(setup, ours.num_visual_tokens(setup.frames), args.device)
    ids, mask, labels, videos = (inputs[k] for k in ("input_ids", "attention_mask", "labels", "videos"))
    videos = videos.to(setup.dtype)
    runs = [
        (
            "HF LlavaOnevision",
            hf,
            lambda: hf(input_ids=ids, attention_mask=mask, pixel_values_videos=videos, labels=labels),
        ),
        ("VideoLMM", ours, lambda: ours(ids, mask, videos, labels=labels, return_logits=False)),
    ]
    if args.with_logits:
        runs.append(("VideoLMM (+logits)", ours, lambda: ours(ids, mask, videos, labels=labels, return_logits=True)))
    results = compare({name: steps(model, call, args.device) for name, model, call in runs}, args.rounds, args.device)
    report(setup, args.device, ids.numel(), ours, results)


def report(setup: Setup, device: str, tokens: int, ours: VideoLMM, results: list[dict]) -> None:
    """Print the table: loss, step time, tokens/s, ratio to HF, peak step memory."""
    weights = sum(p.numel() * p.element_size() for p in ours.parameters())
    visual = ours.num_visual_tokens(setup.frames)
    print(f"device {device}, dtype {setup.dtype}, weights {weights / 2**20:.0f} MiB per model, "
          f"B={setup.batch} T={setup.frames} S={tokens // setup.batch} ({visual} visual)")  # fmt: skip
    base = results[0]["seconds"]
    print(f"{'model':<20} {'loss':>9} {'step s':>8} {'tokens/s':>9} {'ratio':>6} {'peak step MiB':>14}")
    for r in results:
        print(f"{r['name']:<20} {r['loss']:>9.5f} {r['seconds']:>8.3f} {tokens / r['seconds']:>9.0f} "
              f"{base / r['seconds']:>6.2f} {r['peak'] / 2**20:>14.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
