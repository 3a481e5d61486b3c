"""``videolmm-generate``: the tiny random model (said so) and a HF LLaVA directory with its tokenizer."""

import sys

import pytest
import torch
from omegaconf import OmegaConf

from tests.unit.eval.conftest import CONF, make_prompter, moving_square_mp4
from videolmm.checkpoint import from_hf_pretrained, save_hf_pretrained
from videolmm.cli.generate import main
from videolmm.data.synthetic import synthetic_tokenizer
from videolmm.eval import GenerationSettings, ReplyGenerator
from videolmm.model import build_model


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "square.mp4"
    path.write_bytes(moving_square_mp4())
    return path


def run(monkeypatch, capsys, *args: str) -> dict[str, str]:
    monkeypatch.setattr(sys, "argv", ["videolmm-generate", *args])
    main()
    lines = capsys.readouterr().out.strip().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def test_without_a_checkpoint_the_random_tiny_model_answers_and_says_so(clip, monkeypatch, capsys):
    out = run(monkeypatch, capsys, f"video={clip}", "prompt=In which direction does the cyan square move?")
    assert out["model"] == "random weights (built from config, no checkpoint given)"
    assert out["video"].endswith("(2.00 s), 8 frames, 72 visual tokens, 101 prompt tokens")
    assert out["decoding"] == "greedy, at most 16 new tokens"
    assert "reply" in out


def test_a_hf_directory_is_loaded_with_its_tokenizer(clip, tmp_path, monkeypatch, capsys):
    groups = {g: OmegaConf.load(CONF / g / f"{n}.yaml") for g, n in
              [("encoder", "tiny"), ("reducer", "bilinear_2x2"), ("projector", "mlp2x_gelu"), ("separators", "end"),
               ("llm", "tiny")]}  # fmt: skip
    torch.manual_seed(1)
    model = build_model(OmegaConf.create({**groups, "video_token_id": 3, "reduce_after_projector": True}))
    with torch.no_grad():
        model.llm.head.weight[95:] = 0.0  # replies made of the tokenizer's words
    save_hf_pretrained(model, tmp_path / "hf")
    tokenizer = synthetic_tokenizer()
    tokenizer.save_pretrained(tmp_path / "hf")
    question = "which object moves faster ?"
    out = run(monkeypatch, capsys, f"video={clip}", f"prompt={question}", f"checkpoint={tmp_path / 'hf'}",
              "evaluation.generation.max_new_tokens=5")  # fmt: skip
    assert out["model"] == f"HF LLaVA directory {tmp_path / 'hf'}"
    loaded = from_hf_pretrained(tmp_path / "hf").eval()
    prompted = make_prompter(tokenizer, loaded, num_frames=8)(clip, question)
    generator = ReplyGenerator(loaded, tokenizer, GenerationSettings(max_new_tokens=5))
    expected = generator([prompted.input_ids], [prompted.frames])
    assert out["reply"] == expected[0]
    assert out["reply"]  # real words, not an empty string
