"""Load an exported directory with transformers and compare its logits with the trained videolmm model.

Usage: ``python compare_hf_logits.py RUN_DIR HF_DIR [HF_DIR ...]``. The videolmm model is the run's
config with ``RUN_DIR/checkpoints/last.ckpt`` loaded; each HF directory is loaded with
``LlavaOnevisionForConditionalGeneration.from_pretrained``. Both get the same two samples: random
token ids around a run of video placeholders, and 4 random (normalised) frames per video.
"""

import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf
from transformers import LlavaOnevisionForConditionalGeneration

from videolmm.eval import load_model


def inputs(model, num_frames: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids (B, S) with one video's placeholders per sample, and frames (B, T, C, H, W)."""
    g = torch.Generator().manual_seed(0)
    L = model.num_visual_tokens(num_frames)  # what the HF model must scatter too
    vocab = model.llm.config.vocab_size
    ids = torch.randint(model.video_token_id + 1, vocab, (2, 6 + L + 5), generator=g)
    ids[:, 6 : 6 + L] = model.video_token_id
    side = model.encoder.image_size
    return ids, torch.randn(2, num_frames, 3, side, side, generator=g)


def main(run_dir: Path, hf_dirs: list[Path]) -> None:
    """Print the largest logit difference for every HF directory."""
    ours, origin = load_model(OmegaConf.load(run_dir / ".hydra" / "config.yaml"), run_dir / "checkpoints" / "last.ckpt")
    ids, videos = inputs(ours)
    with torch.no_grad():
        want = ours(ids, videos=videos).logits  # (B, S, vocab)
    print(f"videolmm: {origin}, logits {tuple(want.shape)}")
    for hf_dir in hf_dirs:
        hf = LlavaOnevisionForConditionalGeneration.from_pretrained(hf_dir).eval()
        with torch.no_grad():
            got = hf(input_ids=ids, pixel_values_videos=videos).logits
        diff = (got - want).abs().max().item()
        print(f"{type(hf).__name__} from {hf_dir.name}: logits {tuple(got.shape)}, max |difference| {diff:.1e}")
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5)
    with torch.no_grad():  # the frames matter: other frames, other logits (the equality is not vacuous)
        other = hf(input_ids=ids, pixel_values_videos=videos.flip(1)).logits
    print(f"the same with the frames reversed: max |difference| {(other - want).abs().max().item():.1e}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]])
