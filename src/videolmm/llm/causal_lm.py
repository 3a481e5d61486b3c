"""`CausalLM`: the adapter over a ``transformers`` decoder-only language model.

The model is built from a ``transformers`` config object (``Qwen2Config``, ``LlamaConfig``, ...),
never downloaded. The adapter splits the HF model into the three pieces a video LMM needs:
`embed` (token ids -> vectors), `forward` (vectors -> final hidden states) and `head` (the
LM head, kept separate so that a loss can run on selected hidden states without ever
materialising the full (B, S, vocab) logits). `head_loss` is how that loss is computed
(chunked by default, see `videolmm.llm.head_loss`).

The attention implementation and, for SDPA, the kernel priority come from the arguments; the
kernels actually chosen are logged (logger ``videolmm.llm.causal_lm``) the first time the model
runs on a device and dtype.
"""

import copy
import logging
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from transformers import AutoModelForCausalLM, PretrainedConfig, PreTrainedModel

from videolmm.llm import attention
from videolmm.llm.head_loss import ChunkedCrossEntropy, HeadLoss
from videolmm.llm.packing import PackedSequences

logger = logging.getLogger(__name__)


class CausalLM(nn.Module):
    """A decoder-only LM from ``transformers``, randomly initialised from ``config``.

    Args:
        config: A ``transformers`` config of a causal LM (its class picks the architecture).
        attn_implementation: ``"sdpa"`` (default), ``"eager"`` or ``"flash_attention_2"``
            (needs the ``flash-attn`` package and CUDA).
        sdpa_backends: With ``"sdpa"``, the kernels PyTorch may use, in priority order (names of
            ``torch.nn.attention.SDPBackend``); the default prefers cuDNN, then flash.
        head_loss: How the token loss runs through the LM head (`ChunkedCrossEntropy` when ``None``).
        flatten_packed: Run packed rows as one unpadded row (FlashAttention's varlen layout) rather
            than row by row with a block-diagonal mask (see `videolmm.llm.packing`); ``None``
            flattens exactly for the FlashAttention implementations.
    """

    def __init__(
        self,
        config: PretrainedConfig,
        attn_implementation: str = "sdpa",
        sdpa_backends: Sequence[str] = attention.SDPA_PRIORITY,
        head_loss: HeadLoss | None = None,
        flatten_packed: bool | None = None,
    ) -> None:
        super().__init__()
        attention.check_implementation(attn_implementation)
        attention.sdpa_backends(sdpa_backends)  # ValueError on an unknown name
        config = copy.deepcopy(config)  # from_config writes the attention choice into the config it is given
        self.model: PreTrainedModel = AutoModelForCausalLM.from_config(config, attn_implementation=attn_implementation)
        self.attn_implementation = attn_implementation
        self.sdpa_backends = tuple(sdpa_backends)
        self.head_loss: HeadLoss = ChunkedCrossEntropy() if head_loss is None else head_loss
        varlen = attn_implementation in attention.VARLEN_IMPLEMENTATIONS
        self.flatten_packed = varlen if flatten_packed is None else bool(flatten_packed)
        self._logged: set[tuple[str, torch.dtype]] = set()

    def extra_repr(self) -> str:
        return (
            f"attn_implementation={self.attn_implementation!r}, head_loss={self.head_loss!r}, "
            f"flatten_packed={self.flatten_packed}"
        )

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
        self,
        inputs_embeds: Tensor,
        attention_mask: Tensor | None = None,
        position_ids: Tensor | None = None,
        packed: PackedSequences | None = None,
    ) -> Tensor:
        """Final hidden states (after the last norm, before the LM head).

        Args:
            inputs_embeds: Input vectors.
            attention_mask: 1 for real tokens, 0 for padding.
            position_ids: Positions; ``None`` counts from 0.
            packed: Where the samples of packed rows are (`PackedSequences`); then
                ``attention_mask`` and ``position_ids`` must be ``None``. Attention stays within
                each sample and positions restart at each sample.

        Raises:
            ValueError: ``packed`` together with a mask or positions.

        Shapes:
            inputs_embeds: (B, S, E) -> (B, S, E); attention_mask, position_ids: (B, S)
        """
        if packed is None:
            return self._decode(inputs_embeds, attention_mask, position_ids)
        if attention_mask is not None or position_ids is not None:
            raise ValueError("packed rows take their positions from `packed`: pass no attention_mask/position_ids")
        if not self.flatten_packed:  # rows + block-diagonal masks built from the position ids
            return self._decode(inputs_embeds, None, packed.position_ids)
        flat = packed.flatten(inputs_embeds)  # (R, P, E) -> (1, S, E)
        hidden = self._decode(flat, None, packed.flatten(packed.position_ids), **packed.attention_kwargs())
        return packed.unflatten(hidden)  # (1, S, E) -> (R, P, E), zeros on padding

    def _decode(
        self, inputs_embeds: Tensor, attention_mask: Tensor | None, position_ids: Tensor | None, **kwargs: Any
    ) -> Tensor:
        """The decoder under the configured SDPA priority.

        Shapes:
            inputs_embeds: (B, S, E) -> (B, S, E)
        """
        self._log_attention(inputs_embeds)
        decoder = self.model.get_decoder()
        with attention.sdpa_priority(self.attn_implementation, self.sdpa_backends):
            out = decoder(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                position_ids=position_ids,
                use_cache=False,
                **kwargs,
            )
        return out.last_hidden_state

    def _log_attention(self, inputs_embeds: Tensor) -> None:
        """Log the attention kernels once per device type and dtype."""
        key = (inputs_embeds.device.type, inputs_embeds.dtype)
        if key in self._logged:
            return
        self._logged.add(key)
        config = self.model.config
        head_dim = self.model.get_decoder().layers[0].self_attn.head_dim
        line = attention.describe_attention(
            self.attn_implementation,
            self.sdpa_backends,
            config.num_attention_heads,
            config.num_key_value_heads,
            head_dim,
            inputs_embeds.device,
            inputs_embeds.dtype,
        )
        logger.info(line)

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
        with attention.sdpa_priority(self.attn_implementation, self.sdpa_backends):
            return generator.generate(inputs_embeds=inputs_embeds, attention_mask=attention_mask, **kwargs)
