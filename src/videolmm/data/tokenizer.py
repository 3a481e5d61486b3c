"""A real Qwen2 byte-level BPE tokenizer built from a ``qwen.tiktoken`` rank file, offline.

``dashscope==2.0.2`` ships ``dashscope/resources/qwen.tiktoken`` (151,643 ranks), the same BPE as
Qwen2. Converted with the Qwen2 pre-tokenizer regex, NFC normalisation and the special tokens
added in Qwen2-VL's order, it gives the Qwen2 ids: ``"Hello world" -> [9707, 1879]``,
``"\\n" -> 198``, ``<|endoftext|>`` 151643, ``<|im_start|>`` 151644, ``<|im_end|>`` 151645,
``<|vision_start|>`` 151652, ``<|image_pad|>`` 151655, ``<|video_pad|>`` 151656.
"""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
"""Qwen2's pre-tokenizer split: single digits, unlike tiktoken's ``\\p{N}{1,3}`` default."""

QWEN2_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
"""Special tokens in id order after the 151,643 BPE ranks (Qwen2-VL's list)."""


def qwen2_tokenizer(tiktoken_file: str | Path) -> "PreTrainedTokenizerFast":
    """Build the Qwen2 tokenizer from a ``qwen.tiktoken`` file (about 2 s on one core).

    Args:
        tiktoken_file: Path of the rank file, e.g. ``dashscope/resources/qwen.tiktoken``.

    Returns:
        A fast tokenizer with ``eos_token`` ``<|im_end|>`` and ``pad_token`` ``<|endoftext|>``, as
        Qwen2-Instruct. Save it with ``save_pretrained`` to skip the conversion next time.
    """
    from tokenizers import normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path = Path(tiktoken_file)
    if not path.is_file():
        raise FileNotFoundError(f"qwen.tiktoken rank file not found: {path}")
    converter = TikTokenConverter(
        vocab_file=str(path), pattern=QWEN2_PATTERN, extra_special_tokens=QWEN2_SPECIAL_TOKENS
    )
    backend = converter.converted()
    backend.normalizer = normalizers.NFC()
    return PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>")
