"""``videolmm-generate``: answer a question about a video.

Examples::

    videolmm-generate video=clip.mp4 prompt="What moves?"                       # tiny random model
    videolmm-generate video=clip.mp4 prompt="Describe the video." checkpoint=llava-ov-dir eval=llava_video_7b \\
        encoder=siglip_so400m_p14_384 evaluation.generation.max_new_tokens=128
    videolmm-generate video=clip.mp4 prompt="..." evaluation.generation.do_sample=true

Prints where the weights came from (random weights are said so), the frames and token counts,
and the reply.
"""

import hydra
import torch
from omegaconf import DictConfig

from videolmm.cli.inference import build_inference
from videolmm.eval.generation import ReplyGenerator

__all__ = ["main"]


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="generate")
def main(cfg: DictConfig) -> None:
    """Compose the configuration, decode and sample the video, generate, print."""
    inference = build_inference(cfg)
    model = inference.model.to(torch.device(cfg.device))
    prompted = inference.prompter(cfg.video, cfg.prompt)
    reply = ReplyGenerator(model, inference.tokenizer, inference.generation)([prompted.input_ids], [prompted.frames])[0]
    decoding = "sampled" if inference.generation.do_sample else "greedy"
    print(f"model: {inference.description}")
    print(
        f"video: {cfg.video} ({prompted.duration:.2f} s), {prompted.frames.shape[0]} frames, "
        f"{prompted.num_visual_tokens} visual tokens, {prompted.input_ids.numel()} prompt tokens"
    )
    print(f"decoding: {decoding}, at most {inference.generation.max_new_tokens} new tokens")
    print(f"reply: {reply}")


if __name__ == "__main__":
    main()
