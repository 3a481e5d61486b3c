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
