"""Qwen2 ChatML with the real Qwen2 BPE: exact ids, and exact labels for both label policies."""

import pytest

from videolmm.data import BadSampleError, ChatTemplate, Turn, add_time_instruction, move_marker_to_front

S, E, NL, V = 151644, 151645, 198, 151656  # <|im_start|>, <|im_end|>, "\n", <|video_pad|>
X = -100
SYSTEM = [
    S,
    8948,
    198,
    2610,
    525,
    264,
    10950,
    17847,
    13,
    E,
    NL,
]  # <|im_start|>system\nYou are a helpful assistant.<|im_end|>\n
USER = [S, 872, 198]  # <|im_start|>user\n
ASSISTANT = [S, 77091, 198]  # <|im_start|>assistant\n
WHAT = [3838, 374, 432, 30]  # What is it?
CAT = [32, 8251, 13]  # A cat.
HOW_MANY = [4340, 1657, 30]  # How many?
TWO = [11613, 13]  # Two.

ONE_TURN = (Turn("user", "<video>\nWhat is it?"), Turn("assistant", "A cat."))
TWO_TURNS = (*ONE_TURN, Turn("user", "How many?"), Turn("assistant", "Two."))


def expected_ids(num_visual: int, two_turns: bool = False) -> list[int]:
    ids = SYSTEM + USER + [V] * num_visual + [NL, *WHAT, E, NL] + ASSISTANT + [*CAT, E, NL]
    if two_turns:
        ids += [*USER, *HOW_MANY, E, NL, *ASSISTANT, *TWO, E, NL]
    return ids


def test_ids_render_chatml_with_the_video_expanded(qwen_tokenizer):
    encoded = ChatTemplate(qwen_tokenizer).encode(ONE_TURN, num_visual_tokens=3)
    assert encoded.input_ids.tolist() == expected_ids(3)
    assert encoded.num_visual_tokens == 3 == (encoded.input_ids == V).sum()
    rendered = (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        + "<|video_pad|>" * 3
        + "\nWhat is it?<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>\n"
    )
    assert encoded.input_ids.tolist() == qwen_tokenizer.encode(rendered)  # = tokenising the rendered string


def test_assistant_policy_labels_replies_and_their_end_token_only(qwen_tokenizer):
    labels = ChatTemplate(qwen_tokenizer, label_policy="assistant").encode(TWO_TURNS, 2).labels.tolist()
    user_one = [X] * (len(SYSTEM) + len(USER) + 2 + 1 + len(WHAT) + 2)
    reply_one = [X, X, X, *CAT, E, X]
    user_two = [X] * (len(USER) + len(HOW_MANY) + 2)
    reply_two = [X, X, X, *TWO, E, X]
    assert labels == user_one + reply_one + user_two + reply_two


def test_llava_next_policy_reproduces_preprocess_qwen(qwen_tokenizer):
    ids = expected_ids(2, two_turns=True)
    labels = ChatTemplate(qwen_tokenizer, label_policy="llava_next").encode(TWO_TURNS, 2).labels.tolist()
    # system and user turns: only "\n", <|im_start|>, <|im_end|> are un-masked; the placeholders stay -100
    system = [S, X, NL, X, X, X, X, X, X, E, NL]
    user_one = [S, X, NL, X, X, NL, X, X, X, X, E, NL]
    user_two = [S, X, NL, X, X, X, E, NL]
    # assistant turns: every id, header and trailing <|im_end|>\n included
    reply_one, reply_two = [*ASSISTANT, *CAT, E, NL], [*ASSISTANT, *TWO, E, NL]
    assert labels == system + user_one + reply_one + user_two + reply_two
    assert len(labels) == len(ids)


def test_no_system_prompt_and_a_generation_prompt(qwen_tokenizer):
    chat = ChatTemplate(qwen_tokenizer, system_prompt=None)
    assert chat.encode(ONE_TURN, 1).input_ids.tolist() == expected_ids(1)[len(SYSTEM) :]
    prompt = ChatTemplate(qwen_tokenizer).prompt(ONE_TURN[:1], 1).tolist()
    assert prompt == SYSTEM + USER + [V, NL, *WHAT, E, NL] + ASSISTANT


def test_the_marker_moves_to_the_front_of_its_turn_or_is_added():
    moved = move_marker_to_front((Turn("user", "What is it? <video>"), Turn("assistant", "A cat.")))
    assert moved[0].text == "<video>\nWhat is it?"
    added = move_marker_to_front((Turn("user", "What is it?"), Turn("assistant", "A cat.")))
    assert added[0].text == "<video>\nWhat is it?"


@pytest.mark.parametrize(
    "turns",
    [
        (Turn("user", "<video> <video> What?"), Turn("assistant", "A cat.")),
        (Turn("user", "What?"), Turn("assistant", "A <video> cat.")),
        (Turn("assistant", "A cat."),),
    ],
    ids=["two markers", "marker in a reply", "no user turn"],
)
def test_malformed_conversations_are_bad_samples(qwen_tokenizer, turns):
    with pytest.raises(BadSampleError) as error:
        ChatTemplate(qwen_tokenizer).encode(turns, 4)
    assert error.value.reason == "bad_conversation"


def test_no_assistant_turn_is_a_bad_sample(qwen_tokenizer):
    with pytest.raises(BadSampleError) as error:
        ChatTemplate(qwen_tokenizer).encode(ONE_TURN[:1], 4)
    assert error.value.reason == "no_assistant_turn"


def test_too_long_is_rejected_never_cut(qwen_tokenizer):
    chat = ChatTemplate(qwen_tokenizer, max_length=len(expected_ids(10)))
    assert chat.encode(ONE_TURN, 10).input_ids.numel() == len(expected_ids(10))  # exactly at the limit
    with pytest.raises(BadSampleError, match=r"too_long: 40 tokens \(11 visual\) > max_length 39"):
        chat.encode(ONE_TURN, 11)


def test_time_instruction_goes_after_the_marker_as_llava_video_places_it(qwen_tokenizer):
    turns = add_time_instruction(ONE_TURN, "TI.")
    assert turns[0].text == "<video>\nTI.\n\nWhat is it?"  # the reference keeps the "\n" that followed <image>
    assert move_marker_to_front(turns)[0].text == "<video>\nTI.\n\nWhat is it?"
    ids = ChatTemplate(qwen_tokenizer).encode(turns, 1).input_ids.tolist()
    assert ids[len(SYSTEM) + len(USER) : len(SYSTEM) + len(USER) + 2] == [V, NL]


def test_unknown_policy_and_multi_token_placeholder_are_refused(qwen_tokenizer):
    with pytest.raises(ValueError, match="label_policy"):
        ChatTemplate(qwen_tokenizer, label_policy="everything")
    with pytest.raises(ValueError, match="single token"):
        ChatTemplate(qwen_tokenizer, placeholder_token="<video>")
