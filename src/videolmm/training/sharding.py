"""Activation checkpointing and FSDP2 sharding, per repeated block (decoder layer, vision block).

The components only expose ``block_classes``; this module decides what to do with them
(torchtitan's ``parallelize`` kept apart from the model).
"""

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    CheckpointImpl,
    checkpoint_wrapper,
)
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    apply_activation_checkpointing as wrap_blocks,
)
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import (
    CPUOffloadPolicy,
    MixedPrecisionPolicy,
    OffloadPolicy,
    fully_shard,
    register_fsdp_forward_method,
)

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def block_types(model: nn.Module) -> tuple[type[nn.Module], ...]:
    """The model's repeated block classes, or `ValueError` if it reports none."""
    classes = tuple(model.block_classes)  # type: ignore[arg-type]
    if not classes:
        raise ValueError(f"{type(model).__name__} reports no block_classes to checkpoint or shard")
    return classes


def apply_activation_checkpointing(model: nn.Module) -> int:
    """Recompute every block of ``model.block_classes`` in the backward pass; return how many were wrapped.

    Parameter names and state-dict keys are unchanged (the wrapper strips its own prefix).
    """
    classes = block_types(model)
    count = sum(isinstance(m, classes) for m in model.modules())
    wrapper = partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT)
    wrap_blocks(model, checkpoint_wrapper_fn=wrapper, check_fn=lambda m: isinstance(m, classes))
    return count


def shard_model(
    model: nn.Module,
    mesh: DeviceMesh,
    param_dtype: str | None = None,
    reduce_dtype: str = "float32",
    cpu_offload: bool = False,
    forward_methods: Sequence[str] = (),
) -> int:
    """``fully_shard`` every block, then the whole model (FSDP2); return the number of sharded blocks.

    Args:
        model: The model, after activation checkpointing if any. It is the root unit, sharded last:
            its ``forward`` runs the whole computation (embedding, towers, head and loss), so every
            parameter outside the blocks is gathered for all of it.
        mesh: The data-parallel mesh.
        param_dtype: Dtype of the gathered parameters in forward/backward (``None`` keeps theirs).
        reduce_dtype: Dtype of the gradient reduce-scatter.
        cpu_offload: Keep sharded parameters, gradients and optimizer state in CPU memory.
        forward_methods: Other methods of ``model`` that run a computation of their own (``score``,
            ``generate``): registered so that they gather the root's parameters like ``forward``.
    """
    policy = MixedPrecisionPolicy(
        param_dtype=DTYPES[param_dtype] if param_dtype else None, reduce_dtype=DTYPES[reduce_dtype]
    )
    offload = CPUOffloadPolicy() if cpu_offload else OffloadPolicy()
    classes = block_types(model)
    blocks = [m for m in model.modules() if isinstance(m, classes)]
    for block in blocks:
        fully_shard(block, mesh=mesh, mp_policy=policy, offload_policy=offload)
    fully_shard(model, mesh=mesh, mp_policy=policy, offload_policy=offload)
    for name in forward_methods:
        register_fsdp_forward_method(model, name)
    return len(blocks)
