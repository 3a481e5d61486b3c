"""The Qwen2 BPE built from dashscope's qwen.tiktoken gives the Qwen2 ids."""

import pytest

from videolmm.data import QWEN2_SPECIAL_TOKENS, qwen2_tokenizer


def test_gives_the_known_qwen2_ids(qwen_tokenizer):
    tok = qwen_tokenizer
    assert tok.encode("Hello world") == [9707, 1879]
    assert tok.encode("user") == [872]
    assert tok.encode("\n") == [198]
    assert tok.encode("system\nYou are a helpful assistant.") == [8948, 198, 2610, 525, 264, 10950, 17847, 13]
    specials = {
        "<|endoftext|>": 151643,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
        "<|vision_start|>": 151652,
        "<|image_pad|>": 151655,
        "<|video_pad|>": 151656,
    }
    assert {t: tok.convert_tokens_to_ids(t) for t in specials} == specials
    assert len(tok) == 151643 + len(QWEN2_SPECIAL_TOKENS)


def test_digits_are_single_tokens_and_specials_split_text(qwen_tokenizer):
    assert qwen_tokenizer.encode("2024") == [17, 15, 17, 19]
    assert qwen_tokenizer.encode("<|im_start|>user\n<|video_pad|>") == [151644, 872, 198, 151656]
    assert qwen_tokenizer.eos_token == "<|im_end|>"
    assert qwen_tokenizer.pad_token_id == 151643


def test_missing_rank_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"qwen\.tiktoken"):
        qwen2_tokenizer(tmp_path / "qwen.tiktoken")
