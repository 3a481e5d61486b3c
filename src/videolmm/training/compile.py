"""``torch.compile`` per repeated block: vision blocks, the reducer, decoder layers.

Only each module's ``forward`` is compiled, in place (torchtitan compiles per block too): module
hooks (FSDP2's all-gathers), activation-checkpoint wrappers and state-dict keys stay as they
are, and one compiled graph is reused by every block of the same shape. `CompileBlocks` applies
it from a Lightning callback once the model is configured (built, checkpointed, sharded).
"""

from typing import Any

import lightning as L
import torch
from torch import nn

from videolmm.model.videolmm import VideoLMM
from videolmm.training.module import VideoLMMModule


def _blocks(component: Any) -> list[nn.Module]:
    """The repeated blocks of an encoder or LLM adapter (by its ``block_classes``)."""
    classes = tuple(component.block_classes)
    return [m for m in component.modules() if isinstance(m, classes)]


def compile_blocks(
    model: VideoLMM,
    encoder: bool = True,
    reducer: bool = True,
    llm: bool = True,
    backend: str = "inductor",
    mode: str | None = None,
    dynamic: bool | None = None,
) -> int:
    """Compile the ``forward`` of the chosen parts in place; return how many modules were compiled.

    Modules compiled before are left alone, so calling it twice is harmless.

    Args:
        model: The model to change.
        encoder: Every vision block (``encoder.block_classes``).
        reducer: The token reducer.
        llm: Every decoder layer (``llm.block_classes``).
        backend: ``torch.compile`` backend (``"inductor"``; ``"aot_eager"`` traces without code generation).
        mode: ``torch.compile`` mode (``None``, ``"max-autotune-no-cudagraphs"``, ...).
        dynamic: ``torch.compile`` dynamic-shape setting (``None`` lets it decide after a recompile).
    """
    targets: list[nn.Module] = []
    if encoder:
        targets += _blocks(model.encoder)
    if reducer:
        targets.append(model.reducer)
    if llm:
        targets += _blocks(model.llm)
    compiled = 0
    for module in targets:
        if "forward" in vars(module):  # already replaced by a compiled forward
            continue
        module.forward = torch.compile(module.forward, backend=backend, mode=mode, dynamic=dynamic)  # type: ignore[method-assign]
        compiled += 1
    return compiled


class CompileBlocks(L.Callback):
    """Compile blocks of the `VideoLMMModule`'s model when fitting, validating or predicting starts.

    Args:
        encoder: Compile every vision block.
        reducer: Compile the reducer.
        llm: Compile every decoder layer.
        backend: ``torch.compile`` backend.
        mode: ``torch.compile`` mode.
        dynamic: ``torch.compile`` dynamic-shape setting.
    """

    def __init__(
        self,
        encoder: bool = True,
        reducer: bool = True,
        llm: bool = True,
        backend: str = "inductor",
        mode: str | None = None,
        dynamic: bool | None = None,
    ) -> None:
        super().__init__()
        self.encoder, self.reducer, self.llm = encoder, reducer, llm
        self.backend, self.mode, self.dynamic = backend, mode, dynamic

    def _compile(self, pl_module: L.LightningModule) -> None:
        if not isinstance(pl_module, VideoLMMModule) or pl_module.model is None:
            raise TypeError(f"CompileBlocks needs a configured VideoLMMModule, got {type(pl_module).__name__}")
        compile_blocks(
            pl_module.model, self.encoder, self.reducer, self.llm, backend=self.backend, mode=self.mode,
            dynamic=self.dynamic,
        )  # fmt: skip

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Compile before the first training step."""
        self._compile(pl_module)

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Compile before validating (a no-op when fitting already did)."""
        self._compile(pl_module)

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Compile before predicting."""
        self._compile(pl_module)
