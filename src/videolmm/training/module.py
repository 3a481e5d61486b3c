"""`VideoLMMModule`: the one ``LightningModule``; it trains any composition `build_model` makes.

The module receives the model *config*, not a built model, and builds it in `configure_model`
so that Lightning can build it on the meta device or shard it (FSDP2) before weights exist.

Loss normalisation: every micro-batch back-propagates the *sum* of its token losses; before
the optimizer step the gradients are scaled by ``A * W / n`` where ``n`` is the number of
labelled tokens of the whole global batch (all ``W`` ranks, all ``A`` accumulated
micro-batches; Lightning has already divided by ``A`` and DDP/FSDP by ``W``). The update is
therefore that of the token-mean loss over the global batch, whatever the split into
micro-batches, ranks or packed sequences.

Non-finite losses: a step in which any rank saw a non-finite loss is skipped (gradients are
dropped, so AdamW leaves every parameter and its state untouched) and counted; ``max_nonfinite``
such steps in a row stop the run.
"""

import logging
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig
from torch import Tensor

from videolmm.llm.packing import PackedSequences
from videolmm.model.build import build_model
from videolmm.model.videolmm import VideoLMM
from videolmm.training.optim import build_optimizer
from videolmm.training.sharding import apply_activation_checkpointing, shard_model
from videolmm.training.stage import Stage

Batch = dict[str, Any]
logger = logging.getLogger(__name__)


class VideoLMMModule(L.LightningModule):
    """Train a `VideoLMM` built from config.

    Args:
        model: The model config node (``encoder``, ``reducer``, ``projector``, ``separators``,
            ``llm``, ``video_token_id``, ``reduce_after_projector``), see `build_model`.
        stage: What trains, and learning-rate multipliers.
        optimizer: A partial optimizer class (``torch.optim.AdamW`` with its betas, ...).
        lr: Base learning rate.
        weight_decay: Decay of the parameters that take it (see `videolmm.training.param_groups`).
        scheduler: ``scheduler(optimizer, total_steps)`` or ``None`` for a constant rate.
        activation_checkpointing: Recompute every decoder layer and vision block in the backward.
        fsdp_param_dtype: Under FSDP2, the dtype parameters are gathered in (``"bfloat16"``) or ``None``.
        fsdp_cpu_offload: Under FSDP2, keep sharded parameters and optimizer state on the CPU.
        max_nonfinite: Consecutive skipped (non-finite) steps that stop the run.
    """

    def __init__(
        self,
        model: DictConfig,
        stage: Stage,
        optimizer: Callable[..., torch.optim.Optimizer],
        lr: float,
        weight_decay: float = 0.0,
        scheduler: Callable[..., torch.optim.lr_scheduler.LRScheduler] | None = None,
        activation_checkpointing: bool = False,
        fsdp_param_dtype: str | None = "bfloat16",
        fsdp_cpu_offload: bool = False,
        max_nonfinite: int = 5,
        init: Callable[[VideoLMM], None] | None = None,
    ) -> None:
        super().__init__()
        self.model_config = model
        self.stage = stage
        self.optimizer_factory = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.scheduler_factory = scheduler
        self.activation_checkpointing = activation_checkpointing
        self.fsdp_param_dtype = fsdp_param_dtype
        self.fsdp_cpu_offload = fsdp_cpu_offload
        self.max_nonfinite = max_nonfinite
        self.init = init
        self.model: VideoLMM | None = None
        self.parameter_table = ""
        self.skipped_steps = 0
        self._nonfinite_in_a_row = 0
        self._window = torch.zeros(3, dtype=torch.float64)  # loss sum, labelled tokens, non-finite flags
        self._val = torch.zeros(2, dtype=torch.float64)  # loss sum, labelled tokens

    def configure_model(self) -> None:
        """Build the model (once), apply the stage, activation checkpointing and sharding."""
        if self.model is not None:
            return
        self.model = build_model(self.model_config)
        if self.init is not None:
            self.init(self.model)  # starting weights (the init group), before freezing and sharding
        self.parameter_table = self.stage.apply(self.model)
        if self.activation_checkpointing:
            apply_activation_checkpointing(self.model)
        if self.device_mesh is not None:  # ModelParallelStrategy: FSDP2 over the data-parallel mesh
            # The model is the root unit: its forward computes the whole loss; score and generate are
            # registered as forward methods, so that they gather the root's parameters too.
            mesh = self.device_mesh["data_parallel"]
            shard_model(
                self.model,
                mesh,
                param_dtype=self.fsdp_param_dtype,
                cpu_offload=self.fsdp_cpu_offload,
                forward_methods=("score", "generate"),
            )

    def on_fit_start(self) -> None:
        """Log the stage's parameter table once (rank zero, logger ``videolmm.training.module``)."""
        if self.trainer.is_global_zero:
            logger.info("trainable parameters of stage %r:\n%s", self.stage.name, self.parameter_table)

    def forward(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Summed token loss and labelled-token count of a micro-batch (packed when it has ``cu_seqlens``).

        Both come from `VideoLMM.forward`: the loss any loop over the model gets.

        Shapes:
            batch["input_ids"], batch["labels"]: (B, S) -> scalar, scalar
        """
        assert self.model is not None, "configure_model() has not run"
        if "cu_seqlens" in batch:  # packed rows: attention and targets kept within each sample
            out = self.model(
                batch["input_ids"],
                videos=batch.get("videos"),
                labels=batch["labels"],
                return_logits=False,
                packed=PackedSequences.from_batch(batch),
            )
        else:
            out = self.model(
                batch["input_ids"],
                batch.get("attention_mask"),
                batch.get("videos"),
                batch["labels"],
                return_logits=False,
                position_ids=batch.get("position_ids"),
            )
        assert out.loss_sum is not None
        assert out.num_label_tokens is not None
        return out.loss_sum, out.num_label_tokens

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Back-propagate the summed token loss of the micro-batch (normalised before the step)."""
        loss_sum, count = self(batch)
        value = loss_sum.detach().double()
        finite = torch.isfinite(value)
        self._window = self._window.to(value.device) + torch.stack(
            [torch.where(finite, value, 0.0), count.double(), (~finite).double()]
        )  # stays on the device: no synchronisation per micro-batch
        return loss_sum

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Scale gradients to the global token mean, or drop them when a loss was non-finite."""
        window = self._window.to(self.device)
        self._window = torch.zeros_like(self._window)
        if self.trainer.world_size > 1:
            window = self.trainer.strategy.reduce(window, reduce_op="sum")
        loss_sum, tokens, nonfinite = window.tolist()
        params = [p for group in optimizer.param_groups for p in group["params"]]
        if nonfinite:
            for p in params:
                p.grad = None  # AdamW skips parameters without a gradient: no update, no state change
            self.skipped_steps += 1
            self._nonfinite_in_a_row += 1
            self.log("train/skipped_steps", float(self.skipped_steps), rank_zero_only=True)
            if self._nonfinite_in_a_row >= self.max_nonfinite:
                raise RuntimeError(
                    f"{self._nonfinite_in_a_row} steps in a row had a non-finite loss (step {self.global_step}); "
                    "stopping. Lower the learning rate, check the data, or use bf16-mixed instead of true bf16."
                )
            return
        self._nonfinite_in_a_row = 0
        scale = self.trainer.accumulate_grad_batches * self.trainer.world_size / max(tokens, 1.0)
        for p in params:
            if p.grad is not None:
                p.grad.mul_(scale)
        self.log("train/loss", loss_sum / max(tokens, 1.0), prog_bar=True, rank_zero_only=True)
        self.log("train/label_tokens", tokens, rank_zero_only=True)

    def on_validation_epoch_start(self) -> None:
        """Reset the validation sums."""
        self._val = torch.zeros(2, dtype=torch.float64, device=self.device)

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        """Accumulate the summed token loss and the labelled-token count."""
        loss_sum, count = self(batch)
        self._val += torch.stack([loss_sum.detach().double(), count.double()])

    def on_validation_epoch_end(self) -> None:
        """Log the token-mean validation loss over all batches and ranks."""
        val = self._val
        if self.trainer.world_size > 1:
            val = self.trainer.strategy.reduce(val, reduce_op="sum")
        self.log("val/loss", (val[0] / val[1].clamp(min=1)).item(), prog_bar=True, rank_zero_only=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Keep the skipped-step counters with the checkpoint."""
        checkpoint["videolmm"] = {"skipped_steps": self.skipped_steps, "nonfinite_in_a_row": self._nonfinite_in_a_row}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Restore the skipped-step counters."""
        state = checkpoint["videolmm"]
        self.skipped_steps, self._nonfinite_in_a_row = state["skipped_steps"], state["nonfinite_in_a_row"]

    def configure_optimizers(self) -> Any:
        """AdamW (or the configured optimizer) over the stage's parameter groups, with the schedule."""
        assert self.model is not None, "configure_model() has not run"
        optimizer = build_optimizer(self.model, self.stage, self.optimizer_factory, self.lr, self.weight_decay)
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer, total_steps=max(1, int(self.trainer.estimated_stepping_batches)))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
