"""Training: the LightningModule, stages, optimizer groups, schedules, sharding, FLOPs and callbacks."""

from videolmm.training.callbacks import ThroughputMonitor
from videolmm.training.checkpoints import (
    AtomicCheckpointIO,
    CheckpointError,
    VerifiedModelCheckpoint,
    choose_resume_checkpoint,
    verify_checkpoint,
)
from videolmm.training.compile import CompileBlocks, compile_blocks
from videolmm.training.evaluation import BenchmarkDataModule, EvaluationModule
from videolmm.training.flops import PEAK_BF16_FLOPS, TransformerCost, VideoLMMFlops, mfu, pass_factor, peak_flops
from videolmm.training.memory import ActivationMemory, DecoderShape, VisionShape, activation_memory
from videolmm.training.module import VideoLMMModule
from videolmm.training.optim import build_optimizer, no_decay_parameters, param_groups
from videolmm.training.plan import StateMemory, TrainingPlan, Workload, plan_training, state_memory
from videolmm.training.schedule import constant_with_warmup, cosine_with_warmup
from videolmm.training.sharding import apply_activation_checkpointing, shard_model
from videolmm.training.stage import Stage, components, parameter_table

__all__ = [
    "PEAK_BF16_FLOPS",
    "ActivationMemory",
    "AtomicCheckpointIO",
    "BenchmarkDataModule",
    "CheckpointError",
    "CompileBlocks",
    "DecoderShape",
    "EvaluationModule",
    "Stage",
    "StateMemory",
    "ThroughputMonitor",
    "TrainingPlan",
    "TransformerCost",
    "VerifiedModelCheckpoint",
    "VideoLMMFlops",
    "VideoLMMModule",
    "VisionShape",
    "Workload",
    "activation_memory",
    "apply_activation_checkpointing",
    "build_optimizer",
    "choose_resume_checkpoint",
    "compile_blocks",
    "components",
    "constant_with_warmup",
    "cosine_with_warmup",
    "mfu",
    "no_decay_parameters",
    "param_groups",
    "parameter_table",
    "pass_factor",
    "peak_flops",
    "plan_training",
    "shard_model",
    "state_memory",
    "verify_checkpoint",
]
