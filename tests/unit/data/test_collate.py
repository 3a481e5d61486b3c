"""Collation pads or packs; packed rows restart positions and emit sequence boundaries."""

import pytest
import torch

from videolmm.data import IGNORE_INDEX, Turn, VideoCollator, VideoRecord, VideoSample

PAD = 0


def sample(key: str, length: int, frames: int = 2, first_label: int = 7) -> VideoSample:
    ids = torch.arange(1, length + 1)
    labels = torch.full((length,), IGNORE_INDEX)
    labels[0], labels[-1] = first_label, 99
    record = VideoRecord(key, f"{key}.mp4", (Turn("user", "<video>"), Turn("assistant", "x")))
    return VideoSample(key, torch.full((frames, 3, 4, 4), float(length)), ids, labels, 2, record)


def test_padding_right_pads_ids_labels_and_mask():
    batch = VideoCollator(pad_id=PAD)([sample("a", 3), sample("b", 5)])
    assert batch["input_ids"].tolist() == [[1, 2, 3, PAD, PAD], [1, 2, 3, 4, 5]]
    assert batch["labels"][0].tolist() == [7, IGNORE_INDEX, 99, IGNORE_INDEX, IGNORE_INDEX]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 0], [0, 1, 2, 3, 4]]
    assert batch["videos"].shape == (2, 2, 3, 4, 4)
    assert batch["num_frames"].tolist() == [2, 2]
    assert batch["video_rows"].tolist() == [0, 1]
    assert batch["keys"] == ["a", "b"]
    assert batch["records"][1]["id"] == "b"
    assert "cu_seqlens" not in batch


def test_videos_of_different_lengths_stay_a_list():
    batch = VideoCollator(pad_id=PAD)([sample("a", 3, frames=2), sample("b", 3, frames=5)])
    assert isinstance(batch["videos"], list)
    assert [v.shape[0] for v in batch["videos"]] == [2, 5]
    assert batch["num_frames"].tolist() == [2, 5]


def test_packing_fills_rows_first_fit_and_restarts_positions():
    samples = [sample("a", 4), sample("b", 5), sample("c", 3), sample("d", 1)]
    batch = VideoCollator(pad_id=PAD, pack=True, pack_length=8)(samples)
    # first fit: a(4) -> row 0; b(5) -> row 1 (4+5>8); c(3) -> row 0 (4+3=7); d(1) -> row 0 (7+1=8)
    assert batch["keys"] == ["a", "c", "d", "b"]  # videos in placeholder order, row by row
    assert batch["video_rows"].tolist() == [0, 0, 0, 1]
    assert batch["input_ids"].tolist() == [[1, 2, 3, 4, 1, 2, 3, 1], [1, 2, 3, 4, 5, PAD, PAD, PAD]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 3, 0, 1, 2, 0], [0, 1, 2, 3, 4, 0, 0, 0]]
    assert batch["sequence_ids"].tolist() == [[1, 1, 1, 1, 2, 2, 2, 3], [1, 1, 1, 1, 1, 0, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1] * 8, [1] * 5 + [0] * 3]
    assert batch["cu_seqlens"].tolist() == [0, 4, 7, 8, 13]
    assert batch["cu_seqlens"].dtype == torch.int32
    assert batch["max_seqlen"] == 5
    X = IGNORE_INDEX
    assert batch["labels"].tolist() == [[X, X, X, 99, X, X, 99, X], [X, X, X, X, 99, X, X, X]]  # first labels -100
    assert batch["videos"][:, 0, 0, 0, 0].tolist() == [4.0, 3.0, 1.0, 5.0]


def test_a_sample_longer_than_a_packed_row_raises():
    with pytest.raises(ValueError, match=r"'b' has 9 tokens > pack_length 8"):
        VideoCollator(pad_id=PAD, pack=True, pack_length=8)([sample("a", 2), sample("b", 9)])


def test_refuses_mixed_frame_sizes_and_empty_batches():
    odd = sample("b", 3)
    odd = VideoSample("b", torch.zeros(2, 3, 8, 8), odd.input_ids, odd.labels, 2, odd.record)
    with pytest.raises(ValueError, match="share"):
        VideoCollator(pad_id=PAD)([sample("a", 3), odd])
    with pytest.raises(ValueError, match="empty"):
        VideoCollator(pad_id=PAD)([])
