"""Log-likelihood of a continuation after a prompt (lmms-eval's ``loglikelihood`` request).

The continuation's tokens are appended to the generation prompt (which ends with
``<|im_start|>assistant\\n``); the result is the summed log-probability of those tokens and whether
each of them is the argmax at its position (greedy).
"""

import torch
import torch.nn.functional as F
from torch import Tensor

from videolmm.model.videolmm import VideoLMM


@torch.no_grad()
def continuation_logprob(
    model: VideoLMM, prompt: Tensor, continuation: Tensor, video: Tensor | None
) -> tuple[float, bool]:
    """``(sum of log p(continuation | prompt, video), continuation is the greedy one)``.

    Shapes:
        prompt: (S,), continuation: (K,) with K >= 1, video: (T, C, H, W)
    """
    if continuation.numel() == 0:
        raise ValueError("the continuation has no tokens")
    parameter = next(model.parameters())
    ids = torch.cat([prompt, continuation]).to(parameter.device)[None]  # (1, S + K)
    videos = None if video is None else [video.to(parameter.device, parameter.dtype)]
    hidden = model.llm(model.embed(ids, videos), None)  # (1, S + K, E)
    K = continuation.numel()
    logits = model.llm.head(hidden[0, -K - 1 : -1]).float()  # (K, vocab): positions predicting the continuation
    logprobs = F.log_softmax(logits, dim=-1)
    target = continuation.to(parameter.device)
    total = logprobs.gather(1, target[:, None]).sum().item()
    greedy = bool((logprobs.argmax(-1) == target).all())
    return total, greedy
