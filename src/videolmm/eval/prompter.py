"""`VideoPrompter`: a video and a question -> transformed frames and the generation prompt ids.

The same path as training (`videolmm.data.SampleProcessor`), in evaluation mode: decode the frames
the sampler picks (deterministic: ``train=False``), count the visual tokens of ``T`` frames, put
the video marker in front of the first user turn (LLaVA-Video's time instruction after it when
asked), render the ChatML prompt ending in ``<|im_start|>assistant\\n``, transform the frames.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from torch import Tensor

from videolmm.data.conversation import ChatTemplate, add_time_instruction
from videolmm.data.decode import VideoDecoder
from videolmm.data.frames import FrameSampler, time_instruction
from videolmm.data.records import VIDEO_MARKER, Turn
from videolmm.eval.schema import Video


@dataclass(frozen=True)
class PromptedVideo:
    """A prompt ready for generation.

    Attributes:
        frames: (T, C, H, W) float32, transformed for the encoder.
        input_ids: (S,) int64 prompt ids, the video as ``num_visual_tokens`` placeholders.
        num_visual_tokens: ``L`` for the ``T`` frames.
        duration: The video's length in seconds.
        times: The time in seconds of each sampled frame.
    """

    frames: Tensor
    input_ids: Tensor
    num_visual_tokens: int
    duration: float
    times: tuple[float, ...]


class VideoPrompter:
    """Decode, sample, transform and tokenise for generation (see the module docstring).

    Args:
        chat: The ChatML template (tokenizer, system prompt).
        decoder: The video decoder.
        frames: The frame sampler (evaluation mode).
        transform: uint8 (T, C, H, W) -> float (T, C, S, S) for the encoder.
        budget: ``T -> L`` visual tokens, e.g. `videolmm.data.VisualBudget`.
        time_instruction: Add LLaVA-Video's time instruction after the video marker.
    """

    def __init__(
        self,
        chat: ChatTemplate,
        decoder: VideoDecoder,
        frames: FrameSampler,
        transform: Callable[[Tensor], Tensor],
        budget: Callable[[int], int],
        time_instruction: bool = False,
    ) -> None:
        self.chat = chat
        self.decoder = decoder
        self.frames = frames
        self.transform = transform
        self.budget = budget
        self.time_instruction = bool(time_instruction)

    def __call__(self, video: Video, text: str) -> PromptedVideo:
        """The prompt of one question about ``video``."""
        return self.conversation(video, [Turn("user", text)])

    def conversation(self, video: Video, turns: Sequence[Turn]) -> PromptedVideo:
        """The prompt of a conversation about ``video`` that ends with a user turn.

        Shapes:
            frames: (T, C, H, W); input_ids: (S,)
        """
        decoded = self.decoder.read(video, self.frames, train=False)
        num_visual = self.budget(len(decoded.selection))
        turns = tuple(turns)
        if not any(VIDEO_MARKER in t.text for t in turns):
            first = next((i for i, t in enumerate(turns) if t.role == "user"), None)
            if first is None:
                raise ValueError(f"a conversation about a video needs a user turn, got roles {[t.role for t in turns]}")
            turns = (*turns[:first], Turn("user", f"{VIDEO_MARKER}\n{turns[first].text}"), *turns[first + 1 :])
        if self.time_instruction:
            turns = add_time_instruction(turns, time_instruction(decoded.info.duration, decoded.selection))
        ids = self.chat.prompt(turns, num_visual)
        frames = self.transform(decoded.frames)  # (T, C, H, W) uint8 -> (T, C, S, S) float32
        return PromptedVideo(frames, ids, num_visual, decoded.info.duration, decoded.selection.times)
