"""Training: the LightningModule, stages, optimizer groups, schedules, sharding, FLOPs and callbacks."""

from videolmm.training.callbacks import ThroughputMonitor
from videolmm.training.flops import PEAK_BF16_FLOPS, TransformerCost, VideoLMMFlops, mfu, pass_factor, peak_flops
from videolmm.training.module import VideoLMMModule, token_loss_sum
from videolmm.training.optim import build_optimizer, no_decay_parameters, param_groups
from videolmm.training.schedule import constant_with_warmup, cosine_with_warmup
from videolmm.training.sharding import apply_activation_checkpointing, shard_model
from videolmm.training.stage import Stage, components, parameter_table

__all__ = [
    "PEAK_BF16_FLOPS",
    "Stage",
    "ThroughputMonitor",
    "TransformerCost",
    "VideoLMMFlops",
    "VideoLMMModule",
    "apply_activation_checkpointing",
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
    "shard_model",
    "token_loss_sum",
]
