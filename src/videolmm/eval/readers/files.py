"""Reading benchmark annotation files and locating their videos.

Annotation tables come as JSON (a list of objects), JSON Lines, CSV, or Parquet (the Hugging Face
releases; reading Parquet needs ``pyarrow``, which videolmm does not depend on: convert the file to
JSON Lines once, or install ``pyarrow``). Missing files raise `FileNotFoundError` naming the path
and what it should be.
"""

import csv
import json
from pathlib import Path
from typing import Any

VIDEO_EXTENSIONS: tuple[str, ...] = ("mp4", "MP4", "mkv", "webm", "avi", "mov")
"""Extensions tried, in order, for a video named without one."""


def require_file(path: str | Path, what: str) -> Path:
    """``path`` if it is a file, else `FileNotFoundError` saying what was expected there."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: expected a file at {path}")
    return path


def read_json(path: str | Path, what: str) -> Any:
    """The decoded JSON document at ``path``."""
    return json.loads(require_file(path, what).read_text(encoding="utf-8"))


def read_table(path: str | Path, what: str) -> list[dict[str, Any]]:
    """The rows of a ``.json`` list, ``.jsonl``, ``.csv`` or ``.parquet`` file as dicts.

    Raises:
        FileNotFoundError: No file at ``path``.
        ValueError: An unknown extension, or a JSON document that is not a list of objects.
        ImportError: A Parquet file without ``pyarrow`` installed.
    """
    path = require_file(path, what)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    elif suffix == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    elif suffix == ".parquet":
        rows = _read_parquet(path)
    else:
        raise ValueError(f"{what} {path}: unknown table format {suffix!r} (json, jsonl, csv or parquet)")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError(f"{what} {path} must be a list of objects")
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise ImportError(
            f"reading {path} needs pyarrow (not a videolmm dependency): install it, or convert the file to "
            "JSON Lines once with any Parquet reader"
        ) from error
    return pq.read_table(path).to_pylist()


def find_video(folder: Path, name: str) -> Path:
    """The video ``name`` in ``folder``: as given if it has an extension and exists, else the first
    of `VIDEO_EXTENSIONS` that exists, else ``folder / f"{name}.mp4"`` (reported missing when decoded)."""
    given = folder / name
    if given.suffix and given.is_file():
        return given
    stem = given.with_suffix("") if given.suffix.lstrip(".") in VIDEO_EXTENSIONS else given
    for extension in VIDEO_EXTENSIONS:
        candidate = stem.with_name(f"{stem.name}.{extension}")
        if candidate.is_file():
            return candidate
    return given if given.suffix else stem.with_name(f"{stem.name}.mp4")


def letter_of(index: Any, count: int, where: str) -> str:
    """The letter of option ``index`` (0-based, int or digit string) among ``count`` options."""
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: answer index {index!r} is not an integer") from None
    if not 0 <= position < count:
        raise ValueError(f"{where}: answer index {position} outside the {count} options")
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[position]
