"""Damaged shards: a truncated tar, a corrupted member header or body, a missing shard, members that are
not video. Each is skipped and counted (or stops a strict run with the reason); the epoch completes;
the counts are exact.

Three shards of four real synthetic samples each (``good-000000`` ... ``good-000011``, members
``.json`` then ``.mp4``) are read in order by the real reader and loader; only their bytes are damaged.
A shard that fails is one ``bad_shard`` skip: the samples before the failure are yielded, the sample
being assembled and everything after it in that shard are dropped with it.
"""

import io
import tarfile
import wave
from pathlib import Path

import pytest

from tests.reliability.conftest import run_epoch, write_shards
from videolmm.data import BadSampleError

PER_SHARD = 4


def keys(indices) -> list[str]:
    """Sample keys of the given sample numbers."""
    return [f"good-{i:06d}" for i in indices]


@pytest.fixture
def shards(tmp_path, good_samples) -> list[Path]:
    """Three intact shards: samples 0-3, 4-7, 8-11."""
    return write_shards(tmp_path / "shards", good_samples, PER_SHARD)


def member_offsets(shard: Path) -> dict[str, int]:
    """Header offset of every member (``good-000005.mp4`` -> byte), and ``"end"``: where the data stops."""
    with tarfile.open(shard) as tar:
        members = tar.getmembers()
        offsets = {m.name: m.offset for m in members}
        offsets["end"] = members[-1].offset_data + -(-members[-1].size // 512) * 512
    return offsets


def cut(shard: Path, at: int) -> None:
    """Truncate ``shard`` to ``at`` bytes."""
    shard.write_bytes(shard.read_bytes()[:at])


TRUNCATIONS = {
    # where the middle shard (samples 4-7) is cut -> the samples of it that are still yielded
    "at a member boundary (no header follows)": (lambda o: o["good-000006.json"], [4]),
    "inside a member header": (lambda o: o["good-000006.json"] + 100, [4]),
    "inside a video's bytes": (lambda o: o["good-000005.mp4"] + 700, [4]),
    "after the last member, before the end-of-archive blocks": (lambda o: o["end"], [4, 5, 6]),
}


@pytest.mark.parametrize("where", TRUNCATIONS)
def test_a_truncated_shard_is_one_counted_skip_and_the_epoch_completes(shards, processor, where):
    position, kept = TRUNCATIONS[where]
    cut(shards[1], position(member_offsets(shards[1])))
    yielded, skipped, ended = run_epoch(shards, processor)
    assert yielded == keys([0, 1, 2, 3, *kept, 8, 9, 10, 11])
    assert skipped == {"bad_shard": 1}
    assert ended == [(0, {"bad_shard": 1})]


def test_a_shard_cut_inside_its_end_of_archive_padding_is_complete(shards, processor):
    cut(shards[1], shards[1].stat().st_size - 512)  # the first zero block is still there
    yielded, skipped, _ = run_epoch(shards, processor)
    assert yielded == keys(range(12))
    assert skipped == {}


def test_a_corrupted_member_header_is_one_counted_skip(shards, processor):
    data = bytearray(shards[1].read_bytes())
    data[member_offsets(shards[1])["good-000006.json"] + 3] ^= 0x55  # a byte of the member name: bad checksum
    shards[1].write_bytes(bytes(data))
    yielded, skipped, _ = run_epoch(shards, processor)
    assert yielded == keys([0, 1, 2, 3, 4, 8, 9, 10, 11])
    assert skipped == {"bad_shard": 1}


def test_corrupted_member_bodies_skip_only_their_samples(tmp_path, good_samples, processor):
    samples = [(key, dict(members)) for key, members in good_samples]
    samples[5][1]["mp4"] = b"\0" * 64 + samples[5][1]["mp4"][64:]  # container header destroyed
    samples[6][1]["json"] = samples[6][1]["json"][:-20] + b"\xff\xfe garbage"  # record cut and not UTF-8
    samples[7][1]["mp4"] = samples[7][1]["mp4"][:300]  # video cut short inside the shard
    urls = write_shards(tmp_path, samples, PER_SHARD)
    yielded, skipped, ended = run_epoch(urls, processor)
    assert yielded == keys([0, 1, 2, 3, 4, 8, 9, 10, 11])
    assert skipped == {"bad_json": 1, "unreadable_video": 2}
    assert ended == [(0, skipped)]


def test_a_missing_shard_is_one_counted_skip_or_a_strict_error(shards, processor, tmp_path):
    urls = [shards[0], tmp_path / "gone" / "shard-000099.tar", shards[2]]
    yielded, skipped, _ = run_epoch(urls, processor)
    assert yielded == keys([0, 1, 2, 3, 8, 9, 10, 11])
    assert skipped == {"bad_shard": 1}
    with pytest.raises(BadSampleError, match=r"bad_shard: .*shard-000099\.tar") as stopped:
        run_epoch(urls, processor, strict=True)
    assert stopped.value.reason == "bad_shard"


def test_shards_that_are_not_tar_files_are_counted(shards, processor):
    shards[0].write_bytes(b"")
    shards[1].write_bytes(b"this is a text file, not a tar archive\n" * 40)
    yielded, skipped, _ = run_epoch(shards, processor)
    assert yielded == keys([8, 9, 10, 11])
    assert skipped == {"bad_shard": 2}


def wav_bytes() -> bytes:
    """A real WAV file: audio only, no video stream."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000)
    return buffer.getvalue()


PNG_START = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\0" * 40
"""The start of a PNG: FFmpeg opens it as a one-image stream, whose decoding then fails."""


def test_members_that_are_not_video_are_skipped_by_reason(tmp_path, good_samples, processor):
    samples = [(key, dict(members)) for key, members in good_samples[:8]]
    samples[1][1]["mp4"] = wav_bytes()  # a container without a video stream
    samples[2][1]["mp4"] = PNG_START  # a (cut) image under a video extension
    samples[3][1]["mp4"] = b"#!/bin/sh\necho hello\n"  # a script
    samples[4][1]["txt"] = samples[4][1].pop("mp4")  # the video under an extension that is not a video's
    samples[5][1]["mp4"] = b""  # nothing
    urls = write_shards(tmp_path, samples, PER_SHARD)
    yielded, skipped, _ = run_epoch(urls, processor)
    assert yielded == keys([0, 6, 7])
    assert skipped == {
        "missing_video": 1,
        "empty_video": 1,
        "unreadable_video": 1,
        "no_video_stream": 1,
        "corrupt_video": 1,
    }


def test_strict_mode_stops_at_the_first_bad_sample_with_its_key_and_reason(tmp_path, good_samples, processor):
    samples = [(key, dict(members)) for key, members in good_samples[:4]]
    samples[2][1]["mp4"] = b"not a video" * 10
    urls = write_shards(tmp_path, samples, PER_SHARD)
    with pytest.raises(BadSampleError, match="sample 'good-000002': unreadable_video") as stopped:
        run_epoch(urls, processor, strict=True)
    assert stopped.value.key == "good-000002"


def test_an_epoch_in_which_every_sample_is_refused_stops_with_the_counts_instead_of_repeating(
    tmp_path, good_samples, processor
):
    samples = [(key, {**members, "mp4": b"not a video"}) for key, members in good_samples[:6]]
    urls = write_shards(tmp_path, samples, PER_SHARD)
    with pytest.raises(ValueError, match=r"epoch 0 yielded no batch: 6 samples skipped \(unreadable_video 6\)"):
        run_epoch(urls, processor)


@pytest.mark.slow
def test_training_on_data_that_is_all_refused_stops_instead_of_looping(tmp_path, data_root):
    # a reducer that cannot pool the 7x7 grid makes every sample a processing_error; Lightning's
    # max_epochs=-1 used to run empty epochs forever here (start-up validation now catches the config too)
    from tests.reliability.conftest import train_config
    from videolmm.training.assembly import fit

    with pytest.raises(ValueError, match=r"yielded no batch: 48 samples skipped \(processing_error 48\)"):
        fit(train_config(tmp_path / "run", data_root, "reducer.stride=8", "trainer.max_steps=1"))


def test_records_built_to_crash_a_json_parser_are_bad_json_not_processing_errors(tmp_path, good_samples, processor):
    samples = [(key, dict(members)) for key, members in good_samples[:4]]
    samples[1][1]["json"] = b"[" * 100_000 + b"]" * 100_000  # nesting deeper than the recursion limit
    samples[2][1]["json"] = b'{"id": ' + b"7" * 10_000 + b"}"  # an integer over Python's 4300-digit limit
    urls = write_shards(tmp_path, samples, PER_SHARD)
    yielded, skipped, _ = run_epoch(urls, processor)
    assert yielded == keys([0, 3])
    assert skipped == {"bad_json": 2}
