"""``videolmm-prepare`` on hostile annotations: paths leaving ``video_root`` (``..``, absolute, symlinks),
ids that look like paths, huge and empty strings, bytes that are not UTF-8, JSON built to crash a parser,
a FIFO that would block a reader. Nothing is read or written outside the two folders; each hostile
record is skipped with its reason; the good ones (and videos with odd extensions) become readable shards.

The second test runs the installed console script with a Python audit hook (``sys.addaudithook``, from
a ``sitecustomize`` on ``PYTHONPATH``) that logs every file the process opens.
"""

import ast
import json
import os
import re
import tarfile
from pathlib import Path

import pytest

from tests.conftest import console_script
from tests.reliability.conftest import run_process
from videolmm.data import ShardReader, convert_annotations

HUGE = 5_000


def record(key: str, video: str, question: str = "<image>\nWhat moves?") -> dict:
    """A LLaVA-Video-178K record."""
    conversations = [{"from": "human", "value": question}, {"from": "gpt", "value": "The square."}]
    return {"id": key, "video": video, "conversations": conversations, "data_source": "hostile"}


def line(value) -> bytes:
    """One JSON-lines line."""
    return json.dumps(value).encode() + b"\n"


@pytest.fixture
def hostile(tmp_path, good_samples) -> tuple[Path, Path, Path, dict[str, int], int]:
    """``(annotations, video_root, outside, expected skips, expected written)`` in a fresh folder tree."""
    root, outside = tmp_path / "videos", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    video = good_samples[0][1]["mp4"]
    for name in ("good.mp4", "sub/clip.mp4", "clip.json", "clip.flv"):
        (root / name).write_bytes(video)
    (outside / "secret.mp4").write_bytes(video)
    (root / "link_out.mp4").symlink_to(outside / "secret.mp4")
    (root / "linkdir").symlink_to(outside)
    (root / "inside_link.mp4").symlink_to(root / "good.mp4")
    os.mkfifo(root / "pipe.mp4")  # opening it for reading would block forever
    lines = [
        line(record("good", "good.mp4")),
        line(record("dotdot", "../outside/secret.mp4")),
        line(record("absolute", str(outside / "secret.mp4"))),
        line(record("device", "/dev/zero")),
        line(record("symlink-file", "link_out.mp4")),
        line(record("symlink-dir", "linkdir/secret.mp4")),
        line(record("dotdot-via-sub", "sub/../../outside/secret.mp4")),
        line(record("../../../../tmp/evil-key", "sub/clip.mp4")),  # an id that looks like a path: written
        line(record("/etc/passwd", "inside_link.mp4")),  # a symlink that stays inside: written
        line(record("empty-video", "")),
        line(record("huge-video", "a" * HUGE + ".mp4")),
        line(record("nul", "good.mp4\x00.txt")),
        line(record("fifo", "pipe.mp4")),
        line(record("the-root-itself", ".")),
        line(record("empty-id-huge-question", "good.mp4", "<video>\n" + "why? " * 200_000) | {"id": ""}),
        b'{"id": "latin-1 \xe9", "video": "good.mp4", "conversations": []}\n',
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b'{"id": ' + b"9" * 10_000 + b"}\n",
        line(record("odd-extension-json", "clip.json")),
        line(record("odd-extension-flv", "clip.flv")),
        line(["not", "a", "record"]),
    ]
    annotations = tmp_path / "annotations.jsonl"
    annotations.write_bytes(b"".join(lines))
    skipped = {"bad_json": 4, "missing_field": 1, "outside_root": 6, "missing_video": 4}
    return annotations, root, outside, skipped, 6


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of everything under ``folder`` (symlinks not followed)."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def check_output(out: Path, written: int, processor) -> None:
    """Only shards and the manifest in ``out``; member names are positions; every sample reads back."""
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "shard-000000.tar"]
    with tarfile.open(out / "shard-000000.tar") as tar:
        names = tar.getnames()
    assert all(re.fullmatch(r"\d{9}\.(json|mp4)", name) for name in names), names
    items = list(ShardReader(str(out / "shard-000000.tar"), processor, shuffle_shards=False))
    assert len(items) == written - 1  # the record with a 1 MB question is written; training skips it (too_long)


def test_hostile_records_are_skipped_by_reason_and_nothing_outside_is_touched(tmp_path, hostile, processor):
    annotations, root, outside, skipped, written = hostile
    before_outside, before_root = snapshot(outside), snapshot(root)
    manifest = convert_annotations(annotations, root, tmp_path / "out", progress=False)
    assert manifest.skipped == skipped
    assert manifest.samples_written == written
    assert sum(skipped.values()) + written == 21  # every line accounted for
    assert snapshot(outside) == before_outside
    assert snapshot(root) == before_root
    check_output(tmp_path / "out", written, processor)
    examples = json.loads((tmp_path / "out" / "manifest.json").read_text())["skipped_examples"]
    reasons = {example["key"].split(" ")[0]: example["reason"] for example in examples}
    assert reasons["000000001"] == reasons["000000004"] == reasons["000000005"] == "outside_root"
    assert reasons["000000010"] == reasons["000000011"] == reasons["000000012"] == "missing_video"


AUDIT = """
import os, sys
_log = os.open(os.environ["AUDIT_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
def _hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        os.write(_log, ("%r\\t%r\\t%r\\n" % (os.fsdecode(args[0]), args[1], args[2])).encode())
sys.addaudithook(_hook)
"""

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def opened(log: Path, cwd: Path) -> tuple[list[str], list[str]]:
    """``(every path opened, the paths opened for writing)`` from the audit log, made absolute."""
    paths, writes = [], []
    for entry in log.read_text().splitlines():
        path, mode, flags = (ast.literal_eval(part) for part in entry.split("\t"))
        path = os.path.normpath(os.path.join(cwd, path))
        paths.append(path)
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & WRITE_FLAGS:
            writes.append(path)
    return paths, writes


def test_the_console_script_opens_nothing_outside_and_writes_only_the_output(tmp_path, hostile, processor):
    annotations, root, outside, _, written = hostile
    hooks, cwd, out = tmp_path / "hooks", tmp_path / "cwd", tmp_path / "out"
    hooks.mkdir()
    cwd.mkdir()
    (hooks / "sitecustomize.py").write_text(AUDIT)
    log = tmp_path / "audit.log"
    command = [
        console_script("videolmm-prepare", skip_missing=True),
        f"annotations={annotations}",
        f"video_root={root}",
        f"output={out}",
    ]
    scratch = tmp_path / "scratch"  # the process's TMPDIR: tempfile.gettempdir() probes it with a file it removes
    scratch.mkdir()
    env = {
        "AUDIT_LOG": str(log),
        "PYTHONPATH": f"{hooks}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "TMPDIR": str(scratch),
    }
    done = run_process([*command, "progress=false"], cwd, env={**env, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    paths, writes = opened(log, cwd)
    assert any(p == str(annotations) for p in paths)  # the hook saw the run
    assert [p for p in paths if p.startswith(str(outside)) or p.startswith("/dev/zero")] == []
    assert list(scratch.iterdir()) == []  # temporary probes only, nothing left behind
    writes = [w for w in writes if not w.startswith(str(scratch) + os.sep)]
    assert sorted(set(writes) - {str(log), os.devnull}) == [str(out / "manifest.json"), str(out / "shard-000000.tar")]
    assert list(cwd.iterdir()) == []
    check_output(out, written, processor)
    assert f"wrote {written} samples" in done.stdout


def test_a_json_list_with_bytes_that_are_not_utf8_loses_only_those_records(tmp_path, good_samples):
    root = tmp_path / "videos"
    root.mkdir()
    (root / "good.mp4").write_bytes(good_samples[0][1]["mp4"])
    good = json.dumps(record("good", "good.mp4")).encode()
    bad = json.dumps(record("bad-PLACEHOLDER", "good.mp4")).encode().replace(b"PLACEHOLDER", b"\xff\xfe")
    annotations = tmp_path / "annotations.json"
    annotations.write_bytes(b"[" + b", ".join([good, bad, good]) + b"]")
    manifest = convert_annotations(annotations, root, tmp_path / "out", progress=False)
    assert manifest.samples_written == 2
    assert manifest.skipped == {"bad_json": 1}
    assert manifest.extra["skipped_examples"][0]["detail"] == "record 1 holds text that is not UTF-8"
