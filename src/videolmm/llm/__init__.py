"""Language models: an adapter over ``transformers`` causal LMs, the loss over its LM head, packing, attention.

`CausalLM` is imported on first use, so that importing the loss (and `videolmm.model`) does not
import ``transformers``.
"""

from typing import TYPE_CHECKING, Any

from videolmm.llm.attention import SDPA_PRIORITY, describe_attention, sdpa_priority
from videolmm.llm.head_loss import ChunkedCrossEntropy, HeadLoss, LigerCrossEntropy, PlainCrossEntropy
from videolmm.llm.loss import (
    IGNORE_INDEX,
    SequenceScores,
    causal_lm_loss,
    predicted_positions,
    sequence_scores,
    token_loss_sum,
)
from videolmm.llm.packing import PackedSequences

if TYPE_CHECKING:
    from videolmm.llm.causal_lm import CausalLM

__all__ = [
    "IGNORE_INDEX",
    "SDPA_PRIORITY",
    "CausalLM",
    "ChunkedCrossEntropy",
    "HeadLoss",
    "LigerCrossEntropy",
    "PackedSequences",
    "PlainCrossEntropy",
    "SequenceScores",
    "causal_lm_loss",
    "describe_attention",
    "predicted_positions",
    "sdpa_priority",
    "sequence_scores",
    "token_loss_sum",
]


def __getattr__(name: str) -> Any:
    """Import `CausalLM` (and with it ``transformers``) when it is first asked for."""
    if name == "CausalLM":
        from videolmm.llm.causal_lm import CausalLM

        return CausalLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
