"""Padding waste and LLM tokens/s of padded vs packed batches on a LLaVA-Video-178K-like length mix (CPU, one run).

Usage::

    python benchmarks/packing.py [--samples 4096] [--batch 8] [--steps 8] [--scale 16] [--seed 0]

Length model (printed by the script; the kinds' shares are LLaVA-Video-178K's counts, the rest
are assumptions stated here): a sample is a caption (178,510), open-ended QA (960,792) or
multiple-choice QA (196,198); its video lasts 0-30 s, 30-60 s, 1-2 min or 2-3 min (equally
likely buckets, uniform inside); frames are taken at 1 fps up to 64 (``fps``) or always 64
(``fixed``, LLaVA-Video's ``force_sample``), 169 visual tokens each (13x13 average pooling, the
paper's V=(T,679,1,2)); text is a 40-token template plus a question (caption 20 tokens, open-ended
15-30, multiple-choice 50-90) plus the answer (caption: log-normal, median 280 tokens, clipped to
60-900; open-ended: median 20, clipped to 3-150; multiple-choice: 2), and the answer and its end
token are labelled.

Part 1 (exact arithmetic on the full lengths): the share of computed positions that are padding
for padded batches of ``--batch`` samples in random order, for length-grouped batches (sorted
within mega-batches of 16 batches, as LLaVA's ``group_by_modality_length``), and for the same
batches packed first-fit into rows of 32,768 tokens (our collate); plus the attention work
(sum of squared row lengths) of each layout.

Part 2 (timed): the same kind of batches with every length divided by ``--scale`` (so that a
CPU can run them) through a small Qwen2 (width 512, 2 layers, vocabulary 32,000; forward,
chunked loss, backward), in three layouts: padded, packed rows (SDPA with a block-diagonal mask
per row, rows of 32,768 / scale) and packed flat (all samples as one row, the layout
FlashAttention's varlen kernel uses, here run by SDPA with one block-diagonal mask over the whole
row, since flash-attn does not run on CPU). Tokens/s counts real tokens only; the three layouts
run the same samples, step by step in alternation.
"""

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from transformers import Qwen2Config

from videolmm.data import IGNORE_INDEX, Turn, VideoCollator, VideoRecord, VideoSample
from videolmm.llm import CausalLM, ChunkedCrossEntropy, PackedSequences, token_loss_sum

KINDS = {"caption": 178_510, "open-ended": 960_792, "multiple-choice": 196_198}  # LLaVA-Video-178K
BUCKETS = [(0, 30), (30, 60), (60, 120), (120, 180)]  # seconds
TOKENS_PER_FRAME = 169
PACK_LENGTH = 32_768


def draw_lengths(n: int, policy: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Total and labelled tokens of ``n`` samples."""
    shares = np.array(list(KINDS.values()), dtype=float)
    kind = rng.choice(len(KINDS), size=n, p=shares / shares.sum())
    low, high = np.array(BUCKETS).T[:, rng.integers(0, len(BUCKETS), size=n)]
    seconds = rng.uniform(low, high)
    frames = np.clip(np.round(seconds), 1, 64) if policy == "fps" else np.full(n, 64)
    question = np.select([kind == 0, kind == 1], [np.full(n, 20), rng.integers(15, 31, n)], rng.integers(50, 91, n))
    caption = np.clip(rng.lognormal(np.log(280), 0.4, n), 60, 900)
    open_ended = np.clip(rng.lognormal(np.log(20), 0.6, n), 3, 150)
    answer = np.select([kind == 0, kind == 1], [caption, open_ended], np.full(n, 2.0)).round().astype(int)
    total = 40 + question + frames.astype(int) * TOKENS_PER_FRAME + answer + 1
    return total, answer + 1


def first_fit(lengths: list[int], row: int) -> list[list[int]]:
    """Rows of lengths, first fit in order (what `VideoCollator` does)."""
    rows: list[list[int]] = []
    for n in lengths:
        target = next((r for r in rows if sum(r) + n <= row), None)
        if target is None:
            rows.append([n])
        else:
            target.append(n)
    return rows


def waste(total: np.ndarray, batch: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """(padding share, attention work relative to per-sample attention) of each layout."""
    order = rng.permutation(len(total))
    grouped = np.concatenate([np.sort(total[c]) for c in np.array_split(order, max(1, len(total) // (16 * batch)))])
    shuffled = total[order]
    exact = float((total.astype(float) ** 2).sum())
    out = {}
    for name, lengths in (("padded, random order", shuffled), ("padded, length-grouped", grouped)):
        steps = [lengths[i : i + batch] for i in range(0, len(lengths), batch)]
        positions = sum(len(s) * s.max() for s in steps)
        attention = sum(len(s) * float(s.max()) ** 2 for s in steps)
        out[name] = (1 - lengths.sum() / positions, attention / exact)
    rows = [first_fit(shuffled[i : i + batch].tolist(), PACK_LENGTH) for i in range(0, len(shuffled), batch)]
    held = sum(len(r) * max(sum(x) for x in r) for r in rows)
    attention = sum(len(r) * float(max(sum(x) for x in r)) ** 2 for r in rows)
    out["packed rows (SDPA, block-diagonal mask)"] = (1 - total.sum() / held, attention / exact)
    out["packed flat (FlashAttention-2 varlen)"] = (0.0, 1.0)
    return out


def samples(total: np.ndarray, labelled: np.ndarray, rng: np.random.Generator) -> list[VideoSample]:
    """Text-only samples of the given lengths (the timed part runs the LLM only)."""
    record = VideoRecord("x", "x.mp4", (Turn("user", "<video>"), Turn("assistant", "x")))
    out = []
    for i, (n, k) in enumerate(zip(total.tolist(), labelled.tolist(), strict=True)):
        ids = torch.from_numpy(rng.integers(1, 32_000, n))
        labels = torch.full((n,), IGNORE_INDEX)
        labels[n - k :] = ids[n - k :]
        out.append(VideoSample(str(i), torch.zeros(1, 3, 1, 1), ids, labels, 0, record))
    return out


def layouts(llm: CausalLM, pack_length: int) -> dict[str, Callable[[list[VideoSample]], None]]:
    """One training step (forward, chunked loss, backward) per layout."""
    pad, pack = VideoCollator(pad_id=0), VideoCollator(pad_id=0, pack=True, pack_length=pack_length)

    def padded(items: list[VideoSample]) -> None:
        b = pad(items)
        hidden = llm(llm.embed(b["input_ids"]), b["attention_mask"], b["position_ids"])
        token_loss_sum(hidden, b["labels"], llm.head, llm.head_loss)[0].backward()

    def packed(items: list[VideoSample], flat: bool) -> None:
        b = pack(items)
        sequences = PackedSequences.from_batch(b)
        llm.flatten_packed = flat
        hidden = llm(llm.embed(b["input_ids"]), packed=sequences)
        token_loss_sum(hidden, b["labels"], llm.head, llm.head_loss, b["position_ids"])[0].backward()

    return {
        "padded": padded,
        "packed rows": lambda items: packed(items, flat=False),
        "packed flat": lambda items: packed(items, flat=True),
    }


def timed(args: argparse.Namespace, rng: np.random.Generator) -> None:
    """Part 2: tokens/s of the three layouts on scaled lengths."""
    total, labelled = draw_lengths(args.batch * args.steps, "fps", rng)
    total, labelled = np.maximum(total // args.scale, labelled // args.scale + 2), np.maximum(labelled // args.scale, 1)
    items = samples(total, labelled, rng)
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=32_000, hidden_size=512, intermediate_size=1408, num_hidden_layers=2,
                         num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=65_536)  # fmt: skip
    llm = CausalLM(config, head_loss=ChunkedCrossEntropy(1024))
    steps = layouts(llm, PACK_LENGTH // args.scale)
    batches = [items[i : i + args.batch] for i in range(0, len(items), args.batch)]
    for step in steps.values():
        step(batches[0])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in steps}
    for batch in batches:
        for name, step in steps.items():
            llm.zero_grad(set_to_none=True)
            start = time.perf_counter()
            step(batch)
            seconds[name].append(time.perf_counter() - start)
    real = int(total.sum())
    print(f"\ntimed: {len(batches)} steps of {args.batch} samples, lengths / {args.scale} "
          f"(mean {total.mean():.0f}, max {total.max()} tokens), rows of {PACK_LENGTH // args.scale}; "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    base = real / sum(seconds["padded"])
    for name, times in seconds.items():
        rate = real / sum(times)
        median = statistics.median(times)
        print(f"  {name:<12} {rate:>9,.0f} tokens/s  x{rate / base:.2f}  (median step {median:.2f} s)")


def main() -> None:
    """Parse the arguments, print both parts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=4096, help="samples drawn for the padding arithmetic")
    parser.add_argument("--batch", type=int, default=8, help="samples per micro-batch")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per layout")
    parser.add_argument("--scale", type=int, default=16, help="divide every length by this in the timed part")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for policy in ("fps", "fixed"):
        total, _ = draw_lengths(args.samples, policy, rng)
        print(f"frames {policy}: {args.samples} samples, tokens mean {total.mean():,.0f}, "
              f"min {total.min():,}, max {total.max():,}; batches of {args.batch}")  # fmt: skip
        for name, (pad, attention) in waste(total, args.batch, rng).items():
            print(f"  {name:<42} padding {pad:6.1%}   attention work x{attention:.2f} of per-sample")
    timed(args, rng)


if __name__ == "__main__":
    main()
