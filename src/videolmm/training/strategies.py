"""Strategy factories for ``conf/strategy/``: Lightning's own strategies, no launcher of ours.

Multi-node runs start the same command under ``torchrun`` or SLURM (``hydra/launcher=submitit_slurm``);
Lightning reads the rank environment either sets.
"""

from typing import Literal

from lightning.pytorch.strategies import DDPStrategy, ModelParallelStrategy


def automatic() -> str:
    """Let Lightning choose: one device, or DDP when ``trainer.devices`` > 1."""
    return "auto"


def ddp(find_unused_parameters: bool = False, static_graph: bool = False) -> DDPStrategy:
    """Data parallel: a full replica per process (gloo on CPU, NCCL on GPU)."""
    return DDPStrategy(find_unused_parameters=find_unused_parameters, static_graph=static_graph)


def fsdp2(
    data_parallel_size: int | Literal["auto"] = "auto", save_distributed_checkpoint: bool = True
) -> ModelParallelStrategy:
    """FSDP2 (``fully_shard`` per decoder layer and vision block, see `videolmm.training.shard_model`).

    Checkpoints are written in torch's distributed checkpoint format (one folder, a file per rank).
    """
    return ModelParallelStrategy(
        data_parallel_size=data_parallel_size,
        tensor_parallel_size=1,
        save_distributed_checkpoint=save_distributed_checkpoint,
    )
