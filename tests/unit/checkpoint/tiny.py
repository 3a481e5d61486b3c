"""Tiny compositions for the checkpoint tests (random, float32, eval mode)."""

import torch
from transformers import LlamaConfig, Qwen2Config

from videolmm.encoders import ClipEncoder, SiglipEncoder
from videolmm.layout import SeparatorLayout
from videolmm.llm import CausalLM
from videolmm.model import Separators, VideoLMM
from videolmm.projectors import LinearProjector, MLPProjector
from videolmm.reducers import LlavaVideoSlowFast, SpatialPool

VIDEO_ID = 95
E = 48


def qwen2(tied: bool = False) -> CausalLM:
    return CausalLM(
        Qwen2Config(
            vocab_size=96, hidden_size=E, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, tie_word_embeddings=tied,
        )
    )  # fmt: skip


def llama(tied: bool = True) -> CausalLM:
    return CausalLM(
        LlamaConfig(
            vocab_size=96, hidden_size=E, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=4, tie_word_embeddings=tied,
        )
    )  # fmt: skip


def siglip(num_layers: int = 2, select_layer: int = -1) -> SiglipEncoder:
    return SiglipEncoder(
        hidden_size=32, intermediate_size=64, num_layers=num_layers, num_heads=4, image_size=28, patch_size=4,
        select_layer=select_layer,
    )  # fmt: skip


def clip() -> ClipEncoder:
    return ClipEncoder(hidden_size=32, intermediate_size=64, num_layers=3, num_heads=4, image_size=24, patch_size=4)


def onevision_like(tied: bool = False) -> VideoLMM:
    """SigLIP -> MLP -> bilinear /2 -> one newline at the end -> Qwen2 (what HF LlavaOnevision computes)."""
    return VideoLMM(
        siglip(),
        SpatialPool(2, "bilinear"),
        MLPProjector(32, E),
        Separators(E, SeparatorLayout("end")),
        qwen2(tied),
        VIDEO_ID,
    ).eval()


def next_video_like() -> VideoLMM:
    """CLIP (layer -2, no CLS) -> avg /2 -> MLP -> no separators -> Llama (what HF LlavaNextVideo computes)."""
    return VideoLMM(
        clip(), SpatialPool(2, "avg"), MLPProjector(32, E), Separators(E, SeparatorLayout("none")), llama(), VIDEO_ID,
        reduce_after_projector=False,
    ).eval()  # fmt: skip


def llava_video_slowfast(linear: bool = False) -> VideoLMM:
    """SigLIP -> MLP (or linear) -> SlowFast with grid newlines and the faster_token marker -> Qwen2."""
    projector = LinearProjector(32, E) if linear else MLPProjector(32, E)
    separators = Separators(E, SeparatorLayout("grid", slowfast_marker=True))
    return VideoLMM(siglip(), LlavaVideoSlowFast(slow_every=2), projector, separators, qwen2(), VIDEO_ID).eval()


def run(model: VideoLMM, num_frames: int = 2, seed: int = 0) -> torch.Tensor:
    """Logits of one random prompt + video, (1, S, vocab)."""
    g = torch.Generator().manual_seed(seed)
    L = model.num_visual_tokens(num_frames)
    ids = torch.cat([torch.randint(0, 90, (3,), generator=g), torch.full((L,), VIDEO_ID), torch.tensor([4, 5])])
    side = model.encoder.image_size
    frames = torch.randn(num_frames, 3, side, side, generator=g)
    with torch.no_grad():
        return model(ids[None], None, [frames]).logits
