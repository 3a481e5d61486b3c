"""Option-letter extraction as Video-MME / MLVU / LongVideoBench score it, and answer normalisation."""

import pytest

from videolmm.eval import exact_match, extract_option_letter, normalize_answer, option_letters

OPTIONS = ("red square", "blue circle", "green cross", "cyan triangle")


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("B", "B"),
        ("B.", "B"),
        ("(C)", "C"),
        ("C) green cross", "C"),
        ("The best answer is: D", "D"),
        ("The answer is A.", "A"),
        ("Best option: (B) blue circle", "B"),
        ("blue circle (B)", "B"),  # the synthetic benchmark's word_letter replies
        ("blue circle ( B )", "B"),  # as the word tokenizer decodes them
        ("A person walks", "A"),  # the first capital option letter wins, as in the reference scorers
        ("E", None),  # not an option letter of a 4-option question
        ("I do not know", None),
        ("green cross", "C"),  # no letter: an exact option text counts (NExT-QA's fallback)
        ("The green cross.", "C"),
        ("", None),
    ],
)
def test_extract_option_letter_follows_the_benchmark_rule(reply, letter):
    assert extract_option_letter(reply, OPTIONS) == letter


def test_option_text_fallback_needs_a_unique_match():
    assert extract_option_letter("cat", ("cat", "cat", "dog")) is None


def test_letters_are_limited_to_the_question_options():
    assert extract_option_letter("E", (*OPTIONS, "pink star")) == "E"
    assert option_letters(5) == "ABCDE"
    with pytest.raises(ValueError, match="1 to 26"):
        option_letters(0)


def test_normalised_exact_match_ignores_case_punctuation_articles_and_spaces():
    assert normalize_answer("  The Red   square. ") == "red square"
    assert exact_match("A red square!", ["the red square"])
    assert exact_match("yes", ["no", "Yes."])
    assert not exact_match("red squares", ["red square"])
    assert not exact_match("", ["red square"])
