"""Learning-rate schedules as ``LambdaLR`` factories: ``schedule(optimizer, total_steps)``."""

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


def _warmup_steps(total_steps: int, warmup_ratio: float, warmup_steps: int | None) -> int:
    steps = warmup_steps if warmup_steps is not None else math.ceil(warmup_ratio * total_steps)
    if not 0 <= steps <= total_steps:
        raise ValueError(f"warm-up of {steps} steps does not fit in {total_steps} total steps")
    return steps


def cosine_with_warmup(
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup_ratio: float = 0.03,
    warmup_steps: int | None = None,
    min_lr_ratio: float = 0.0,
) -> LambdaLR:
    """Linear warm-up from 0, then a half cosine down to ``min_lr_ratio`` x the base rate at ``total_steps``.

    ``warmup_steps`` overrides ``warmup_ratio`` (LLaVA-Video uses a ratio of 0.03).
    """
    warm = _warmup_steps(total_steps, warmup_ratio, warmup_steps)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, total_steps - warm))
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, factor)


def constant_with_warmup(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float = 0.0, warmup_steps: int | None = None
) -> LambdaLR:
    """Linear warm-up, then the base rate."""
    warm = _warmup_steps(total_steps, warmup_ratio, warmup_steps)
    return LambdaLR(optimizer, lambda step: (step + 1) / warm if step < warm else 1.0)
