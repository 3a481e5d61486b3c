"""Weight files: safetensors single and sharded, .bin only through weights_only=True."""

import json
import pickle

import pytest
import torch

from videolmm.checkpoint import read_weights, write_weights


def state() -> dict[str, torch.Tensor]:
    return {"a.weight": torch.randn(64, 64), "b.bias": torch.randn(64), "c": torch.arange(10)}


def test_single_file_round_trip(tmp_path):
    s = state()
    write_weights(tmp_path, s)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    back = read_weights(tmp_path)
    assert back.keys() == s.keys()
    assert all(torch.equal(back[k], v) for k, v in s.items())


def test_sharded_round_trip_writes_an_index(tmp_path):
    s = state()
    write_weights(tmp_path, s, max_shard_bytes=64 * 64 * 4)  # the 16 KiB matrix fills a shard
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert sorted(set(index["weight_map"].values())) == [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ]
    back = read_weights(tmp_path)
    assert all(torch.equal(back[k], v) for k, v in s.items())


def test_torch_files_load_tensors_but_refuse_pickled_code(tmp_path):
    torch.save(state(), tmp_path / "pytorch_model.bin")
    assert read_weights(tmp_path).keys() == state().keys()

    class Payload:
        def __reduce__(self):
            return (print, ("executed",))

    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "pytorch_model.bin").write_bytes(pickle.dumps({"x": Payload()}, protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        read_weights(tmp_path / "evil")


def test_missing_files_are_named(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"found \['config\.json'\]"):
        read_weights(tmp_path)
