"""Untrusted weights: a crafted pickle offered as pretrained weights or as a resume checkpoint is refused
without its payload running; outside weights enter as safetensors or GGUF; resume loads weights-only;
shards are never unpickled; the source never asks for code execution.

The payload writes a marker file when unpickled. A control test proves that it does run under a
plain unpickler, so that "the marker is absent" means the payload was refused, not that it was inert.
"""

import ast
import pickle
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from safetensors import SafetensorError

from tests.reliability.conftest import REPO, train_config, write_shards
from videolmm.checkpoint import gguf_config, load_llava_next, read_weights
from videolmm.data import ShardReader
from videolmm.eval.loading import load_state
from videolmm.model.build import build_model
from videolmm.training.assembly import MODEL_KEYS, build_datamodule, build_module, build_trainer, resume_checkpoint
from videolmm.training.checkpoints import AtomicCheckpointIO, CheckpointError, choose_resume_checkpoint

SRC = REPO / "src" / "videolmm"
UNSAFE_LOAD = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


class Payload:
    """Unpickling this runs ``exec``: it writes ``marker`` (a stand-in for any code an attacker wants)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('the payload ran')",)


@pytest.fixture
def marker(tmp_path) -> Path:
    """The file the payload would create; every test asserts it does not exist afterwards."""
    path = tmp_path / "PAYLOAD_RAN"
    yield path
    assert not path.exists(), "the pickle payload was executed"


def plain_pickle(path: Path, marker: Path) -> Path:
    """A plain (non-zip) pickle of a state dict carrying the payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"weight": torch.zeros(2), "extra": Payload(marker)}))
    return path


def torch_checkpoint(path: Path, marker: Path) -> Path:
    """A torch zip archive shaped like a Lightning checkpoint, with the payload inside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {"state_dict": {}, "global_step": 9, "loops": {}, "optimizer_states": [], "hparams": Payload(marker)}, path
    )
    return path


def good_checkpoint(path: Path, step: int) -> Path:
    """A minimal checkpoint that passes verification (no payload)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {}, "global_step": step, "loops": {}, "optimizer_states": []}, path)
    return path


def test_control_the_payload_runs_under_a_plain_unpickler(tmp_path):
    control = tmp_path / "CONTROL"
    pickle.loads(plain_pickle(tmp_path / "a.pkl", control).read_bytes())  # what must never happen in videolmm
    assert control.read_text() == "the payload ran"


def test_control_lightnings_own_io_runs_the_payload_when_the_environment_flips_torchs_default(tmp_path, monkeypatch):
    control = tmp_path / "CONTROL"
    monkeypatch.setenv(UNSAFE_LOAD, "1")
    TorchCheckpointIO().load_checkpoint(torch_checkpoint(tmp_path / "last.ckpt", control))  # weights_only=None
    assert control.exists()  # the gap AtomicCheckpointIO closes (it passes weights_only=True explicitly)


REFUSALS = {
    "pytorch_model.bin": (pickle.UnpicklingError, "Weights only load failed"),  # torch.load(weights_only=True)
    "model.safetensors": (SafetensorError, "header"),  # raw tensors only: a pickle is not a header
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_pickle_offered_as_pretrained_weights_is_refused(tmp_path, marker, name):
    folder = tmp_path / "pretrained"
    plain_pickle(folder / name, marker)
    error, message = REFUSALS[name]
    with pytest.raises(error, match=message):
        read_weights(folder)


def test_a_torch_archive_with_a_payload_offered_as_pretrained_weights_is_refused(tmp_path, marker):
    path = torch_checkpoint(tmp_path / "pretrained" / "pytorch_model.bin", marker)
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        read_weights(path)
    tiny = build_model(_model_config())
    with pytest.raises(pickle.UnpicklingError):
        load_llava_next(tiny, path.parent)  # the original-LLaVA loader reads through read_weights too
    with pytest.raises(pickle.UnpicklingError):
        load_state(tiny, path)  # videolmm-eval's checkpoint loader


def test_a_pickle_offered_as_a_gguf_file_is_refused(tmp_path, marker):
    path = plain_pickle(tmp_path / "model.gguf", marker)
    with pytest.raises(ValueError, match="GGUF magic invalid"):
        gguf_config(path)


def test_a_payload_checkpoint_as_last_ckpt_is_refused_and_resume_falls_back(tmp_path, marker, data_root, caplog):
    folder = tmp_path / "run" / "checkpoints"
    torch_checkpoint(folder / "last.ckpt", marker)
    good_checkpoint(folder / "step-0000003.ckpt", 3)
    with caplog.at_level("WARNING", logger="videolmm.train"):
        chosen = resume_checkpoint(train_config(tmp_path / "run", data_root, "resume=auto"))
    assert chosen == str(folder / "step-0000003.ckpt")
    (warning,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert str(folder / "last.ckpt") in warning
    assert "weights_only=True" in warning


@pytest.mark.parametrize("forge", [torch_checkpoint, plain_pickle])
def test_a_payload_checkpoint_given_explicitly_or_alone_is_refused(tmp_path, marker, data_root, forge):
    path = forge(tmp_path / "run" / "checkpoints" / "last.ckpt", marker)
    with pytest.raises(CheckpointError, match="weights_only=True"):
        resume_checkpoint(train_config(tmp_path / "run", data_root, f"resume={path}"))
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        choose_resume_checkpoint(path.parent)


def test_lightnings_resume_path_loads_weights_only_even_when_the_environment_asks_otherwise(
    tmp_path, marker, data_root, monkeypatch
):
    monkeypatch.setenv(UNSAFE_LOAD, "1")
    path = torch_checkpoint(tmp_path / "evil.ckpt", marker)
    with pytest.raises(ValueError, match="only with weights_only=True"):
        AtomicCheckpointIO().load_checkpoint(path, weights_only=False)
    cfg = train_config(tmp_path / "run", data_root)
    data, module, trainer = build_datamodule(cfg), build_module(cfg), build_trainer(cfg)
    with pytest.raises(CheckpointError, match="weights_only=True"):
        trainer.fit(module, datamodule=data, ckpt_path=str(path))  # bypasses resume_checkpoint on purpose
    with pytest.raises(RuntimeError, match=UNSAFE_LOAD):  # and resume refuses to run in such an environment
        resume_checkpoint(
            train_config(tmp_path / "run", data_root, f"resume={good_checkpoint(tmp_path / 'g.ckpt', 1)}")
        )


def test_shard_members_are_never_unpickled(tmp_path, marker, good_samples, processor):
    payload = pickle.dumps(Payload(marker))
    key, members = good_samples[0]
    hostile = {**members, "pyd": payload, "pickle": payload, "pth": payload}  # webdataset's decoders unpickle these
    (shard,) = write_shards(tmp_path, [(key, hostile)], per_shard=4)
    items = list(ShardReader(str(shard), processor, shuffle_shards=False))
    assert [item.sample.key for item in items] == [key]  # read as bytes, the video and record used, nothing run


def _model_config():
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="train")
    from omegaconf import OmegaConf

    return OmegaConf.masked_copy(cfg, list(MODEL_KEYS))


BANNED = ("trust_remote_code=True", "weights_only=False", "pickle.load", "allow_pickle=True", "unsafe_load")


def source_files() -> list[Path]:
    """Every Python file of the package."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50
    return files


def test_the_source_never_asks_for_code_execution():
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in source_files()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if any(banned in line for banned in BANNED)
    ]
    assert found == []


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def test_every_torch_load_in_the_source_passes_weights_only_true_and_no_trust_remote_code():
    unsafe = []
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if ast.unparse(node.func) == "torch.load":
                flag = _keyword(node, "weights_only")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    unsafe.append(f"{where}: torch.load without weights_only=True")
            remote = _keyword(node, "trust_remote_code")
            if remote is not None and not (isinstance(remote, ast.Constant) and remote.value is False):
                unsafe.append(f"{where}: trust_remote_code is not the constant False")
    assert unsafe == []
