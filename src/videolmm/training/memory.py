"""Memory of one training micro-batch per GPU: model states (DDP or FSDP2) and activations (with or without AC).

Activations are counted as the tensors autograd keeps for the backward, per token and per
block, for the modules videolmm builds (``a`` = bytes of the activation dtype):

- decoder layer (``transformers`` Llama/Qwen2: RMSNorm that upcasts to float32, RoPE, SwiGLU),
  per token: ``8E + 6aE + 2a*kv + 4aI + 4H + 8`` (two RMSNorms keep a float32 copy of their
  input and the normalised output; the q/k/v input; q and the kv-head k, v after RoPE; the
  attention output and its float32 log-sum-exp; the MLP input; gate, up, SiLU and product);
- vision block (pre-LayerNorm ViT, GELU MLP), per patch: ``8aD + 2aI + 16``;
- projector: every Linear keeps its input and an activation between two Linears keeps its own;
- reducer: its input (pooling reducers keep it); the encoder keeps the frames (``a*C*H*W``);
- around the decoder: the final RMSNorm, RoPE's cos/sin, and the head loss's logits (see
  `videolmm.llm.head_loss`).

These were read off ``torch.autograd.graph.saved_tensors_hooks`` on the CPU twins; they assume
an attention kernel without a materialised mask (causal SDPA, FlashAttention-2 varlen). The
backward adds one block's transient gradients (``a*(2E + I)`` per token); with activation
checkpointing every block keeps only its input and one block is recomputed at a time.
"""

from dataclasses import dataclass
from typing import Any

from torch import nn

from videolmm.model.videolmm import VideoLMM


@dataclass(frozen=True)
class DecoderShape:
    """The decoder layers of the LLM, as activation memory sees them.

    Attributes:
        width: ``E``.
        mlp_width: ``I``, the SwiGLU width.
        heads: Query heads ``H``.
        kv_width: Key/value heads x head dimension.
        head_dim: Width of one head.
        layers: Decoder layers.
        vocab: Rows of the LM head.
    """

    width: int
    mlp_width: int
    heads: int
    kv_width: int
    head_dim: int
    layers: int
    vocab: int

    @classmethod
    def of(cls, llm: Any) -> "DecoderShape":
        """Read from a `videolmm.llm.CausalLM` (works on the meta device)."""
        config, blocks = llm.config, _blocks(llm)
        attn: Any = blocks[0].self_attn
        head_dim = int(attn.head_dim)
        kv = int(config.num_key_value_heads) * head_dim
        return cls(llm.hidden_size, int(config.intermediate_size), int(config.num_attention_heads), kv, head_dim,
                   len(blocks), llm.vocab_size)  # fmt: skip

    def saved(self, a: int) -> int:
        """Bytes one layer keeps per token."""
        E = self.width
        return 8 * E + 6 * a * E + 2 * a * self.kv_width + 4 * a * self.mlp_width + 4 * self.heads + 8

    def transient(self, a: int) -> int:
        """Bytes of one layer's gradients alive at once in the backward, per token."""
        return a * (2 * self.width + self.mlp_width)

    def final_norm(self, a: int) -> int:
        """Bytes per token the final RMSNorm keeps (freed before any layer's backward)."""
        return 4 * self.width + 4 + a * self.width

    def positions(self, a: int) -> int:
        """Bytes per token kept for the whole backward outside the layers: RoPE's cos/sin, the token ids."""
        return 2 * a * self.head_dim + 8


@dataclass(frozen=True)
class VisionShape:
    """The vision blocks of the encoder.

    Attributes:
        width: ``D``.
        mlp_width: The MLP width (the widest Linear of a block).
        layers: Blocks.
        patches: ``N = h * w`` per frame.
        pixels: ``C * H * W`` per frame.
    """

    width: int
    mlp_width: int
    layers: int
    patches: int
    pixels: int

    @classmethod
    def of(cls, model: VideoLMM) -> "VisionShape":
        """Read from the model's encoder (works on the meta device)."""
        enc, (h, w) = model.encoder, model.grid
        blocks = _blocks(enc)
        mlp = max(m.out_features for m in blocks[0].modules() if isinstance(m, nn.Linear))
        return cls(enc.embed_dim, mlp, len(blocks), h * w, enc.num_channels * enc.image_size**2)

    def saved(self, a: int) -> int:
        """Bytes one block keeps per patch."""
        return 8 * a * self.width + 2 * a * self.mlp_width + 16

    def transient(self, a: int) -> int:
        """Bytes of one block's gradients alive at once in the backward, per patch."""
        return a * (2 * self.width + self.mlp_width)


@dataclass(frozen=True)
class ActivationMemory:
    """Activation bytes of one micro-batch.

    Attributes:
        kept: Bytes kept for the backward at the end of the forward, by part.
        transient: Extra bytes the backward needs at once, by part: the loss's logits (first),
            then one block's gradients and, with checkpointing, its recomputed activations.
        released_before_blocks: Kept bytes the backward of the loss and the final norm frees
            before any block's backward.
    """

    kept: dict[str, float]
    transient: dict[str, float]
    released_before_blocks: float = 0.0

    @property
    def peak(self) -> float:
        """The most alive at once, over the three phases of the backward.

        The loss runs first (everything kept), then the decoder layers (loss and final norm
        released), then the vision blocks (only the frames and the encoder's own tensors left).
        """
        kept = sum(self.kept.values())
        return max(
            kept + self.transient["loss"],
            kept - self.released_before_blocks + self.transient["llm_layer"],
            self.kept["frames"] + self.kept["encoder"] + self.transient["encoder_block"],
        )


def _blocks(component: Any) -> list[nn.Module]:
    classes = tuple(component.block_classes)
    return [m for m in component.modules() if isinstance(m, classes)]


def _projector_bytes(projector: nn.Module, a: int) -> int:
    """Per projected token: every Linear keeps its input; the activation between two Linears keeps its own."""
    inputs = [m.in_features for m in projector.modules() if isinstance(m, nn.Linear)]
    return a * (sum(inputs) + sum(inputs[1:]))


def activation_memory(
    model: VideoLMM,
    trainable: dict[str, bool],
    num_frames: int,
    seq_len: int,
    labelled: int,
    samples: int = 1,
    act_bytes: int = 2,
    checkpointing: bool = False,
) -> ActivationMemory:
    """Activations of a micro-batch of ``samples`` samples, each ``num_frames`` frames and ``seq_len`` tokens.

    Args:
        model: The model (meta tensors are fine: only shapes are read).
        trainable: Component name -> trains (the stage); frozen parts with no gradient flowing
            through them keep nothing.
        num_frames: ``T`` per sample.
        seq_len: ``S`` per sample, visual tokens included.
        labelled: Predicted tokens per sample.
        samples: Samples in the micro-batch.
        act_bytes: Bytes per activation element (2 for bf16, 4 for float32).
        checkpointing: Vision blocks and decoder layers recompute their activations in the backward.
    """
    a, dec, vis = act_bytes, DecoderShape.of(model.llm), VisionShape.of(model)
    patches, tokens, predicted = samples * num_frames * vis.patches, samples * seq_len, samples * labelled
    enc_grad = bool(trainable.get("encoder", False))
    proj_grad = enc_grad or bool(trainable.get("projector", False))
    llm_grad = proj_grad or any(bool(trainable.get(k, False)) for k in ("separators", "llm"))
    projected = patches if model.reduce_after_projector else samples * model.num_visual_tokens(num_frames)
    reducer_in = model.projector.out_dim if model.reduce_after_projector else vis.width
    kept_loss, loss_peak = model.llm.head_loss.logits_memory(predicted, dec.vocab, a)
    enc_block, llm_block = vis.saved(a) * patches, dec.saved(a) * tokens
    kept = {
        "frames": float(enc_grad * a * vis.pixels * samples * num_frames),
        "encoder": float(enc_grad * vis.layers * (a * vis.width * patches if checkpointing else enc_block)),
        "projector": float(proj_grad * _projector_bytes(model.projector, a) * projected),
        "reducer": float(proj_grad * a * reducer_in * patches),
        "llm": float(llm_grad * dec.layers * (a * dec.width * tokens if checkpointing else llm_block)),
        "llm_final_norm": float(llm_grad * dec.final_norm(a) * tokens),
        "llm_positions": float(llm_grad * dec.positions(a) * tokens),
        "loss": float(llm_grad * (kept_loss + a * dec.width * predicted)),
    }
    transient = {
        "loss": float(llm_grad * loss_peak),
        "encoder_block": float(enc_grad * (vis.transient(a) * patches + checkpointing * enc_block)),
        "llm_layer": float(llm_grad * (dec.transient(a) * tokens + checkpointing * llm_block)),
    }
    released = kept["loss"] + kept["llm_final_norm"]
    return ActivationMemory(kept=kept, transient=transient, released_before_blocks=released)
