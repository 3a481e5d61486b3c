"""Batched reply generation: left-padded prompts, greedy or sampled decoding, stop at the end token.

Prompts of unequal length are left-padded (padding before the prompt, so every row's next token
is at the same position; the attention mask hides the padding and the positions count real tokens
only), then decoded with the LLM's KV cache (`VideoLMM.generate`). A row stops at the first of
its end tokens (``<|im_end|>``, ``<|endoftext|>``); generation stops when every row has stopped
or after ``max_new_tokens``. Greedy replies of a batch equal the replies of its prompts one by one.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor

from videolmm.model.videolmm import VideoLMM


class GenerationTokenizer(Protocol):
    """What generation needs from a tokenizer."""

    pad_token_id: int | None

    def get_vocab(self) -> dict[str, int]:
        """Token -> id."""
        ...

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = ...) -> str:
        """Text of ``ids``."""
        ...


@dataclass(frozen=True)
class GenerationSettings:
    """How replies are decoded.

    Attributes:
        max_new_tokens: Longest reply in tokens.
        do_sample: Sample (with ``temperature`` and ``top_p``) instead of taking the argmax.
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        end_tokens: Tokens that end a reply (those the tokenizer lacks are ignored).
    """

    max_new_tokens: int = 32
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    end_tokens: tuple[str, ...] = ("<|im_end|>", "<|endoftext|>")

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.do_sample and not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise ValueError(f"sampling needs temperature > 0 and 0 < top_p <= 1, got {self.temperature}, {self.top_p}")

    def hf_kwargs(self, end_ids: Sequence[int], pad_id: int) -> dict[str, Any]:
        """Arguments of HF ``generate``."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": self.do_sample,
            "num_beams": 1,
            "eos_token_id": list(end_ids),
            "pad_token_id": pad_id,
        }
        if self.do_sample:
            kwargs.update(temperature=self.temperature, top_p=self.top_p)
        return kwargs


def left_pad(rows: Sequence[Tensor], pad_id: int) -> tuple[Tensor, Tensor]:
    """Stack 1-D prompts with padding on the left, and the attention mask (1 on real tokens).

    Shapes:
        rows: B x (S_b,) -> input_ids, attention_mask: (B, S) with S = max S_b
    """
    if not rows:
        raise ValueError("no prompts to pad")
    length = max(r.numel() for r in rows)
    ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), length), dtype=torch.long)
    for b, row in enumerate(rows):
        ids[b, length - row.numel() :] = row
        mask[b, length - row.numel() :] = 1
    return ids, mask


def cut_at_end(new_ids: Tensor, end_ids: Iterable[int]) -> list[list[int]]:
    """Each row's ids up to (without) its first end token.

    Shapes:
        new_ids: (B, new tokens)
    """
    ends = set(end_ids)
    replies = []
    for row in new_ids.tolist():
        stop = next((i for i, token in enumerate(row) if token in ends), len(row))
        replies.append(row[:stop])
    return replies


def cut_at_strings(text: str, stops: Iterable[str]) -> str:
    """``text`` up to the first occurrence of any stop string (lmms-eval's ``until``)."""
    positions = [text.find(s) for s in stops if s and s in text]
    return text[: min(positions)] if positions else text


class ReplyGenerator:
    """Generate text replies for batches of prompts with a `VideoLMM`.

    Args:
        model: The model (in eval mode; its device and dtype are used for the inputs).
        tokenizer: Its tokenizer (end tokens, padding id, decoding).
        settings: Default decoding settings.
    """

    def __init__(self, model: VideoLMM, tokenizer: GenerationTokenizer, settings: GenerationSettings) -> None:
        vocab = tokenizer.get_vocab()
        self.end_ids = [vocab[t] for t in settings.end_tokens if t in vocab]
        if not self.end_ids:
            raise ValueError(f"the tokenizer has none of the end tokens {settings.end_tokens}")
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_ids[0]
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings

    @torch.no_grad()
    def ids(
        self, prompts: Sequence[Tensor], videos: Sequence[Tensor | None], settings: GenerationSettings | None = None
    ) -> list[list[int]]:
        """The new token ids of each prompt, cut before the end token.

        Shapes:
            prompts: B x (S_b,); videos: B x (T_b, C, H, W) or None
        """
        settings = settings or self.settings
        parameter = next(self.model.parameters())
        input_ids, mask = left_pad(prompts, self.pad_id)
        moved = [None if v is None else v.to(parameter.device, parameter.dtype) for v in videos]
        out = self.model.generate(
            input_ids.to(parameter.device),
            mask.to(parameter.device),
            moved,
            **settings.hf_kwargs(self.end_ids, self.pad_id),
        )
        return cut_at_end(out, self.end_ids)

    def __call__(
        self, prompts: Sequence[Tensor], videos: Sequence[Tensor | None], settings: GenerationSettings | None = None
    ) -> list[str]:
        """The decoded replies (special tokens dropped, surrounding whitespace stripped)."""
        decode = self.tokenizer.decode
        return [decode(ids, skip_special_tokens=True).strip() for ids in self.ids(prompts, videos, settings)]
