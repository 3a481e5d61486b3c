"""Seeded fuzzing of the decoder path and the annotation parser: no crash, no hang, every sample accounted.

Inputs are random bytes and mutations of real inputs (a synthetic mp4, a real record): flipped bytes,
cuts, zeroed or duplicated spans, inserted noise. The count is fixed and the seed is fixed, so a
failure reproduces; ``pytest-timeout`` bounds the time (a hang fails the test).
"""

import json
import time

import numpy as np
import pytest

from tests.reliability.conftest import run_epoch, write_shards
from videolmm.data import BadSampleError, TemporalBenchmark, UniformFrames, convert_annotations, parse_record
from videolmm.data.errors import SKIP_REASONS
from videolmm.data.records import parse_record_bytes

SEED = 20240917
RANDOM_INPUTS, MUTATED_INPUTS = 50, 250


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One random mutation of ``data``: flipped bytes, a cut, a zeroed or duplicated span, noise, a new header."""
    data = bytearray(data)
    kind, n = int(rng.integers(6)), len(data)
    at, span = int(rng.integers(max(n, 1))), int(rng.integers(1, 512))
    noise = rng.integers(0, 256, size=span, dtype=np.uint8).tobytes()
    if kind == 0 and n:
        for i in rng.integers(n, size=int(rng.integers(1, 9))):
            data[i] ^= int(rng.integers(1, 256))
    elif kind == 1:
        del data[at:]
    elif kind == 2:
        data[at : at + span] = bytes(len(data[at : at + span]))
    elif kind == 3:
        data[at:at] = data[at : at + 4 * span]
    elif kind == 4:
        data[at:at] = noise
    else:
        data[: min(span, 64)] = noise[: min(span, 64)]
    return bytes(data)


def fuzz_inputs(seeds: list[bytes], rng: np.random.Generator) -> list[bytes]:
    """``RANDOM_INPUTS`` random byte strings and ``MUTATED_INPUTS`` (stacked) mutations of the ``seeds``."""
    inputs = [
        rng.integers(0, 256, size=int(rng.integers(0, 4096)), dtype=np.uint8).tobytes() for _ in range(RANDOM_INPUTS)
    ]
    for i in range(MUTATED_INPUTS):
        data = seeds[i % len(seeds)]
        for _ in range(int(rng.integers(1, 4))):
            data = mutate(data, rng)
        inputs.append(data)
    return inputs


def larger_video() -> bytes:
    """A 64x64, 24-frame synthetic clip (more packets and frames than the default 32x32 x 8)."""
    return TemporalBenchmark(seed=1, size=64, num_frames=24, fps=8.0).sample("train", 3).video


@pytest.mark.timeout(240)
def test_the_decoder_returns_frames_or_a_bad_sample_reason_for_any_bytes(good_samples, processor):
    rng = np.random.default_rng(SEED)
    inputs = fuzz_inputs([good_samples[0][1]["mp4"], larger_video()], rng)
    outcomes: dict[str, int] = {}
    slowest = 0.0
    for data in inputs:
        start = time.perf_counter()
        try:
            video = processor.decoder.read(data, UniformFrames(8))
            assert video.frames.shape[0] == 8
            outcome = "decoded"
        except BadSampleError as error:
            outcome = error.reason
        slowest = max(slowest, time.perf_counter() - start)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == RANDOM_INPUTS + MUTATED_INPUTS
    assert set(outcomes) - {"decoded"} <= set(SKIP_REASONS)
    assert outcomes.get("decoded", 0) > 0  # the mutations reach both sides
    assert len(outcomes) > 3
    assert slowest < 30, slowest  # a single input never takes long (the timeout is the hard bound)


@pytest.mark.timeout(240)
def test_fuzzed_shard_samples_are_each_yielded_or_counted(tmp_path, good_samples, processor):
    rng = np.random.default_rng(SEED + 1)
    members = good_samples[0][1]
    videos = fuzz_inputs([members["mp4"]], rng)[:60]
    records = [mutate(members["json"], rng) if i % 3 == 0 else members["json"] for i in range(len(videos))]
    samples = [(f"fuzz-{i:04d}", {"mp4": v, "json": r}) for i, (v, r) in enumerate(zip(videos, records, strict=True))]
    yielded, skipped, ended = run_epoch(write_shards(tmp_path, samples, per_shard=16), processor)
    assert len(yielded) + sum(skipped.values()) == len(samples)
    assert ended == [(0, skipped)]
    assert len(yielded) > 0
    assert sum(skipped.values()) > 0


def json_values(rng: np.random.Generator, depth: int = 0):
    """A random JSON value (bounded depth)."""
    kind = int(rng.integers(8 if depth < 3 else 5))
    if kind == 0:
        return None
    if kind == 1:
        return bool(rng.integers(2))
    if kind == 2:
        return int(rng.integers(-(2**40), 2**40))
    if kind == 3:
        return float(rng.normal()) * 1e6
    if kind == 4:
        return "".join(chr(int(c)) for c in rng.integers(1, 0x2FFF, size=int(rng.integers(0, 40))))
    if kind == 5:
        return [json_values(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    keys = ["id", "video", "conversations", "from", "value", "data_source", "x"]
    return {keys[int(rng.integers(len(keys)))]: json_values(rng, depth + 1) for _ in range(int(rng.integers(0, 5)))}


@pytest.mark.timeout(120)
def test_the_annotation_parser_returns_a_record_or_a_reason_for_any_input(good_samples):
    rng = np.random.default_rng(SEED + 2)
    raw = good_samples[0][1]["json"]
    structured = json.loads(raw)
    outcomes: dict[str, int] = {}
    for i in range(600):
        try:
            if i % 3 == 0:  # one field of a real record replaced by a random JSON value
                field = list(structured)[int(rng.integers(len(structured)))]
                parse_record(structured | {field: json_values(rng)})
            elif i % 3 == 1:  # any JSON value
                parse_record(json_values(rng))
            else:  # mutated bytes of a real record
                parse_record_bytes(mutate(raw, rng))
            outcome = "parsed"
        except BadSampleError as error:
            outcome = error.reason
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert sum(outcomes.values()) == 600
    assert set(outcomes) - {"parsed"} <= set(SKIP_REASONS)
    assert outcomes.get("parsed", 0) > 0
    assert outcomes.get("bad_json", 0) > 0


@pytest.mark.timeout(120)
def test_a_fuzzed_annotation_file_accounts_for_every_line(tmp_path, good_samples):
    rng = np.random.default_rng(SEED + 3)
    root = tmp_path / "videos"
    root.mkdir()
    (root / "train-000000.mp4").write_bytes(good_samples[0][1]["mp4"])
    record = json.loads(good_samples[0][1]["json"]) | {"video": "train-000000.mp4"}
    good = json.dumps(record).encode()
    lines = [good if i % 4 == 0 else mutate(good, rng) for i in range(200)]
    annotations = tmp_path / "fuzz.jsonl"
    annotations.write_bytes(b"\n".join(lines) + b"\n")
    expected = sum(1 for chunk in annotations.read_bytes().split(b"\n") if chunk.strip())  # lines as files split them
    manifest = convert_annotations(annotations, root, tmp_path / "out", progress=False)
    assert manifest.samples_written + sum(manifest.skipped.values()) == expected
    assert manifest.samples_written >= 50  # the unmutated quarter at least
