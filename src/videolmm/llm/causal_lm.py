"""`CausalLM`: the adapter over a ``transformers`` decoder-only language model.

The model is built from a ``transformers`` config object (``Qwen2Config``, ``LlamaConfig``, ...),
never downloaded. The adapter splits the HF model into the three pieces a video LMM needs:
`embed` (token ids -> vectors), `forward` (vectors -> final hidden states) and `head` (the
LM head, kept separate so that a loss can run on selected hidden states without ever
materialising the full (B, S, vocab) logits).
"""

from typing import Any

from torch import Tensor, nn
from transformers import AutoModelForCausalLM, PretrainedConfig, PreTrainedModel


class CausalLM(nn.Module):
    """A decoder-only LM from ``transformers``, randomly initialised from ``config``.

    Args:
        config: A ``transformers`` config of a causal LM (its class picks the architecture).
        attn_implementation: ``"sdpa"`` (default), ``"eager"`` or ``"flash_attention_2"``
            (needs the ``flash-attn`` package and CUDA).
    """

    def __init__(self, config: PretrainedConfig, attn_implementation: str = "sdpa") -> None:
        super().__init__()
        self.model: PreTrainedModel = AutoModelForCausalLM.from_config(config, attn_implementation=attn_implementation)

    @property
    def config(self) -> PretrainedConfig:
        """The HF config of the wrapped model."""
        return self.model.config

    @property
    def hidden_size(self) -> int:
        """``E``."""
        return self.model.config.hidden_size

    @property
    def vocab_size(self) -> int:
        """Rows of the LM head."""
        return int(self.model.config.vocab_size)

    @property
    def head(self) -> nn.Module:
        """The LM head: (..., E) -> (..., vocab)."""
        return self.model.get_output_embeddings()

    @property
    def tied(self) -> bool:
        """Whether the LM head shares its weight with the token embedding."""
        return self.head.weight is self.model.get_input_embeddings().weight

    @property
    def block_classes(self) -> tuple[type[nn.Module], ...]:
        """The decoder layer class(es), for sharding and activation checkpointing."""
        layers = self.model.get_decoder().layers
        return tuple(dict.fromkeys(type(layer) for layer in layers))

    def embed(self, input_ids: Tensor) -> Tensor:
        """Token embeddings.

        Shapes:
            input_ids: (B, S) -> (B, S, E)
        """
        return self.model.get_input_embeddings()(input_ids)

    def forward(
        self, inputs_embeds: Tensor, attention_mask: Tensor | None = None, position_ids: Tensor | None = None
    ) -> Tensor:
        """Final hidden states (after the last norm, before the LM head).

        Args:
            inputs_embeds: Input vectors.
            attention_mask: 1 for real tokens, 0 for padding.
            position_ids: Positions (e.g. restarting at every packed sequence); ``None`` counts from 0.

        Shapes:
            inputs_embeds: (B, S, E) -> (B, S, E); attention_mask, position_ids: (B, S)
        """
        decoder = self.model.get_decoder()
        out = decoder(
            inputs_embeds=inputs_embeds, attention_mask=attention_mask, position_ids=position_ids, use_cache=False
        )
        return out.last_hidden_state

    def logits(self, hidden: Tensor) -> Tensor:
        """Apply the LM head.

        Shapes:
            hidden: (B, S, E) -> (B, S, vocab)
        """
        return self.head(hidden)

    def generate(self, inputs_embeds: Tensor, attention_mask: Tensor | None = None, **kwargs: Any) -> Tensor:
        """Decode with HF ``generate`` and its KV cache, starting from input vectors.

        Args:
            inputs_embeds: The prompt as vectors.
            attention_mask: 1 for real tokens, 0 for (left) padding.
            **kwargs: HF generation arguments (``max_new_tokens``, ``do_sample``, ...).

        Returns:
            The new token ids only, (B, new tokens).

        Shapes:
            inputs_embeds: (B, S, E)
        """
        generator: Any = self.model  # a GenerationMixin; its stubs do not type this call
        return generator.generate(inputs_embeds=inputs_embeds, attention_mask=attention_mask, **kwargs)
