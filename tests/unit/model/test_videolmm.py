"""VideoLMM: the composition, ragged and text-only batches, loss, gradients, generate."""

import pytest
import torch
from transformers import Qwen2Config

from videolmm.encoders import SiglipEncoder
from videolmm.layout import SeparatorLayout
from videolmm.llm import CausalLM
from videolmm.model import Separators, VideoLMM
from videolmm.projectors import MLPProjector
from videolmm.reducers import SpatialPool

VIDEO_ID = 63
E = 48


def tiny_model(*, reducer=None, position: str = "end", after: bool = True) -> VideoLMM:
    """SigLIP 7x7 grid (width 32) + Qwen2 (width 48, vocabulary 64), random, eval mode."""
    encoder = SiglipEncoder(
        hidden_size=32, intermediate_size=64, num_layers=2, num_heads=4, image_size=28, patch_size=4
    )
    config = Qwen2Config(
        vocab_size=64, hidden_size=E, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2,
    )  # fmt: skip
    return VideoLMM(
        encoder=encoder,
        reducer=reducer or SpatialPool(stride=2, mode="bilinear"),
        projector=MLPProjector(in_dim=32, out_dim=E),
        separators=Separators(dim=E, layout=SeparatorLayout(position=position)),
        llm=CausalLM(config),
        video_token_id=VIDEO_ID,
        reduce_after_projector=after,
    ).eval()


def prompt(model: VideoLMM, num_frames: int, before: int = 3, after: int = 4, seed: int = 0) -> torch.Tensor:
    """Random text ids around exactly the placeholder run one video needs, (S,)."""
    g = torch.Generator().manual_seed(seed)
    run = model.num_visual_tokens(num_frames) if num_frames else 0
    return torch.cat(
        [
            torch.randint(0, 60, (before,), generator=g),
            torch.full((run,), VIDEO_ID),
            torch.randint(0, 60, (after,), generator=g),
        ]
    )


def video(num_frames: int) -> torch.Tensor:
    return torch.randn(num_frames, 3, 28, 28)


@pytest.fixture(scope="module")
def model() -> VideoLMM:
    torch.manual_seed(0)
    return tiny_model()


def test_token_count_is_the_bilinear_grid_plus_one_newline(model):
    assert model.grid == (7, 7)
    assert model.num_visual_tokens(3) == 3 * 4 * 4 + 1  # the OneVision rule T * ceil(g/2)^2 + 1


def test_forward_returns_loss_and_logits(model):
    ids = torch.stack([prompt(model, 3, seed=1), prompt(model, 3, seed=2)])
    out = model(ids, torch.ones_like(ids), torch.stack([video(3), video(3)]), labels=ids)
    assert out.logits.shape == (2, ids.shape[1], 64)
    assert out.loss.ndim == 0
    assert torch.isfinite(out.loss)


def test_loss_does_not_depend_on_returning_logits(model):
    ids = prompt(model, 2)[None]
    labels = ids.masked_fill(ids == VIDEO_ID, -100)
    videos = video(2)[None]
    with_logits = model(ids, None, videos, labels=labels)
    without = model(ids, None, videos, labels=labels, return_logits=False)
    assert without.logits is None
    torch.testing.assert_close(without.loss, with_logits.loss, atol=0, rtol=0)
    assert model(ids, None, videos).loss is None


def test_visual_tokens_replace_exactly_the_placeholders(model):
    ids = prompt(model, 2)[None]
    frames = video(2)
    with torch.no_grad():
        embeds = model.embed(ids, [frames])
        (tokens,) = model.encode_videos([frames])
        text = model.llm.embed(ids.clamp(max=63))
    at = ids[0] == VIDEO_ID
    torch.testing.assert_close(embeds[0, at], tokens, atol=0, rtol=0)
    torch.testing.assert_close(embeds[0, ~at], text[0, ~at], atol=0, rtol=0)


def test_pipeline_order_projects_every_patch_then_reduces(model):
    frames = video(2)
    with torch.no_grad():
        patches = model.encoder(frames[None])  # (1, T, N, D)
        pooled = SpatialPool(stride=2, mode="bilinear")(model.projector(patches), (7, 7))
        want = model.separators(pooled, model.reducer.segments(2, (7, 7)))[0]
        (got,) = model.encode_videos([frames])
    torch.testing.assert_close(got, want, atol=0, rtol=0)


def test_reduce_before_projector_pools_the_encoder_output():
    m = tiny_model(reducer=SpatialPool(stride=2, mode="avg"), position="none", after=False)
    frames = video(2)
    with torch.no_grad():
        pooled = SpatialPool(stride=2, mode="avg")(m.encoder(frames[None]), (7, 7))  # (1, T*9, D)
        want = m.projector(pooled)[0]
        (got,) = m.encode_videos([frames])
    assert got.shape == (2 * 9, E)
    torch.testing.assert_close(got, want, atol=0, rtol=0)


def test_videos_of_different_lengths_give_what_each_gives_alone(model):
    short, long = prompt(model, 2, seed=3), prompt(model, 4, seed=4)
    clips = [video(2), video(4)]
    ids = torch.zeros(2, long.numel(), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, seq in enumerate((short, long)):
        ids[b, : seq.numel()], mask[b, : seq.numel()] = seq, 1  # right padding
    with torch.no_grad():
        batch = model(ids, mask, clips).logits
        alone = [model(seq[None], None, [clip]).logits[0] for seq, clip in zip((short, long), clips, strict=True)]
    torch.testing.assert_close(batch[0, : short.numel()], alone[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(batch[1], alone[1], atol=1e-5, rtol=0)


def test_tensor_and_list_of_videos_agree(model):
    ids = torch.stack([prompt(model, 3, seed=5), prompt(model, 3, seed=6)])
    videos = torch.randn(2, 3, 3, 28, 28)
    with torch.no_grad():
        torch.testing.assert_close(model(ids, None, videos).logits, model(ids, None, list(videos)).logits)


def test_text_only_batch_equals_the_llm_and_still_runs_the_visual_path():
    m = tiny_model().train()
    ids = torch.randint(0, 60, (2, 6))
    out = m(ids, torch.ones_like(ids), None, labels=ids)
    out.loss.backward()
    with torch.no_grad():
        plain = m.llm.logits(m.llm(m.llm.embed(ids)))
    torch.testing.assert_close(out.logits, plain, atol=0, rtol=0)
    visual = [*m.encoder.parameters(), *m.projector.parameters(), *m.separators.parameters()]
    assert all(p.grad is not None and p.grad.abs().sum() == 0 for p in visual)


def test_sample_without_video_in_a_mixed_batch(model):
    with_video, text = prompt(model, 2, seed=7), prompt(model, 0, seed=8)
    ids = torch.stack([with_video, torch.cat([text, text.new_zeros(with_video.numel() - text.numel())])])
    mask = (torch.arange(ids.shape[1]) < torch.tensor([[with_video.numel()], [text.numel()]])).long()
    with torch.no_grad():
        batch = model(ids, mask, [video(2), None]).logits
        alone = model(text[None], None, None).logits
    torch.testing.assert_close(batch[1, : text.numel()], alone[0], atol=1e-5, rtol=0)


def test_an_image_is_a_one_frame_video(model):
    ids = prompt(model, 1)[None]
    assert (ids == VIDEO_ID).sum() == 4 * 4 + 1
    assert model(ids, None, [video(1)]).logits.shape[1] == ids.shape[1]


def test_gradients_reach_every_parameter():
    m = tiny_model().train()
    ids = prompt(m, 2)[None]
    m(ids, None, [video(2)], labels=ids.masked_fill(ids == VIDEO_ID, -100), return_logits=False).loss.backward()
    assert [n for n, p in m.named_parameters() if p.grad is None or p.grad.abs().sum() == 0] == []


def test_generate_continues_the_spliced_prompt_like_greedy_decoding(model):
    ids = prompt(model, 2, seed=9)[None]
    frames = [video(2)]
    new = model.generate(ids, None, frames, max_new_tokens=4, do_sample=False, pad_token_id=0)
    assert new.shape == (1, 4)
    with torch.no_grad():
        embeds = model.embed(ids, frames)
        for _ in range(4):
            nxt = model.llm.logits(model.llm(embeds))[:, -1].argmax(-1)
            embeds = torch.cat([embeds, model.llm.embed(nxt)[:, None]], dim=1)
            ids = torch.cat([ids, nxt[:, None]], dim=1)
    assert torch.equal(new, ids[:, -4:])


def test_block_classes_cover_the_tower_and_the_decoder(model):
    names = {c.__name__ for c in model.block_classes}
    assert names == {"SiglipEncoderLayer", "Qwen2DecoderLayer"}


def test_widths_must_agree():
    m = tiny_model()
    with pytest.raises(ValueError, match="separators dim vs llm hidden_size: 16 != 48"):
        VideoLMM(m.encoder, m.reducer, m.projector, Separators(dim=16), m.llm, VIDEO_ID)
    with pytest.raises(ValueError, match="projector in_dim vs encoder embed_dim: 8 != 32"):
        VideoLMM(m.encoder, m.reducer, MLPProjector(8, E), m.separators, m.llm, VIDEO_ID)
