"""Log-likelihood of a continuation after a prompt (lmms-eval's ``loglikelihood`` request).

The continuation's tokens are appended to the generation prompt (which ends with
``<|im_start|>assistant\\n``); the result is the summed log-probability of those tokens and whether
each of them is the argmax at its position (greedy).
"""

import torch
from torch import Tensor

from videolmm.llm.loss import IGNORE_INDEX
from videolmm.model.videolmm import VideoLMM


@torch.no_grad()
def continuation_logprob(
    model: VideoLMM, prompt: Tensor, continuation: Tensor, video: Tensor | None
) -> tuple[float, bool]:
    """``(sum of log p(continuation | prompt, video), continuation is the greedy one)``, from `VideoLMM.score`.

    Shapes:
        prompt: (S,), continuation: (K,) with K >= 1, video: (T, C, H, W)
    """
    if continuation.numel() == 0:
        raise ValueError("the continuation has no tokens")
    parameter = next(model.parameters())
    ids = torch.cat([prompt, continuation]).to(parameter.device)[None]  # (1, S + K)
    labels = ids.clone()
    labels[:, : prompt.numel()] = IGNORE_INDEX  # only the continuation is scored
    videos = None if video is None else [video.to(parameter.device, parameter.dtype)]
    scores = model.score(ids, labels, videos=videos)  # (1,) each
    return -scores.nll.item(), bool(scores.greedy.item())
