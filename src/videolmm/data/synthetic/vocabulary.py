"""A word-level tokenizer for the synthetic benchmark's closed vocabulary (fits a 256-id tiny LLM).

The benchmark's text is generated from a few templates, so a word-level tokenizer covers it
without an unknown token: the words of every question, option, instruction and answer, the
ChatML role names and the default system prompt, single digits, option letters and punctuation.
Special tokens come first with fixed ids: ``<|endoftext|>`` 0 (padding), ``<|im_start|>`` 1,
``<|im_end|>`` 2, ``<|video_pad|>`` 3, ``[UNK]`` 4; then ``"\\n"`` and the words in sorted order.
"""

import re
from typing import TYPE_CHECKING

import numpy as np

from videolmm.data.conversation import DEFAULT_SYSTEM_PROMPT
from videolmm.data.records import VIDEO_MARKER
from videolmm.data.synthetic.benchmark import INSTRUCTIONS, LETTERS, TemporalBenchmark
from videolmm.data.synthetic.questions import KINDS, Geometry
from videolmm.data.synthetic.scene import COLOURS, SHAPES

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|video_pad|>", "[UNK]")
WORD = re.compile(r"\n|\w+|[^\w\s]")
"""How text is split: line breaks, runs of letters/digits, single punctuation marks; spaces dropped."""


def template_texts(samples_per_kind: int = 40) -> list[str]:
    """Every text the templates produce for a sweep of seeds (questions, options, answers, instructions)."""
    texts = [DEFAULT_SYSTEM_PROMPT, "system user assistant", " ".join(COLOURS), " ".join(SHAPES), " ".join(LETTERS)]
    texts += list(INSTRUCTIONS.values()) + [str(d) for d in range(10)]
    geometry = Geometry(size=32, side=11, num_frames=8, difficulty=1.0)
    for name, kind in KINDS.items():
        for i in range(samples_per_kind):
            question = kind.build(np.random.default_rng([i, len(name)]), geometry)
            texts += [question.text, *question.options]
    bench = TemporalBenchmark(multiple_choice=0.5)
    for i in range(2 * len(KINDS)):
        texts += [turn["value"].replace(VIDEO_MARKER, "") for turn in bench.sample("train", i).record["conversations"]]
    return texts


def synthetic_vocabulary() -> list[str]:
    """The tokens, in id order (specials first)."""
    words = sorted({w for text in template_texts() for w in WORD.findall(text)} - {"\n"})
    return [*SPECIAL_TOKENS, "\n", *words]


def synthetic_tokenizer() -> "PreTrainedTokenizerFast":
    """A word-level tokenizer over `synthetic_vocabulary` (about 120 ids), built in milliseconds."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(synthetic_vocabulary())}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(" ", behavior="removed"), pre_tokenizers.Split(Regex(r"\n|[^\w\s]"), behavior="isolated")]
    )
    backend.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    backend.add_special_tokens(list(SPECIAL_TOKENS))
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<|endoftext|>", eos_token="<|im_end|>", unk_token="[UNK]"
    )
