"""Reading and writing weight files: safetensors (single or sharded), or ``torch.load(weights_only=True)``.

Nothing here executes code from a file: safetensors holds raw tensors, and ``.bin`` files are
opened only with ``weights_only=True``.
"""

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

SAFETENSORS_FILE = "model.safetensors"
SAFETENSORS_INDEX = "model.safetensors.index.json"
TORCH_FILE = "pytorch_model.bin"
TORCH_INDEX = "pytorch_model.bin.index.json"


def _shards(directory: Path, index_name: str) -> list[Path]:
    index = json.loads((directory / index_name).read_text())
    return [directory / name for name in dict.fromkeys(index["weight_map"].values())]


def read_weights(path: str | Path) -> dict[str, Tensor]:
    """All tensors of a checkpoint directory (or of one weight file), on the CPU.

    Looks for, in order: ``model.safetensors.index.json`` (sharded), ``model.safetensors``,
    ``pytorch_model.bin.index.json``, ``pytorch_model.bin``.

    Raises:
        FileNotFoundError: None of them exists.
    """
    path = Path(path)
    if path.is_file():
        files = [path]
    elif (path / SAFETENSORS_INDEX).exists():
        files = _shards(path, SAFETENSORS_INDEX)
    elif (path / SAFETENSORS_FILE).exists():
        files = [path / SAFETENSORS_FILE]
    elif (path / TORCH_INDEX).exists():
        files = _shards(path, TORCH_INDEX)
    elif (path / TORCH_FILE).exists():
        files = [path / TORCH_FILE]
    else:
        found = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
        raise FileNotFoundError(f"no {SAFETENSORS_FILE}, {SAFETENSORS_INDEX} or {TORCH_FILE} in {path}; found {found}")
    state: dict[str, Tensor] = {}
    for file in files:
        if file.suffix == ".safetensors":
            state.update(load_file(file, device="cpu"))
        else:
            state.update(torch.load(file, map_location="cpu", weights_only=True))
    return state


def write_weights(directory: str | Path, state: dict[str, Tensor], max_shard_bytes: int = 5 * 2**30) -> None:
    """Write ``state`` as ``model.safetensors``, or as shards plus an index above ``max_shard_bytes``.

    Tensors must not share memory (drop tied aliases first).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shards: list[dict[str, Tensor]] = [{}]
    size = 0
    for key in sorted(state):
        tensor = state[key].detach().contiguous().cpu()
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append({})
            size = 0
        shards[-1][key] = tensor
        size += nbytes
    metadata = {"format": "pt"}
    if len(shards) == 1:
        save_file(shards[0], directory / SAFETENSORS_FILE, metadata=metadata)
        return
    weight_map = {}
    for i, shard in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, directory / name, metadata=metadata)
        weight_map.update(dict.fromkeys(shard, name))
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (directory / SAFETENSORS_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True))
