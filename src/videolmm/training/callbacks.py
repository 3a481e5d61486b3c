"""Training callbacks: throughput and MFU accounting, loader positions of every rank in checkpoints."""

import time
from typing import Any

import lightning as L
import torch

from videolmm.data.loader import merge_loader_states
from videolmm.training.flops import VideoLMMFlops, mfu, peak_flops
from videolmm.training.module import VideoLMMModule


class ThroughputMonitor(L.Callback):
    """Log samples/s, tokens/s, the visual-token share and MFU every ``window`` optimizer steps.

    Tokens are real (unpadded) positions; MFU counts the LLM, the vision tower and the projector
    (`VideoLMMFlops`, torchtitan's convention) against the GPU's dense bf16 peak, and is logged
    only on CUDA devices whose peak is known. Rates are per process; MFU is per GPU.

    Args:
        window: Optimizer steps averaged in one log line.
    """

    def __init__(self, window: int = 10) -> None:
        super().__init__()
        self.window = window
        self._flops: VideoLMMFlops | None = None
        self._reset()

    def _reset(self) -> None:
        self._start: float | None = None
        self._steps = 0
        self._totals = {"samples": 0.0, "tokens": 0.0, "visual": 0.0, "flops": 0.0}

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Build the FLOP model from the configured model and stage."""
        if not isinstance(pl_module, VideoLMMModule) or pl_module.model is None:
            raise TypeError(f"ThroughputMonitor needs a configured VideoLMMModule, got {type(pl_module).__name__}")
        self._flops = VideoLMMFlops(pl_module.model, pl_module.stage.trainable)
        on_cuda = pl_module.device.type == "cuda"
        self._peak = peak_flops(torch.cuda.get_device_name(pl_module.device)) if on_cuda else None

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        """Start the clock at the first micro-batch of a window."""
        if self._start is None:
            if pl_module.device.type == "cuda":
                torch.cuda.synchronize(pl_module.device)
            self._start = time.perf_counter()

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Count the micro-batch; log when a window of optimizer steps is complete."""
        assert self._flops is not None
        assert self._start is not None
        ids = batch["input_ids"]
        mask = batch.get("attention_mask")
        lengths = (mask.sum(1) if mask is not None else torch.full((ids.shape[0],), ids.shape[1])).tolist()
        visual = int((ids == self._flops.video_token_id).sum())
        videos = batch.get("videos")
        frames = 0 if videos is None else sum(v.shape[0] for v in videos if v is not None)
        self._totals["samples"] += ids.shape[0]
        self._totals["tokens"] += sum(lengths)
        self._totals["visual"] += visual
        self._totals["flops"] += sum(self._flops(frames, lengths, visual).values())
        if (batch_idx + 1) % trainer.accumulate_grad_batches:
            return
        self._steps += 1
        if self._steps < self.window:
            return
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize(pl_module.device)
        seconds = time.perf_counter() - self._start
        t = self._totals
        metrics = {
            "perf/samples_per_s": t["samples"] / seconds,
            "perf/tokens_per_s": t["tokens"] / seconds,
            "perf/visual_token_share": t["visual"] / max(t["tokens"], 1.0),
            "perf/step_s": seconds / self._steps,
            "perf/tflops_per_s": t["flops"] / seconds / 1e12,
        }
        if self._peak is not None:
            metrics["perf/mfu"] = mfu(t["flops"], seconds, self._peak)
        pl_module.log_dict(metrics, rank_zero_only=True)
        self._reset()


class GatherLoaderStates(L.Callback):
    """Put every rank's training-loader position into the checkpoint, so resume is exact on every rank.

    Lightning saves the stateful train loader's ``state_dict()`` of the process that writes the
    checkpoint; each rank of a `videolmm.data.ResumableLoader` only knows its own position. On
    save, the positions of all ranks are gathered and merged (`merge_loader_states`); every
    rank then finds its own on resume. A no-op in a single process.
    """

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        """Gather and merge the loader states of all ranks (a collective: every rank runs it)."""
        if trainer.world_size == 1:
            return
        fit_state = checkpoint["loops"]["fit_loop"]["state_dict"]
        states = fit_state.get("combined_loader")  # absent when the loader keeps no state
        if not states:
            return
        gathered: list[Any] = [None] * trainer.world_size
        torch.distributed.all_gather_object(gathered, states)
        fit_state["combined_loader"] = [
            merge_loader_states([rank_states[i] for rank_states in gathered]) for i in range(len(states))
        ]
