"""Peak memory of the plain vs chunked cross-entropy through an LM head with Qwen2's vocabulary (forward + backward).

Usage::

    python benchmarks/loss_memory.py [--tokens 2048] [--width 256] [--chunk 256] [--device cpu]

The head is ``Linear(width, 152064)`` (Qwen2's vocabulary; the logits do not depend on the width),
the input ``tokens`` labelled hidden states in float32 on CPU (bfloat16 on CUDA). For each loss
the script runs forward + backward once to warm up, then measures the peak memory one more
forward + backward adds on top of what existed before it (the head weight, the hidden states):

- CUDA: ``torch.cuda.max_memory_allocated`` minus ``memory_allocated`` before;
- CPU: torch's CPU allocator reports every allocation and free to the profiler
  (``profile_memory=True``); the running sum of these events in time order is what torch holds,
  and its maximum is the peak. Like the CUDA number, it ignores the allocator's caching and
  counts only tensors (not the Python heap or the weights that existed before).

It also checks that both give the same loss and gradients, and prints the float32 logits a
32K-token batch would need without chunking.
"""

import argparse
import itertools
import time
from collections.abc import Callable

import torch
import torch.profiler as P

from videolmm.llm.head_loss import ChunkedCrossEntropy, PlainCrossEntropy

VOCAB = 152_064  # Qwen2


def peak_bytes(fn: Callable[[], None], device: str) -> int:
    """Peak bytes of tensors ``fn`` allocates on top of those alive before it."""
    if device == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    with P.profile(activities=[P.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    return max(itertools.accumulate((n for _, n in events), initial=0))


def run(args: argparse.Namespace) -> None:
    """Measure both losses and print the table."""
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    torch.manual_seed(0)
    head = torch.nn.Linear(args.width, VOCAB, bias=False).to(args.device, dtype)
    hidden = torch.randn(args.tokens, args.width, device=args.device, dtype=dtype, requires_grad=True)
    targets = torch.randint(0, VOCAB, (args.tokens,), device=args.device)
    results = {}
    for name, loss_fn in (("plain", PlainCrossEntropy()), (f"chunked({args.chunk})", ChunkedCrossEntropy(args.chunk))):

        def step(loss_fn=loss_fn) -> None:
            hidden.grad, head.weight.grad = None, None
            loss_fn(hidden, targets, head).backward()

        step()  # warm-up
        start = time.perf_counter()
        step()
        seconds = time.perf_counter() - start
        hidden.grad, head.weight.grad = None, None
        peak = peak_bytes(step, args.device)
        loss = loss_fn(hidden, targets, head).item()
        results[name] = (peak, seconds, loss, hidden.grad.clone(), head.weight.grad.clone())
    report(args, dtype, results)


def report(args: argparse.Namespace, dtype: torch.dtype, results: dict) -> None:
    """Print peak memory, time and agreement with the plain loss."""
    weight = VOCAB * args.width * torch.finfo(dtype).bits // 8
    print(f"device {args.device}, {dtype}; head {args.width} x {VOCAB:,} ({weight / 2**20:,.0f} MiB); "
          f"{args.tokens:,} labelled tokens")  # fmt: skip
    print(f"{'loss':<16} {'peak MiB':>10} {'x plain':>8} {'step s':>8} {'loss':>12} {'max |grad diff|':>16}")
    base = results["plain"]
    for name, (peak, seconds, loss, g_hidden, g_weight) in results.items():
        diff = max((g_hidden - base[3]).abs().max().item(), (g_weight - base[4]).abs().max().item())
        print(f"{name:<16} {peak / 2**20:>10,.1f} {peak / base[0]:>8.2f} {seconds:>8.2f} {loss:>12.4f} {diff:>16.2e}")
    logits = 4 * VOCAB * 32_768
    print(
        f"float32 logits of 32,768 tokens without chunking: {logits / 1e9:.1f} GB; "
        f"one {args.chunk}-row chunk: {4 * VOCAB * args.chunk / 1e9:.2f} GB"
    )


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=2048, help="labelled tokens through the head")
    parser.add_argument("--width", type=int, default=256, help="hidden width E (the logits do not depend on it)")
    parser.add_argument("--chunk", type=int, default=256, help="rows per chunk of the chunked loss")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
