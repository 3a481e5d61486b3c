"""Qwen2 ChatML conversations: token ids with the video expanded, and labels by policy.

Rendering (LLaVA-NeXT's ``qwen_1_5`` template): a system turn, then every turn as
``<|im_start|>{role}\\n{text}<|im_end|>\\n``. The ``<video>`` marker is first moved to the front of
its turn followed by ``\\n`` (LLaVA-NeXT's ``preprocess_multimodal``; it is prepended to the first
user turn when absent), then replaced by exactly ``num_visual_tokens`` placeholder ids, so the
sequence length is known before the model runs. Text is tokenised per turn, split only at the
special tokens and the marker, which is what tokenising the rendered string with the specials
inline gives.

Label policies (``-100`` is ignored by the loss):

* ``"assistant"`` (default): the tokens of each reply and its ``<|im_end|>`` are labelled; the
  ``<|im_start|>assistant\\n`` header, the ``\\n`` after ``<|im_end|>``, system and user turns are
  ``-100``. (If a reply starts with a line break that merges with the header's ``\\n`` into one
  token, that token belongs to the header.)
* ``"llava_next"``: LLaVA-NeXT's ``preprocess_qwen`` exactly: every assistant turn is labelled in
  full, header and trailing ``<|im_end|>\\n`` included; then every ``\\n`` (198), ``<|im_start|>``
  and ``<|im_end|>`` token in the whole sequence is un-masked, system and user turns included.
  Visual placeholders stay ``-100``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

import torch
from torch import Tensor

from videolmm.data.errors import BadSampleError
from videolmm.data.records import VIDEO_MARKER, Turn
from videolmm.llm.loss import IGNORE_INDEX

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
LabelPolicy = Literal["assistant", "llava_next"]
LABEL_POLICIES: tuple[str, ...] = get_args(LabelPolicy)


class Tokenizer(Protocol):
    """What `ChatTemplate` needs from a (Hugging Face) tokenizer, plus the padding id its batches use."""

    pad_token_id: int | None
    """The padding token's id (``None``: the collators pad with ``<|im_end|>``)."""

    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]:
        """Token ids of ``text``."""
        ...

    def convert_tokens_to_ids(self, token: str) -> int:
        """The id of one token."""
        ...


@dataclass(frozen=True)
class EncodedConversation:
    """A tokenised sample.

    Attributes:
        input_ids: (S,) token ids, the video as ``num_visual_tokens`` placeholder ids.
        labels: (S,) target ids, ``-100`` where the loss ignores the position.
        num_visual_tokens: Placeholder ids in ``input_ids`` (``L``).
    """

    input_ids: Tensor
    labels: Tensor
    num_visual_tokens: int


def move_marker_to_front(turns: Sequence[Turn], marker: str = VIDEO_MARKER) -> tuple[Turn, ...]:
    """One marker, at the front of its user turn followed by ``\\n``; added to the first user turn if absent.

    Raises:
        BadSampleError: ``bad_conversation`` for several markers, a marker in a reply, or no user turn.
    """
    count = sum(t.text.count(marker) for t in turns)
    if count > 1:
        raise BadSampleError("bad_conversation", f"{count} {marker} markers for one video")
    if any(marker in t.text for t in turns if t.role == "assistant"):
        raise BadSampleError("bad_conversation", f"{marker} appears in an assistant turn")
    users = [i for i, t in enumerate(turns) if t.role == "user"]
    if not users:
        raise BadSampleError("bad_conversation", "no user turn to hold the video")
    at = next((i for i, t in enumerate(turns) if marker in t.text), users[0])
    moved = Turn("user", f"{marker}\n{turns[at].text.replace(marker, '').strip()}")
    return (*turns[:at], moved, *turns[at + 1 :])


def add_time_instruction(turns: Sequence[Turn], instruction: str, marker: str = VIDEO_MARKER) -> tuple[Turn, ...]:
    """LLaVA-Video's placement: the first user turn becomes ``marker\\n{instruction}\\n{text without marker}``."""
    at = next((i for i, t in enumerate(turns) if t.role == "user"), None)
    if at is None:
        raise BadSampleError("bad_conversation", "no user turn to hold the time instruction")
    text = f"{marker}\n{instruction}\n{turns[at].text.replace(marker, '')}"
    return (*turns[:at], Turn("user", text), *turns[at + 1 :])


class ChatTemplate:
    """Tokenise conversations in Qwen2 ChatML with the video expanded (see the module docstring).

    Args:
        tokenizer: A tokenizer with ``<|im_start|>``, ``<|im_end|>`` and the placeholder token.
        system_prompt: The system message; ``None`` for no system turn.
        label_policy: ``"assistant"`` or ``"llava_next"``.
        placeholder_token: The token repeated for every visual token (Qwen2-VL's ``<|video_pad|>``).
        max_length: Longest sequence kept; longer samples are rejected (``too_long``), never cut.
        marker: The video marker in the text.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        label_policy: str = "assistant",
        placeholder_token: str = "<|video_pad|>",
        max_length: int = 32768,
        marker: str = VIDEO_MARKER,
    ) -> None:
        if label_policy not in LABEL_POLICIES:
            raise ValueError(f"unknown label_policy {label_policy!r}; expected one of {', '.join(LABEL_POLICIES)}")
        if max_length < 1:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.tokenizer = tokenizer
        self.system_prompt = system_prompt
        self.label_policy = label_policy
        self.max_length = int(max_length)
        self.marker = marker
        self.im_start = self._special_id("<|im_start|>")
        self.im_end = self._special_id("<|im_end|>")
        self.placeholder_id = self._special_id(placeholder_token)
        newline = tokenizer.encode("\n", add_special_tokens=False)
        if len(newline) != 1:
            raise ValueError(f"the tokenizer must encode '\\n' as one token, got {newline}")
        self.newline_id = newline[0]

    def _special_id(self, token: str) -> int:
        ids = self.tokenizer.encode(token, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"{token!r} must be a single token of the tokenizer, it encodes to {ids}")
        return ids[0]

    def _text(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False)) if text else []

    def _turn(self, role: str, text: str, num_visual: int) -> tuple[list[int], int]:
        """Ids of one rendered turn and the length of its ``<|im_start|>{role}\\n`` header."""
        pieces = text.split(self.marker)
        ids = [self.im_start, *self._text(f"{role}\n{pieces[0]}")]
        for piece in pieces[1:]:
            ids += [self.placeholder_id] * num_visual + self._text(piece)
        header = 1 + len(self._text(f"{role}\n"))
        return [*ids, self.im_end, self.newline_id], header

    def _labels(self, role: str, ids: list[int], header: int) -> list[int]:
        if role != "assistant":
            return [IGNORE_INDEX] * len(ids)
        if self.label_policy == "llava_next":
            return list(ids)
        return [IGNORE_INDEX] * header + ids[header:-1] + [IGNORE_INDEX]  # reply + <|im_end|>; not the "\n"

    def _render(self, turns: Sequence[Turn], num_visual: int) -> tuple[list[int], list[int]]:
        messages = [("system", self.system_prompt)] if self.system_prompt is not None else []
        messages += [(t.role, t.text) for t in move_marker_to_front(turns, self.marker)]
        ids: list[int] = []
        labels: list[int] = []
        for role, text in messages:
            turn_ids, header = self._turn(role, text, num_visual)
            ids += turn_ids
            labels += self._labels(role, turn_ids, header)
        if self.label_policy == "llava_next":
            unmask = {self.newline_id, self.im_start, self.im_end}
            labels = [i if i in unmask else label for i, label in zip(ids, labels, strict=True)]
        return ids, labels

    def encode(self, turns: Sequence[Turn], num_visual_tokens: int) -> EncodedConversation:
        """Token ids and labels of a conversation holding one video of ``num_visual_tokens`` tokens.

        Shapes:
            input_ids, labels: (S,) int64

        Raises:
            BadSampleError: ``too_long`` when ``S > max_length``; ``bad_conversation`` (see
                `move_marker_to_front`) or ``no_assistant_turn``.
        """
        if not any(t.role == "assistant" for t in turns):
            raise BadSampleError("no_assistant_turn", f"{len(turns)} turns, none from the assistant")
        ids, labels = self._render(turns, num_visual_tokens)
        self._check_length(len(ids), num_visual_tokens)
        return EncodedConversation(torch.tensor(ids), torch.tensor(labels), num_visual_tokens)

    def prompt(self, turns: Sequence[Turn], num_visual_tokens: int) -> Tensor:
        """Ids of a conversation ending in a user turn, plus the `generation_header` (for generation).

        Shapes:
            returns: (S,) int64
        """
        if not turns or turns[-1].role != "user":
            raise ValueError("a generation prompt must end with a user turn")
        ids, _ = self._render(turns, num_visual_tokens)
        ids += self.generation_header()
        self._check_length(len(ids), num_visual_tokens)
        return torch.tensor(ids)

    def generation_header(self) -> list[int]:
        """Ids of ``<|im_start|>assistant\\n``: the end of every generation prompt, where the reply starts."""
        return [self.im_start, *self._text("assistant\n")]

    def _check_length(self, length: int, num_visual: int) -> None:
        if length > self.max_length:
            raise BadSampleError(
                "too_long", f"{length} tokens ({num_visual} visual) > max_length {self.max_length}; nothing is cut"
            )
