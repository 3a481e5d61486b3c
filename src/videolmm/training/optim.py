"""AdamW parameter groups: a learning rate per component, no weight decay on norms, biases, embeddings."""

from collections.abc import Callable

import torch
from torch import nn

from videolmm.training.stage import Stage, components


def no_decay_parameters(module: nn.Module) -> set[int]:
    """Ids of parameters that take no weight decay: every 1-D tensor (norm scales, biases, learned
    separator vectors) and every ``nn.Embedding`` weight."""
    ids = {id(p) for p in module.parameters() if p.ndim < 2}
    ids |= {id(m.weight) for m in module.modules() if isinstance(m, nn.Embedding)}
    return ids


def param_groups(model: nn.Module, stage: Stage, lr: float, weight_decay: float) -> list[dict]:
    """Optimizer groups for the trainable parameters: one per (component, decay or not).

    Frozen parameters are left out, so they get no optimizer state.
    """
    groups = []
    for name, module in components(model).items():
        skip = no_decay_parameters(module)
        params = [p for p in module.parameters() if p.requires_grad]
        for decay in (True, False):
            chosen = [p for p in params if (id(p) not in skip) == decay]
            if chosen:
                groups.append(
                    {
                        "params": chosen,
                        "lr": lr * stage.lr_multiplier(name),
                        "weight_decay": weight_decay if decay else 0.0,
                        "name": f"{name}{'' if decay else '.no_decay'}",
                    }
                )
    if not groups:
        raise ValueError(f"stage {stage.name!r} leaves no trainable parameter")
    return groups


def build_optimizer(
    model: nn.Module, stage: Stage, optimizer: Callable[..., torch.optim.Optimizer], lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    """``optimizer(param_groups(...))``; ``optimizer`` is a partial such as ``torch.optim.AdamW(betas=...)``."""
    return optimizer(param_groups(model, stage, lr, weight_decay), lr=lr)
