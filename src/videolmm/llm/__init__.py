"""Language models: an adapter over ``transformers`` causal LMs and the loss over its LM head.

`CausalLM` is imported on first use, so that importing the loss (and `videolmm.model`) does not
import ``transformers``.
"""

from typing import TYPE_CHECKING, Any

from videolmm.llm.loss import IGNORE_INDEX, causal_lm_loss

if TYPE_CHECKING:
    from videolmm.llm.causal_lm import CausalLM

__all__ = ["IGNORE_INDEX", "CausalLM", "causal_lm_loss"]


def __getattr__(name: str) -> Any:
    """Import `CausalLM` (and with it ``transformers``) when it is first asked for."""
    if name == "CausalLM":
        from videolmm.llm.causal_lm import CausalLM

        return CausalLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
