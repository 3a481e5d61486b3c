"""Training: stages, optimizer groups, schedules, FLOPs (the LightningModule lands with issue 6)."""

from videolmm.training.flops import PEAK_BF16_FLOPS, TransformerCost, mfu, pass_factor, peak_flops
from videolmm.training.optim import build_optimizer, no_decay_parameters, param_groups
from videolmm.training.schedule import constant_with_warmup, cosine_with_warmup
from videolmm.training.stage import Stage, components, parameter_table

__all__ = [
    "PEAK_BF16_FLOPS",
    "Stage",
    "TransformerCost",
    "build_optimizer",
    "components",
    "constant_with_warmup",
    "cosine_with_warmup",
    "mfu",
    "no_decay_parameters",
    "param_groups",
    "parameter_table",
    "pass_factor",
    "peak_flops",
]
