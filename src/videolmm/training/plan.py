"""`plan_training`: visual tokens, FLOPs, memory per GPU and step time of a run, from the model's shapes alone.

The model may live on the meta device: nothing here allocates or runs it. FLOPs follow
`VideoLMMFlops` (torchtitan's convention); memory follows `videolmm.training.memory` for the
activations and this module for the model states:

- replicated (DDP / one device): float32 weights ``4P``, gradients ``4P_t``, AdamW moments
  ``8P_t`` (``P_t`` trainable), plus the bf16 copies autocast makes of the weights (``2P``);
- FSDP2 over ``G`` GPUs (`videolmm.training.shard_model`: one group per block plus the root):
  the same ``(4P + 12P_t) / G`` sharded, plus the gathered bf16 parameters alive at once, namely
  the root's (token embedding, LM head, norms, projector, patch embedding: FSDP2 keeps the root
  gathered from forward to backward) and two blocks (the current one and the prefetched one),
  plus the root's unsharded bf16 gradients and one block's.
"""

from dataclasses import dataclass

from torch import nn

from videolmm.model.videolmm import VideoLMM
from videolmm.training.flops import TransformerCost, VideoLMMFlops
from videolmm.training.memory import ActivationMemory, activation_memory
from videolmm.training.stage import Stage

GIB = float(2**30)


@dataclass(frozen=True)
class StateMemory:
    """Bytes per GPU of the model states.

    Attributes:
        params: Master weights held by this GPU (its shard under FSDP2).
        grads: Gradients held by this GPU.
        optimizer: AdamW moments held by this GPU.
        working: Low-precision copies alive during a step (gathered parameters and unsharded
            gradients under FSDP2, autocast weight copies otherwise).
    """

    params: float
    grads: float
    optimizer: float
    working: float

    @property
    def total(self) -> float:
        """All of them."""
        return self.params + self.grads + self.optimizer + self.working


def _numel(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def state_memory(
    model: VideoLMM, gpus: int, sharded: bool, master_bytes: int = 4, compute_bytes: int = 2, moments: int = 2
) -> StateMemory:
    """Model-state bytes per GPU; ``requires_grad`` of the parameters says what trains (apply the stage first)."""
    total, trainable = _numel(model), _numel(model, trainable_only=True)
    if not sharded:
        return StateMemory(master_bytes * total, 4.0 * trainable, 4.0 * moments * trainable, compute_bytes * total)
    classes = tuple(model.block_classes)
    blocks = [m for m in model.modules() if isinstance(m, classes)]
    largest = max(_numel(b) for b in blocks)
    root = total - sum(_numel(b) for b in blocks)
    root_trainable = trainable - sum(_numel(b, trainable_only=True) for b in blocks)
    working = compute_bytes * (root + 2 * largest) + compute_bytes * (root_trainable + largest * (trainable > 0))
    return StateMemory(master_bytes * total / gpus, 4.0 * trainable / gpus, 4.0 * moments * trainable / gpus, working)


@dataclass(frozen=True)
class Workload:
    """What one GPU processes per optimizer step.

    Attributes:
        num_frames: ``T`` per sample.
        text_tokens: Non-visual tokens per sample (prompt, template, answer).
        labelled_tokens: Predicted tokens per sample.
        micro_batch: Samples per micro-batch.
        accumulate: Micro-batches per optimizer step.
        gpus: Data-parallel GPUs.
    """

    num_frames: int
    text_tokens: int
    labelled_tokens: int
    micro_batch: int = 1
    accumulate: int = 1
    gpus: int = 1

    @property
    def global_batch(self) -> int:
        """Samples per optimizer step over all GPUs."""
        return self.micro_batch * self.accumulate * self.gpus


@dataclass(frozen=True)
class TrainingPlan:
    """The numbers `plan_training` derives (bytes, FLOPs, seconds).

    Attributes:
        workload: The input workload.
        params: Parameters per component.
        trainable: Trainable parameters.
        visual_tokens: ``L'`` per sample.
        seq_len: ``S = L' + text_tokens`` per sample.
        flops: Model FLOPs per component for one micro-batch.
        recompute_flops: Forward FLOPs activation checkpointing repeats per micro-batch.
        states: Model-state bytes per GPU.
        activations: Activation bytes per GPU without (``False``) and with (``True``) checkpointing.
    """

    workload: Workload
    params: dict[str, int]
    trainable: int
    visual_tokens: int
    seq_len: int
    flops: dict[str, float]
    recompute_flops: float
    states: StateMemory
    activations: dict[bool, ActivationMemory]

    @property
    def flops_per_gpu_step(self) -> float:
        """Model FLOPs one GPU does per optimizer step."""
        return sum(self.flops.values()) * self.workload.accumulate

    def memory(self, checkpointing: bool) -> float:
        """Peak bytes per GPU: model states plus the activation peak."""
        return self.states.total + self.activations[checkpointing].peak

    def step_seconds(self, mfu: float, peak_flops: float) -> float:
        """Seconds per optimizer step at model FLOPs utilisation ``mfu`` of ``peak_flops``."""
        return self.flops_per_gpu_step / (mfu * peak_flops)

    def tokens_per_second(self, mfu: float, peak_flops: float) -> float:
        """Tokens (visual included) per second per GPU at that utilisation."""
        w = self.workload
        return w.micro_batch * w.accumulate * self.seq_len / self.step_seconds(mfu, peak_flops)


def plan_training(
    model: VideoLMM,
    stage: Stage,
    workload: Workload,
    sharded: bool,
    act_bytes: int = 2,
    max_positions: int | None = None,
) -> TrainingPlan:
    """Plan a run of ``model`` (meta tensors are fine) under ``stage`` for ``workload``.

    Args:
        model: The model; ``stage`` is applied to it (``requires_grad`` is set).
        stage: What trains.
        workload: Frames, tokens and batch per GPU.
        sharded: FSDP2 over ``workload.gpus`` (else every GPU holds a full replica).
        act_bytes: Bytes per activation element (2: bf16).
        max_positions: The LLM's context; a longer sample raises.

    Raises:
        ValueError: A sample does not fit the context.
    """
    stage.apply(model)
    w = workload
    visual = model.num_visual_tokens(w.num_frames)
    seq_len = visual + w.text_tokens
    if max_positions is not None and seq_len > max_positions:
        raise ValueError(
            f"a sample has {seq_len} tokens ({visual} visual + {w.text_tokens} text) > context {max_positions}"
        )
    counter = VideoLMMFlops(model, stage.trainable)
    lengths = [seq_len] * w.micro_batch
    flops = counter(w.num_frames * w.micro_batch, lengths, visual * w.micro_batch)
    classes = tuple(model.llm.block_classes)
    llm_blocks = sum(_numel(block) for block in model.llm.modules() if isinstance(block, classes))
    decoder = TransformerCost(llm_blocks, counter.llm.layers, counter.llm.width)
    encoder_pass = counter.encoder.forward_flops([counter.patches_per_frame] * (w.num_frames * w.micro_batch))
    recompute = decoder.forward_flops(lengths) + encoder_pass * (counter.factor["encoder"] > 1)
    shape = (w.num_frames, seq_len, w.labelled_tokens, w.micro_batch, act_bytes)
    activations = {ac: activation_memory(model, stage.trainable, *shape, checkpointing=ac) for ac in (False, True)}
    params = {name: _numel(child) for name, child in model.named_children()}
    return TrainingPlan(w, params, _numel(model, trainable_only=True), visual, seq_len, flops, recompute,
                        state_memory(model, w.gpus, sharded), activations)  # fmt: skip
