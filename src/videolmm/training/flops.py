"""Model FLOPs of a training step, in the torchtitan convention, and the peak FLOP/s of common GPUs.

Per transformer and per sample of ``s`` tokens the forward pass costs ``2*P*s + 4*layers*width*s^2``
(``P`` = parameters outside the token embedding; the attention term is not halved for causal
masks and recomputation is not counted), so a trained transformer costs
``6*P*s + 12*layers*width*s^2``: torchtitan's ``6N + 12*L*H*Q*T`` per token. Attention is summed
over each sample's real length (``sum s_i^2``), the right cost for padded or packed video batches.
A component whose weights are frozen but whose input needs gradients costs 2x its forward; one
that needs no backward at all costs 1x.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from videolmm.model.videolmm import VideoLMM

# Dense bfloat16 tensor-core peaks (no sparsity), FLOP/s: vendor data sheets, as torchtitan and Lightning list them.
PEAK_BF16_FLOPS: dict[str, float] = {
    "H200": 989e12,
    "H100 NVL": 835e12,
    "H100 PCIe": 756e12,
    "H100": 989e12,  # SXM
    "H800": 989e12,
    "A100": 312e12,
    "A800": 312e12,
    "L40S": 362e12,
    "L4": 121e12,
    "A10G": 70e12,
}


def peak_flops(device_name: str) -> float | None:
    """Peak dense bf16 FLOP/s of a CUDA device from its name (longest matching key), or ``None``."""
    matches = [key for key in PEAK_BF16_FLOPS if key in device_name]
    return PEAK_BF16_FLOPS[max(matches, key=len)] if matches else None


@dataclass(frozen=True)
class TransformerCost:
    """What the FLOP count of one transformer needs.

    Attributes:
        params: Parameters outside the token embedding (the LM head counts).
        layers: Transformer blocks.
        width: Attention width, heads x head dimension.
    """

    params: int
    layers: int
    width: int

    def forward_flops(self, lengths: Sequence[int]) -> float:
        """Forward FLOPs over samples of the given token lengths."""
        return 2.0 * self.params * sum(lengths) + 4.0 * self.layers * self.width * sum(s * s for s in lengths)


def pass_factor(trainable: bool, input_needs_grad: bool) -> int:
    """Forward-equivalents one step costs: 3 when trained, 2 when only the input gradient flows back, else 1."""
    return 3 if trainable else 2 if input_needs_grad else 1


def mfu(flops_per_step: float, step_seconds: float, peak: float, devices: int = 1) -> float:
    """Model FLOPs utilisation: achieved FLOP/s over ``devices * peak``."""
    return flops_per_step / step_seconds / (devices * peak)


class VideoLMMFlops:
    """FLOPs of one training micro-batch of a `VideoLMM`, by component.

    Encoder: a transformer over ``h*w`` patches per frame; projector: ``2 * P`` per projected
    token (every patch when it runs before the reducer, every visual token otherwise); LLM: a
    transformer over each sample's real length. Pass factors follow the stage: a frozen
    component still pays a backward for its input when something before it trains.

    Args:
        model: The `VideoLMM` (its encoder, projector, llm and reducer are read, not run).
        trainable: Component name -> whether it trains (the stage's ``trainable``).
    """

    def __init__(self, model: "VideoLMM", trainable: dict[str, bool]) -> None:
        enc, llm = model.encoder, model.llm
        enc_blocks = sum(isinstance(m, tuple(enc.block_classes)) for m in enc.modules())
        llm_blocks = sum(isinstance(m, tuple(llm.block_classes)) for m in llm.modules())
        embedding = llm.model.get_input_embeddings().weight
        llm_params = sum(p.numel() for p in llm.parameters() if p is not embedding)
        if llm.tied:
            llm_params += embedding.numel()  # the tied LM head still multiplies
        self.encoder = TransformerCost(sum(p.numel() for p in enc.parameters()), enc_blocks, enc.embed_dim)
        self.llm = TransformerCost(llm_params, llm_blocks, llm.hidden_size)
        self.projector_params = sum(p.numel() for p in model.projector.parameters())
        self.patches_per_frame = model.grid[0] * model.grid[1]
        self.projects_patches = model.reduce_after_projector
        self.video_token_id = model.video_token_id
        train = {name: bool(trainable.get(name, False)) for name in ("encoder", "projector", "separators", "llm")}
        self.factor = {
            "encoder": pass_factor(train["encoder"], False),
            "projector": pass_factor(train["projector"], train["encoder"]),
            "llm": pass_factor(train["llm"], train["encoder"] or train["projector"] or train["separators"]),
        }

    def __call__(self, frames: int, lengths: list[int], visual_tokens: int) -> dict[str, float]:
        """FLOPs per component for a micro-batch of ``frames`` frames and samples of ``lengths`` tokens."""
        projected = frames * self.patches_per_frame if self.projects_patches else visual_tokens
        return {
            "encoder": self.factor["encoder"] * self.encoder.forward_flops([self.patches_per_frame] * frames),
            "projector": self.factor["projector"] * 2.0 * self.projector_params * projected,
            "llm": self.factor["llm"] * self.llm.forward_flops(lengths),
        }
