"""Start-up validation of composed configs: types, unknown keys and impossible combinations, before any work.

The YAML option files live in `videolmm.conf`; this package checks what Hydra composes from them.
"""

from videolmm.config.combinations import (
    context_problems,
    frame_problems,
    frame_range,
    grid_problems,
    runtime_problems,
    stage_problems,
)
from videolmm.config.startup import exit_on_invalid_config, train_config_problems
from videolmm.config.targets import binding_problems, target_problems, type_problem

__all__ = [
    "binding_problems",
    "context_problems",
    "exit_on_invalid_config",
    "frame_problems",
    "frame_range",
    "grid_problems",
    "runtime_problems",
    "stage_problems",
    "target_problems",
    "train_config_problems",
    "type_problem",
]
