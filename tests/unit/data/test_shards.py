"""Shards: written deterministically, read back as bytes, bad shards reported, URLs expanded."""

import io
import json
import pickle
import tarfile
from pathlib import Path

import pytest

from tests.unit.data.conftest import record, write_samples
from videolmm.data import ShardReader, ShardWriter, expand_urls, read_shard
from videolmm.data.shards import split_member_name


def test_round_trip_keeps_keys_members_and_order(tmp_path):
    samples = [(f"k{i}", {"mp4": bytes([i]) * 10, "json": b'{"i": %d}' % i}) for i in range(5)]
    urls = write_samples(tmp_path, samples, per_shard=2)
    assert [u.rsplit("/", 1)[1] for u in urls] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    read = [raw for url in urls for raw in read_shard(url)]
    assert [(r.key, dict(r.members)) for r in read] == samples
    assert all(r.error is None for r in read)


def test_same_samples_give_the_same_bytes(tmp_path):
    samples = [("a", {"json": b"{}", "mp4": b"123"})]
    first = write_samples(tmp_path / "one", samples)[0]
    second = write_samples(tmp_path / "two", samples)[0]
    assert Path(first).read_bytes() == Path(second).read_bytes()


def test_a_truncated_shard_yields_its_good_samples_then_one_error(tmp_path):
    samples = [(f"k{i}", {"mp4": b"v" * 3000, "json": b"{}"}) for i in range(4)]
    url = write_samples(tmp_path, samples)[0]
    with tarfile.open(url) as tar:
        cut = tar.getmember("k2.mp4").offset_data + 100  # inside the third video
    Path(url).write_bytes(Path(url).read_bytes()[:cut])
    read = list(read_shard(url))
    assert [r.key for r in read[:-1]] == ["k0", "k1"]
    assert read[-1].error is not None
    assert read[-1].error.reason == "bad_shard"


def test_a_missing_shard_is_a_bad_shard(tmp_path):
    (raw,) = read_shard(str(tmp_path / "none.tar"))
    assert raw.error.reason == "bad_shard"


def test_metadata_members_and_directories_are_ignored(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("__meta__.json", b"{}"), ("d/x.json", b"1"), ("d/x.mp4", b"2"), ("noext", b"3")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (tmp_path / "s.tar").write_bytes(buffer.getvalue())
    assert [(r.key, dict(r.members)) for r in read_shard(str(tmp_path / "s.tar"))] == [
        ("d/x", {"json": b"1", "mp4": b"2"})
    ]


def test_member_names_split_at_the_first_dot_of_the_file_name():
    assert split_member_name("a/b.c/key.seg.JSON") == ("a/b.c/key", "seg.json")


def test_brace_patterns_and_lists_expand():
    assert expand_urls("s-{000..002}.tar") == ["s-000.tar", "s-001.tar", "s-002.tar"]
    assert expand_urls(["a.tar", "b-{1..2}.tar"]) == ["a.tar", "b-1.tar", "b-2.tar"]
    with pytest.raises(ValueError, match="no shards"):
        expand_urls([])


def test_writer_refuses_keys_with_dots_and_non_bytes(tmp_path):
    with ShardWriter(tmp_path) as writer:
        with pytest.raises(ValueError, match="keys"):
            writer.write("a.b", {"json": b"{}"})
        with pytest.raises(ValueError, match="bytes"):
            writer.write("a", {"json": {"not": "bytes"}})


class _CreatesAFile:
    """Unpickling this object creates ``path``: proof that something unpickled it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_pickled_members_are_never_unpickled(tmp_path, processor, small_video):
    marker = tmp_path / "unpickled"
    payload = pickle.dumps(_CreatesAFile(marker))
    members = {"mp4": small_video, "json": json.dumps(record("k")).encode(), "pyd": payload, "pickle": payload}
    urls = write_samples(tmp_path / "shards", [("k", members)])
    (raw,) = read_shard(urls[0])
    assert raw.members["pyd"] == payload  # raw bytes
    items = list(ShardReader(urls, processor, strict=True))
    assert [item.sample.key for item in items] == ["k"]
    assert not marker.exists()
