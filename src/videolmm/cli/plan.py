"""``videolmm-plan``: visual tokens, FLOPs, memory per GPU and step time of a training run, without running it.

The model is built on the meta device from the same config groups training uses (nothing is
allocated), so a 72B plan takes a second on a laptop. Examples::

    videolmm-plan                                                  # LLaVA-Video-7B, V=(64,679,1,2), 128 H100
    videolmm-plan llm=qwen2_72b reducer=llava_video_slowfast       # LLaVA-Video-72B, V=(64,679,3,2)
    videolmm-plan llm=qwen2_72b reducer=bilinear_2x2 separators=grid num_frames=32 gpus=256 accumulate=1
    videolmm-plan gpus=8 strategy=fsdp2 head_loss@llm.head_loss=plain
"""

import hydra
import torch
from hydra.utils import instantiate
from lightning.pytorch.strategies import ModelParallelStrategy
from omegaconf import DictConfig

from videolmm.model.build import build_model
from videolmm.training.flops import peak_flops
from videolmm.training.plan import GIB, TrainingPlan, Workload, plan_training

__all__ = ["format_plan", "main"]


def _gib(n: float) -> str:
    return f"{n / GIB:,.1f} GiB"


def format_plan(plan: TrainingPlan, mfu: float, peak: float, gpu_memory_gib: float, usable_fraction: float) -> str:
    """The report ``videolmm-plan`` prints."""
    w, s = plan.workload, plan.states
    params = " + ".join(f"{name} {n / 1e9:.3f}B" for name, n in plan.params.items() if n)
    flops = ", ".join(f"{k} {v / 1e12:,.1f}" for k, v in plan.flops.items())
    usable = gpu_memory_gib * GIB * usable_fraction
    lines = [
        f"parameters   {params} = {sum(plan.params.values()) / 1e9:.3f}B ({plan.trainable / 1e9:.3f}B trainable)",
        f"sample       T={w.num_frames} frames -> {plan.visual_tokens:,} visual tokens + {w.text_tokens:,} text "
        f"= S {plan.seq_len:,} tokens ({w.labelled_tokens:,} labelled)",
        f"batch        {w.micro_batch} x {w.accumulate} accumulated x {w.gpus} GPUs "
        f"= {w.global_batch} samples per step",
        f"FLOPs        per micro-batch (TFLOP): {flops}; per GPU per step {plan.flops_per_gpu_step / 1e15:,.2f} PFLOP; "
        f"all GPUs {plan.flops_per_gpu_step * w.gpus / 1e18:,.2f} EFLOP",
        f"memory/GPU   parameters {_gib(s.params)}, gradients {_gib(s.grads)}, optimizer {_gib(s.optimizer)}, "
        f"working copies {_gib(s.working)}",
    ]
    for ac in (False, True):
        act, total = plan.activations[ac], plan.memory(ac)
        verdict = "fits" if total <= usable else "does NOT fit"
        name = "with AC   " if ac else "without AC"
        lines.append(f"  {name} activations {_gib(act.peak)} -> total {_gib(total)}: {verdict} in "
                     f"{usable_fraction:.0%} of {gpu_memory_gib:g} GiB")  # fmt: skip
    seconds = plan.step_seconds(mfu, peak)
    extra = plan.recompute_flops * w.accumulate / plan.flops_per_gpu_step
    lines += [
        f"step time    {seconds:,.2f} s at {mfu:.0%} MFU of {peak / 1e12:,.0f} TFLOP/s "
        f"({plan.tokens_per_second(mfu, peak):,.0f} tokens/s/GPU); activation checkpointing recomputes "
        f"{extra:.0%} more FLOPs: {seconds * (1 + extra):,.2f} s at the same hardware utilisation",
    ]
    return "\n".join(lines)


def plan_from_config(cfg: DictConfig) -> TrainingPlan:
    """Build the model on the meta device and plan the run ``cfg`` describes."""
    with torch.device("meta"):
        model = build_model(cfg)
    workload = Workload(cfg.num_frames, cfg.text_tokens, cfg.labelled_tokens, cfg.micro_batch, cfg.accumulate, cfg.gpus)
    sharded = isinstance(instantiate(cfg.strategy), ModelParallelStrategy)
    stage = instantiate(cfg.stage)
    context = int(model.llm.config.max_position_embeddings)
    return plan_training(model, stage, workload, sharded, cfg.act_bytes, max_positions=context)


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="plan")
def main(cfg: DictConfig) -> None:
    """Compose the configuration, plan the run, print the report."""
    peak = peak_flops(cfg.gpu)
    if peak is None:
        raise ValueError(f"unknown gpu {cfg.gpu!r}: use a key of videolmm.training.PEAK_BF16_FLOPS")
    plan = plan_from_config(cfg)
    print(format_plan(plan, cfg.mfu, peak, cfg.gpu_memory_gib, cfg.usable_fraction))


if __name__ == "__main__":
    main()
