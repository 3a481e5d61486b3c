"""Annotation records are checked at the boundary: every defect is a BadSampleError with a reason."""

import os

import pytest

from tests.unit.data.conftest import record
from videolmm.data import BadSampleError, Turn, parse_record, resolve_video
from videolmm.data.records import parse_record_bytes


def test_a_llava_video_178k_record_is_parsed_and_image_becomes_video():
    data = record("v1", question="<image>\nWhat happens?", question_type="Temporal")
    parsed = parse_record(data)
    assert parsed.turns == (Turn("user", "<video>\nWhat happens?"), Turn("assistant", "A cat."))
    assert parsed.extra == {"question_type": "Temporal"}
    assert parsed.data_source == "test"
    assert parsed.to_json()["conversations"][0] == {"from": "human", "value": "<video>\nWhat happens?"}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1, 2], "bad_json"),
        ({"id": "a", "conversations": []}, "missing_field"),
        ({"id": "a", "video": "a.mp4"}, "missing_field"),
        ({"id": "a", "video": "", "conversations": [{"from": "gpt", "value": "x"}]}, "missing_field"),
        ({"id": "a", "video": "a.mp4", "conversations": [{"from": "human"}]}, "missing_field"),
        ({"id": "a", "video": "a.mp4", "conversations": [{"from": "gpt", "value": 3}]}, "missing_field"),
        (
            {"id": "a", "video": "a.mp4", "conversations": [{"from": "human", "value": "<video>\nHi"}]},
            "no_assistant_turn",
        ),
        ({"id": "a", "video": "a.mp4", "conversations": [{"from": "robot", "value": "x"}]}, "bad_conversation"),
    ],
    ids=[
        "not an object",
        "no video",
        "no conversations",
        "empty video path",
        "turn without value",
        "non-string value",
        "no assistant turn",
        "unknown role",
    ],
)
def test_defective_records_name_their_reason(data, reason):
    with pytest.raises(BadSampleError) as error:
        parse_record(data, key="k7")
    assert error.value.reason == reason
    assert error.value.key == "k7"


def test_invalid_json_bytes_are_bad_json():
    with pytest.raises(BadSampleError, match="bad_json"):
        parse_record_bytes(b'{"id": "a", ')


def test_video_paths_must_stay_inside_the_root(tmp_path):
    root = tmp_path / "videos"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.mp4").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.mp4", root / "link.mp4")
    assert resolve_video(root, "sub/a.mp4") == (root / "sub" / "a.mp4").resolve()
    for escape in ("../secret.mp4", str(tmp_path / "secret.mp4"), "link.mp4", "sub/../../secret.mp4"):
        with pytest.raises(BadSampleError) as error:
            resolve_video(root, escape)
        assert error.value.reason == "outside_root", escape
    with pytest.raises(BadSampleError) as error:
        resolve_video(root, "sub/b.mp4")
    assert error.value.reason == "missing_video"
