"""The synthetic temporal benchmark: deterministic, answers true to the scene, blind to time averaging."""

import json
import re

import numpy as np
import pytest

from videolmm.data import ChatTemplate, PyAVDecoder, ShardReader, UniformFrames, parse_record
from videolmm.data.synthetic import (
    COLOURS,
    KINDS,
    Geometry,
    SyntheticShards,
    TemporalBenchmark,
    blink_pattern,
    synthetic_tokenizer,
)

G = Geometry(size=32, side=11, num_frames=8, difficulty=0.0)


def questions(kind: str, count: int = 60, geometry: Geometry = G):
    return [KINDS[kind].build(np.random.default_rng([7, i]), geometry) for i in range(count)]


def test_same_seed_same_bytes_other_seed_other_videos():
    a, b = TemporalBenchmark(seed=3).sample("train", 5), TemporalBenchmark(seed=3).sample("train", 5)
    assert a.video == b.video
    assert a.record == b.record
    assert TemporalBenchmark(seed=4).sample("train", 5).video != a.video
    assert TemporalBenchmark(seed=3).sample("val", 5).video != a.video  # splits draw from other streams


def test_kinds_cycle_and_map_to_llava_video_question_types():
    bench = TemporalBenchmark()
    records = [bench.sample("test", i).record for i in range(len(KINDS))]
    assert [r["kind"] for r in records] == list(KINDS)
    assert {r["kind"]: r["question_type"] for r in records} == {
        "direction": "Object Direction",
        "speed": "Speed",
        "order": "Time Order Understanding",
        "count": "Count",
        "when": "Temporal",
        "colour": "Description-Object",
        "shape": "Description-Object",
        "position": "Spatial",
    }
    assert [r["temporal"] for r in records] == [True] * 5 + [False] * 3


def test_direction_answers_follow_the_track():
    for q in questions("direction"):
        start, end = q.objects[-1].track[0], q.objects[-1].track[-1]
        dx, dy = end - start
        moved = {"left": -dx, "right": dx, "up": -dy, "down": dy}[q.answer]
        assert moved >= 0.6 * G.span - 1e-9


def test_speed_the_fast_object_travels_further_over_streaks_of_the_same_extent():
    ratios, extents = [], {"fast": [], "slow": []}
    for q in questions("speed", 200):
        fast = next(o for o in q.objects if f"the {o.name}" == q.answer)
        slow = next(o for o in q.objects if f"the {o.name}" != q.answer)
        ratios.append(np.abs(np.diff(fast.track[:, 0])).sum() / np.abs(np.diff(slow.track[:, 0])).sum())
        extents["fast"].append(np.ptp(fast.track[:, 0]))
        extents["slow"].append(np.ptp(slow.track[:, 0]))
    assert min(ratios) > 1.25
    assert np.median(ratios) == pytest.approx(1.55, abs=0.1)
    assert np.mean(extents["fast"]) == pytest.approx(np.mean(extents["slow"]), rel=0.05)  # the time average is blind


def test_order_objects_show_for_equal_disjoint_windows():
    for q in questions("order"):
        windows = [np.flatnonzero(o.visible) for o in q.objects]
        assert len({len(w) for w in windows}) == 1
        starts = {f"the {o.name}": w[0] for o, w in zip(q.objects, windows, strict=True)}
        pick = max if q.text.endswith("last?") else min
        assert q.answer == pick(starts, key=starts.get)
        assert len(np.unique(np.concatenate(windows))) == sum(len(w) for w in windows)


@pytest.mark.parametrize("times", [1, 2, 3, 4])
def test_blinks_are_separate_bursts_covering_half_the_frames(times):
    for seed in range(20):
        pattern = blink_pattern(np.random.default_rng(seed), 8, times)
        bursts = np.count_nonzero(np.diff(np.concatenate([[0], pattern.astype(int)])) == 1)
        assert bursts == times
        assert pattern.sum() == 4  # the time average is the same whatever the count


def test_count_and_when_answers_match_visibility_with_equal_exposure():
    for q in questions("count"):
        visible = q.objects[-1].visible.astype(int)
        assert np.count_nonzero(np.diff(np.concatenate([[0], visible])) == 1) == int(q.answer)
        assert visible.sum() == G.num_frames // 2
    for q in questions("when"):
        frames = np.flatnonzero(q.objects[-1].visible)
        assert len(frames) == G.num_frames // 3
        assert q.answer == ("beginning", "middle", "end")[int(frames.mean() // (G.num_frames / 3))]


def test_control_objects_are_static_and_unique_in_what_is_asked():
    hard = Geometry(32, 11, 8, difficulty=1.0)
    for kind in ("colour", "shape", "position"):
        for q in questions(kind, 30, hard):
            target = q.objects[-1]
            assert (np.ptp(target.track, axis=0) == 0).all()
            others = q.objects[:-1]
            assert all(o.colour != target.colour and o.shape != target.shape for o in others)
            assert q.answer in q.options


def test_colours_survive_encoding_and_decoding():
    bench = TemporalBenchmark()
    sample = bench.sample("train", 5)  # a colour question: one static object
    frames = PyAVDecoder().read(sample.video, UniformFrames(8)).frames.permute(0, 2, 3, 1).numpy()
    question = KINDS["colour"].build(np.random.default_rng([0, 0, 5]), bench.geometry)
    x, y = (round(v) for v in question.objects[-1].track[0])
    centre = frames[:, y + 5, x + 5].astype(int)  # (T, 3)
    assert np.abs(centre - np.array(COLOURS[sample.record["answer"]])).max() < 40


@pytest.mark.parametrize(
    ("answer_format", "reply"), [("word_letter", "{word} ({letter})"), ("letter", "{letter}"), ("word", "{word}")]
)
def test_multiple_choice_prompt_and_answer_formats(answer_format, reply):
    bench = TemporalBenchmark(answer_format=answer_format, multiple_choice=1.0)
    record = bench.sample("train", 0).record
    prompt, answer = (turn["value"] for turn in record["conversations"])
    letters = [line[0] for line in prompt.splitlines()[2:-1]]
    assert letters == list("ABCD")[: len(record["options"])]
    assert f"{record['answer_letter']}. {record['answer']}" in prompt.splitlines()
    assert answer == reply.format(word=record["answer"], letter=record["answer_letter"])


def test_open_ended_questions_answer_with_the_word():
    bench = TemporalBenchmark(multiple_choice=0.0)
    record = bench.sample("train", 3).record
    assert record["format"] == "open_ended"
    assert re.fullmatch(r"<video>\nHow many times does the \w+ \w+ appear\?", record["conversations"][0]["value"])
    assert record["conversations"][1]["value"] == record["answer"]
    mixed = [TemporalBenchmark().sample("train", i).record["format"] for i in range(80)]
    assert 25 <= mixed.count("multiple_choice") <= 55


def test_knobs_set_resolution_frames_and_object_size():
    sample = TemporalBenchmark(size=64, num_frames=12, object_size=0.2).sample("train", 1)
    video = PyAVDecoder().read(sample.video, UniformFrames(12))
    assert video.frames.shape == (12, 3, 64, 64)
    assert TemporalBenchmark(size=64, object_size=0.2).geometry.side == 29


@pytest.mark.parametrize(
    "knobs",
    [
        {"size": 31},
        {"num_frames": 2},
        {"kinds": ["nope"]},
        {"answer_format": "emoji"},
        {"difficulty": 2.0},
        {"object_size": 0.9},
    ],
)
def test_bad_knobs_are_refused(knobs):
    with pytest.raises(ValueError):  # noqa: PT011  (each knob has its own message)
        TemporalBenchmark(**knobs)


def test_shards_are_generated_once_and_read_back(tmp_path, processor):
    source = SyntheticShards(tmp_path, TemporalBenchmark(), train=10, val=4, test=0, samples_per_shard=4)
    source.prepare()
    urls = source.urls("train")
    assert [u.rsplit("/", 1)[1] for u in urls] == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    manifest = json.loads((tmp_path / "train" / "manifest.json").read_text())
    assert manifest["samples_written"] == 10
    assert manifest["total_duration"] == 20.0
    stamp = (tmp_path / "train" / "shard-000000.tar").stat().st_mtime_ns
    source.prepare()  # up to date: nothing rewritten
    assert (tmp_path / "train" / "shard-000000.tar").stat().st_mtime_ns == stamp
    assert source.urls("test") is None
    keys = [item.sample.key for item in ShardReader(urls, processor, shuffle_shards=False)]
    assert keys == [f"train-{i:06d}" for i in range(10)]
    stale = SyntheticShards(tmp_path, TemporalBenchmark(seed=1), train=10, val=4, test=0)
    with pytest.raises(FileNotFoundError, match="call prepare"):
        stale.urls("train")


def test_the_word_tokenizer_covers_every_synthetic_text_in_a_tiny_vocabulary():
    tokenizer = synthetic_tokenizer()
    assert len(tokenizer) < 128
    assert [tokenizer.convert_tokens_to_ids(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")] == [0, 1, 2]
    unknown = tokenizer.convert_tokens_to_ids("[UNK]")
    for answer_format in ("word_letter", "letter", "word"):
        bench = TemporalBenchmark(seed=11, answer_format=answer_format, difficulty=1.0)
        for i in range(60):
            for turn in bench.sample("test", i).record["conversations"]:
                ids = tokenizer.encode(turn["value"].replace("<video>", ""))
                assert unknown not in ids, turn["value"]


def test_the_word_tokenizer_drives_the_chat_template():
    tokenizer = synthetic_tokenizer()
    chat = ChatTemplate(tokenizer, max_length=256)
    record = parse_record(TemporalBenchmark().sample("train", 0).record)
    encoded = chat.encode(record.turns, num_visual_tokens=5)
    words = tokenizer.convert_ids_to_tokens(encoded.input_ids[encoded.labels != -100].tolist())
    assert words == [record.extra["answer"], "<|im_end|>"]  # sample 0 is open-ended: the word, then the end
    assert (encoded.input_ids == tokenizer.convert_tokens_to_ids("<|video_pad|>")).sum() == 5
