"""Shared set-up of the fault-injection suite: real synthetic samples, a real processor, tiny train configs.

Nothing here stands in for a component under test: samples are the synthetic benchmark's real mp4s
and records, the processor is the one the default train config builds, and train runs use the real
``videolmm-train`` composition with small overrides.
"""

import json
import subprocess
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module

from tests.conftest import run_command
from videolmm.data import (
    ChatTemplate,
    PyAVDecoder,
    ResumableLoader,
    SampleProcessor,
    ShardReader,
    ShardWriter,
    SiglipTransform,
    SyntheticShards,
    TemporalBenchmark,
    UniformFrames,
    VideoCollator,
    VisualBudget,
    synthetic_tokenizer,
)
from videolmm.reducers import SpatialPool

HERE = Path(__file__).parent
REPO = HERE.parent.parent
FAULT_TRAIN = HERE / "fault_train.py"
"""The subprocess wrapper that runs videolmm-train's ``main`` with one injected fault."""

TRAIN_STEPS, EVERY = 6, 3
"""Tiny runs: 6 optimizer steps, a checkpoint every 3 (step-0000003, step-0000006, last)."""


def data_overrides(data_root: Path) -> list[str]:
    """Small synthetic splits under ``data_root`` (generated once per session)."""
    return [
        f"data.shards.root={data_root}",
        "data.shards.train=48",
        "data.shards.val=4",
        "data.shards.test=4",
        "data.shards.samples_per_shard=8",
        "data.batch_size=4",
        "data.shuffle_buffer=8",
    ]


def train_overrides(run_dir: Path, data_root: Path, *extra: str) -> list[str]:
    """The overrides of a tiny CPU run of ``videolmm-train`` (no scoring at the end)."""
    return [
        f"run_dir={run_dir}",
        *data_overrides(data_root),
        f"trainer.max_steps={TRAIN_STEPS}",
        "trainer.log_every_n_steps=1",
        "trainer.enable_progress_bar=false",
        f"checkpoint.every_n_train_steps={EVERY}",
        "log.throughput_window=2",
        "evaluate.split=null",
        *extra,
    ]


def train_config(run_dir: Path, data_root: Path, *extra: str):
    """The composed ``train`` config of `train_overrides`."""
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(config_name="train", overrides=train_overrides(run_dir, data_root, *extra))


def run_process(
    command: list[str], cwd: Path, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`run_command` with the repository on ``PYTHONPATH`` (plus ``env``)."""
    return run_command(command, cwd=cwd, env={"PYTHONPATH": str(REPO), **(env or {})}, timeout=timeout)


def model_state(checkpoint: Path) -> dict[str, torch.Tensor]:
    """The LightningModule state dict of a checkpoint, read weights-only."""
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]


def assert_same_weights(a: Path, b: Path) -> None:
    """The two checkpoints hold the same model weights (CPU, same order of operations: within 1e-6)."""
    first, second = model_state(a), model_state(b)
    assert sorted(first) == sorted(second)
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=0, atol=1e-6, msg=name)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """The tiny train config's synthetic shards, generated once for the whole suite."""
    root = tmp_path_factory.mktemp("synthetic")
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="train", overrides=data_overrides(root))
    from hydra.utils import instantiate

    shards: SyntheticShards = instantiate(cfg.data.shards)
    shards.prepare()
    return root


@pytest.fixture(scope="session")
def benchmark() -> TemporalBenchmark:
    """The default config's benchmark (32x32, 8 frames)."""
    return TemporalBenchmark(seed=0, size=32, num_frames=8, fps=4.0)


@pytest.fixture(scope="session")
def good_samples(benchmark) -> list[tuple[str, dict[str, bytes]]]:
    """12 real synthetic samples as shard members (``{"json", "mp4"}``), keys ``good-000000`` ..."""
    samples = []
    for i in range(12):
        sample = benchmark.sample("train", i)
        samples.append((f"good-{i:06d}", {"mp4": sample.video, "json": json.dumps(sample.record).encode()}))
    return samples


@pytest.fixture(scope="session")
def processor() -> SampleProcessor:
    """The processor the default train config builds: 8 frames at 28 px, 7x7 grid pooled 2x2, max_length 4096."""
    chat = ChatTemplate(synthetic_tokenizer(), max_length=4096)
    budget = VisualBudget(SpatialPool(stride=2), None, (7, 7))
    return SampleProcessor(PyAVDecoder(), UniformFrames(8), SiglipTransform(28), chat, budget)


def write_shards(folder: Path, samples: list[tuple[str, dict[str, bytes]]], per_shard: int) -> list[Path]:
    """Write ``samples`` with the real `ShardWriter`; returns the shard paths."""
    with ShardWriter(folder, per_shard) as writer:
        for key, members in samples:
            writer.write(key, members)
    return [folder / shard.name for shard in writer.shards]


def run_epoch(urls, processor, strict: bool = False, num_workers: int = 0) -> tuple[list[str], dict[str, int], list]:
    """One epoch through the real reader and loader: keys yielded, skips by reason, the epoch-end calls."""
    ended = []
    reader = ShardReader([str(u) for u in urls], processor, shuffle_shards=False, strict=strict)
    reader.set_distributed(0, 1)
    loader = ResumableLoader(
        reader,
        VideoCollator(processor.chat.im_end),
        batch_size=2,
        num_workers=num_workers,
        on_epoch_end=lambda epoch, counts: ended.append((epoch, counts)),
    )
    yielded = [key for batch in loader for key in batch["keys"]]
    return yielded, loader.skipped, ended
