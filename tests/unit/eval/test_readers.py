"""Each benchmark reader on a fixture written here in the benchmark's published annotation format."""

import csv
import json

import pytest

from tests.unit.eval.conftest import moving_square_mp4
from videolmm.data.synthetic import TemporalBenchmark
from videolmm.eval import BenchmarkSample
from videolmm.eval.readers import (
    MLVU,
    ActivityNetQA,
    EgoSchema,
    LongVideoBench,
    NExTQA,
    PerceptionTest,
    SyntheticBenchmark,
    VideoMME,
    read_table,
)


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def touch_video(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0")


def test_videomme_rows_strip_option_letters_and_keep_duration_groups(tmp_path):
    rows = [
        {"video_id": "001", "duration": "short", "domain": "Knowledge", "sub_category": "Humanity & History",
         "url": "https://www.youtube.com/watch?v=fFjv93ACGo8", "videoID": "fFjv93ACGo8", "question_id": "001-1",
         "task_type": "Counting Problem", "question": "How many red socks are above the fireplace?",
         "options": ["A. 0.", "B. 1.", "C. 2.", "D. 3."], "answer": "C"},
        {"video_id": "601", "duration": "long", "videoID": "xyz", "question_id": "601-3", "task_type": "OCR Problems",
         "question": "What is written?", "options": ["A. yes", "B. no", "C. maybe", "D. never"], "answer": "A"},
    ]  # fmt: skip
    (tmp_path / "videomme").mkdir()
    (tmp_path / "videomme" / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    touch_video(tmp_path / "data" / "xyz.MP4")
    samples = VideoMME(tmp_path, annotations="videomme/test.jsonl")()
    assert samples[0] == BenchmarkSample(
        "videomme", "001-1", tmp_path / "data" / "fFjv93ACGo8.mp4", "How many red socks are above the fireplace?",
        "C", ("0.", "1.", "2.", "3."), "Counting Problem", duration_group="short",
    )  # fmt: skip
    assert samples[1].video == tmp_path / "data" / "xyz.MP4"  # an existing file with another extension is found
    assert samples[1].duration_group == "long"
    assert samples[1].answer_text == "yes"


def test_videomme_rejects_a_mislabelled_option(tmp_path):
    row = {"videoID": "v", "question_id": "1", "question": "q", "options": ["B. x", "A. y"], "answer": "A"}
    write_json(tmp_path / "v.json", [row])
    with pytest.raises(ValueError, match="labelled B at position A"):
        VideoMME(tmp_path, annotations="v.json")()


def test_nextqa_csv_with_the_video_map(tmp_path):
    fields = [
        "video",
        "frame_count",
        "width",
        "height",
        "question",
        "answer",
        "qid",
        "type",
        "a0",
        "a1",
        "a2",
        "a3",
        "a4",
    ]
    with (tmp_path / "test.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerow({"video": "4010069381", "frame_count": "369", "width": "640", "height": "480",
                         "question": "how do the two man play the instrument", "answer": "3", "qid": "6", "type": "CH",
                         "a0": "roll the handle", "a1": "tap their feet", "a2": "strum the string",
                         "a3": "hit with sticks", "a4": "pat with hand"})  # fmt: skip
    write_json(tmp_path / "map_vid_vidorID.json", {"4010069381": "1106/4010069381"})
    (sample,) = NExTQA(tmp_path)()
    assert sample.id == "4010069381-6"
    assert sample.answer == "D"
    assert sample.answer_text == "hit with sticks"
    assert sample.video == tmp_path / "NExTVideo" / "1106" / "4010069381.mp4"
    assert sample.question_type == "CH"
    assert len(sample.options) == 5


def test_egoschema_reads_the_answered_subset(tmp_path):
    questions = [
        {"q_uid": f"uid-{i}", "google_drive_id": "x", "question": f"What did c do {i}?",
         **{f"option {k}": f"option text {k}" for k in range(5)}}
        for i in range(3)
    ]  # fmt: skip
    write_json(tmp_path / "questions.json", questions)
    write_json(tmp_path / "subset_answers.json", {"uid-0": 4, "uid-2": 0})
    samples = EgoSchema(tmp_path)()
    assert [(s.id, s.answer) for s in samples] == [("uid-0", "E"), ("uid-2", "A")]
    assert samples[0].duration == 180.0
    assert samples[0].video == tmp_path / "videos" / "uid-0.mp4"
    write_json(tmp_path / "subset_answers.json", {"uid-9": 1})
    with pytest.raises(ValueError, match=r"not in questions\.json"):
        EgoSchema(tmp_path)()


def test_mlvu_multiple_choice_files_and_video_folders(tmp_path):
    plot = [{"video": "movie101_66.mp4", "duration": 246.0, "question": "What color is the car?",
             "candidates": ["red", "blue", "green", "white"], "answer": "green",
             "question_type": "plotQA"}]  # fmt: skip
    count = [{"video": "count_1.mp4", "question": "How many jumps?", "candidates": ["1", "2", "3"], "answer": "2"}]
    write_json(tmp_path / "json" / "1_plotQA.json", plot)
    write_json(tmp_path / "json" / "4_count.json", count)
    write_json(tmp_path / "json" / "9_summary.json", [{"video": "s.mp4", "question": "Summarise", "answer": "..."}])
    (tmp_path / "video" / "count").mkdir(parents=True)  # the task-name layout for this one
    samples = MLVU(tmp_path)()
    assert [(s.id, s.answer, s.question_type) for s in samples] == [
        ("1_plotQA-0", "C", "plotQA"),
        ("4_count-0", "B", "count"),
    ]
    assert samples[0].video == tmp_path / "video" / "1_plotQA" / "movie101_66.mp4"
    assert samples[1].video == tmp_path / "video" / "count" / "count_1.mp4"
    assert samples[0].duration == 246.0
    assert samples[1].duration is None


def test_longvideobench_duration_groups_and_categories(tmp_path):
    item = {"video_id": "86CxyhFV9MI", "question": "In the video, which subtitles appear?",
            "candidates": ["a", "b", "c", "d"],
            "correct_choice": 1, "position": [1], "topic_category": "NP-News-Programs", "question_category": "TOS",
            "level": "L2-Relation", "id": "86CxyhFV9MI_0", "video_path": "86CxyhFV9MI.mp4", "subtitle_path": "x.json",
            "duration_group": 600, "starting_timestamp_for_subtitles": 0, "duration": 527.0}  # fmt: skip
    write_json(tmp_path / "lvb_val.json", [item])
    (sample,) = LongVideoBench(tmp_path)()
    assert (sample.answer, sample.question_type, sample.duration_group, sample.duration) == (
        "B",
        "TOS",
        "180-600s",
        527.0,
    )
    assert sample.video == tmp_path / "videos" / "86CxyhFV9MI.mp4"
    write_json(tmp_path / "lvb_test.json", [{k: v for k, v in item.items() if k != "correct_choice"}])
    with pytest.raises(ValueError, match="no correct_choice"):
        LongVideoBench(tmp_path, annotations="lvb_test.json")()


def test_perceptiontest_questions_per_video(tmp_path):
    data = {"video_10909": {
        "metadata": {"video_id": "video_10909", "num_frames": 1035, "fps": 30, "split": "valid"},
        "mc_question": [
            {"id": 0, "question": "Is the camera moving or static?", "options": ["I don't know", "moving", "static"],
             "answer_id": 2, "area": "physics", "reasoning": "descriptive", "tag": ["motion"]},
            {"id": 1, "question": "What is the person doing?", "options": ["a", "b", "c"], "answer_id": 0,
             "area": "semantics", "reasoning": "descriptive", "tag": []},
        ]}}  # fmt: skip
    write_json(tmp_path / "mc_question_valid.json", data)
    samples = PerceptionTest(tmp_path)()
    assert [(s.id, s.answer, s.question_type) for s in samples] == [
        ("video_10909-0", "C", "physics"),
        ("video_10909-1", "A", "semantics"),
    ]
    assert samples[0].duration == pytest.approx(34.5)
    assert samples[0].video == tmp_path / "videos" / "video_10909.mp4"


def test_activitynetqa_joins_questions_and_answers(tmp_path):
    write_json(tmp_path / "test_q.json", [{"video_name": "v1Ovmr0h0yY", "question_id": "v1Ovmr0h0yY_1",
                                           "question": "is the person outdoors"}])  # fmt: skip
    write_json(tmp_path / "test_a.json", [{"answer": "yes", "type": 3, "question_id": "v1Ovmr0h0yY_1"}])
    touch_video(tmp_path / "videos" / "v_v1Ovmr0h0yY.mkv")
    (sample,) = ActivityNetQA(tmp_path)()
    assert sample.format == "open_ended"
    assert sample.answer == "yes"
    assert sample.question_type == "yes/no"
    assert sample.video == tmp_path / "videos" / "v_v1Ovmr0h0yY.mkv"


def test_synthetic_reader_matches_the_generator():
    generator = TemporalBenchmark()
    samples = SyntheticBenchmark(generator, "test", count=3)()
    record = generator.sample("test", 0).record
    assert samples[0].id == record["id"]
    assert samples[0].video == generator.sample("test", 0).video
    assert samples[0].answer == record["answer_letter"]
    assert samples[0].options == tuple(record["options"])
    assert samples[0].prompt == record["conversations"][0]["value"].replace("<video>", "").strip()
    assert samples[1].format == "open_ended"
    assert samples[1].answer == generator.sample("test", 1).record["answer"]
    assert samples[0].duration == 2.0


def test_missing_files_name_the_expected_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"lvb_val\.json"):
        LongVideoBench(tmp_path)()
    with pytest.raises(FileNotFoundError, match=r"no \*\.json"):
        MLVU(tmp_path)()
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pyarrow"):
            read_table(tmp_path / "t.parquet", "table")


def test_an_mp4_fixture_decodes(tmp_path):
    """The reader's paths feed the decoder: a real file at the path a reader resolves."""
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "uid-0.mp4").write_bytes(moving_square_mp4())
    write_json(
        tmp_path / "questions.json", [{"q_uid": "uid-0", "question": "q", **{f"option {k}": "o" for k in range(5)}}]
    )
    write_json(tmp_path / "subset_answers.json", {"uid-0": 1})
    from videolmm.data import PyAVDecoder

    info = PyAVDecoder().probe(EgoSchema(tmp_path)()[0].video)
    assert info.num_frames == 8
