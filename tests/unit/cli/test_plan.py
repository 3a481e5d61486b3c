"""``videolmm-plan`` against the published LLaVA-Video training setups, every number derived by hand below.

Shapes used in the derivations (the YAMLs in conf/):
- SigLIP so400m/14 @384, 26 layers: D=1152, MLP 4304, 27x27=729 patches; 15,239,504 parameters per
  block, 397,745,440 in all (26 blocks + patch embedding 678,528 + position embedding 839,808).
- Qwen2-7B: E=3584, I=18944, H=28, 4 KV heads of 128 (kv width 512), 28 layers, V=152,064,
  7,615,616,512 parameters (544,997,376 in the token embedding); 233,057,792 per layer
  (q 3584^2+3584, k and v 3584*512+512 each, o 3584^2, MLP 3*3584*18944, two norms 2*3584).
- Qwen2-72B: E=8192, I=29568, H=64, 8 KV heads (kv width 1024), 80 layers, 72,706,203,648
  parameters; 877,684,736 per layer.
- mlp2x_gelu projector: 1152*E+E + E*E+E = 16,980,992 (7B), 76,562,432 (72B).
Every sample: 300 text tokens, 100 of them labelled; bf16 activations (a=2); everything trains
(the video_sft stage), so every FLOP count is 3x the forward.
"""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from tests.conftest import console_script, run_command
from videolmm.cli.plan import format_plan, plan_from_config

GIB = 2**30


def plan(overrides: list[str]):
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="plan", overrides=overrides)
    return plan_from_config(cfg)


def test_llava_video_7b_as_the_paper_trains_it_fits_with_activation_checkpointing_only():
    p = plan([])  # defaults: V=(64,679,1,2), avg pool 2x2, no separators, 128 GPUs, bs 1 x accumulation 2
    # visual tokens: 64 frames x floor(27/2)^2 = 64 x 169 = 10,816 (= the paper's 64 x floor(679/4)); S = 11,116
    assert (p.visual_tokens, p.seq_len) == (10_816, 11_116)
    # LLM: 3 x (2 x 7,070,619,136 x 11,116 + 4 x 28 x 3584 x 11,116^2) = 620,382,501,580,800
    # encoder: 3 x (2 x 397,745,440 x 46,656 + 4 x 26 x 1152 x 64 x 729^2) = 123,568,077,090,816 (46,656 = 64 x 729)
    # projector (on every patch): 3 x 2 x 16,980,992 x 46,656 = 4,753,590,976,512
    assert p.flops == {"encoder": 123_568_077_090_816, "projector": 4_753_590_976_512, "llm": 620_382_501_580_800}
    # step: 2 micro-batches x 748,704,169,648,128 = 1.4974e15 FLOP per GPU; at 40 % of 989e12 -> 3.785 s
    assert p.step_seconds(0.4, 989e12) == pytest.approx(3.7852, abs=1e-4)
    # states: 16 bytes x 8,030,342,944 / 128 GPUs = 1,003,792,868 sharded; working copies (bf16):
    # root = 8,030,342,944 - 28 x 233,057,792 - 26 x 15,239,504 = 1,108,497,664 (embedding, head, projector, ...)
    # 2 x (root + 2 x 233,057,792) gathered + 2 x (root + 233,057,792) unsharded gradients = 5,832,337,408
    assert p.states.working == 5_832_337_408
    assert p.states.params + p.states.grads + p.states.optimizer == pytest.approx(1_003_792_868, abs=1)
    # activations with AC, kept: frames 2x3x384x384x64 = 56,623,104; vision checkpoints 2x1152x46,656x26 =
    # 2,794,881,024; projector 2x(1152+2x3584)x46,656 = 776,355,840; reducer input 2x3584x46,656 = 334,430,208;
    # decoder checkpoints 2x3584x11,116x28 = 2,231,025,664; final norm (4x3584+4+2x3584)x11,116 = 239,082,928;
    # RoPE + ids (2x2x128+8)x11,116 = 5,780,320; loss hidden 2x3584x100 = 716,800: sum 6,438,895,888.
    # peak = kept - loss - final norm + one layer recomputed with its gradients, (225,400 + 2x(2x3584+18944)) x 11,116
    #      = 6,199,096,160 + 3,086,068,384 = 9,285,164,544 bytes = 8.65 GiB
    #      (225,400 = 8E + 12E + 4x512 + 8x18944 + 4x28 + 8 bytes per token and layer)
    assert p.activations[True].peak == 9_285_164_544
    # without AC every layer keeps 225,400 B/token and every vision block 35,664 B/patch: 107.26 GiB
    assert p.activations[False].peak / GIB == pytest.approx(107.26, abs=0.01)
    usable = 0.9 * 80 * GIB
    assert p.memory(True) / GIB == pytest.approx(15.01, abs=0.01)
    assert p.memory(True) < usable
    assert p.memory(False) > usable  # the published run uses gradient checkpointing (and ZeRO-3)


def test_llava_video_72b_paper_representation_fits_with_activation_checkpointing_only():
    p = plan(["llm=qwen2_72b", "reducer=llava_video_slowfast"])  # V=(64,679,3,2), 128 GPUs
    # slow frames i mod 3 == 0: ceil(64/3) = 22 at 13x13, 42 fast at floor(13/2)^2 = 36:
    # 22 x 169 + 42 x 36 = 5,230 (the paper's closed form, floor(64/3) slow, gives 5,355)
    assert (p.visual_tokens, p.seq_len) == (5_230, 5_530)
    # LLM: 3 x (2 x (72,706,203,648 - 152,064 x 8192) x 5,530 + 4 x 80 x 8192 x 5,530^2) = 2,611,554,...
    assert p.flops["llm"] == 3 * (2 * (72_706_203_648 - 152_064 * 8192) * 5_530 + 4 * 80 * 8192 * 5_530**2)
    # AC peak: kept (checkpoints 2x8192x5,530x80 = 7,248,281,600 + vision 2,794,881,024 + ...) + one decoder layer
    # recomputed ((8x8192 + 12x8192 + 4x1024 + 8x29568 + 4x64 + 8) + 2x(2x8192+29568)) x 5,530 = 14.20 GiB
    assert p.activations[True].peak / GIB == pytest.approx(14.20, abs=0.01)
    # states: 16 x 73,180,511,520 / 128 = 9,147,563,940 + working 2 x (2,569,505,536 + 2 x 877,684,736)
    # + 2 x (2,569,505,536 + 877,684,736) = 15,544,130,560 -> 23.00 GiB; with AC 37.20 GiB, without 232.81 GiB
    assert p.memory(True) / GIB == pytest.approx(37.20, abs=0.01)
    assert p.memory(False) / GIB == pytest.approx(232.81, abs=0.01)


def test_llava_video_72b_public_script_with_32_frames():
    # SO400M_Qwen2_72B_ov_to_video_am9.sh: frames_upbound 32, bilinear pooling (14x14), grid newlines, 256 GPUs, acc 1
    p = plan(["llm=qwen2_72b", "reducer=bilinear_2x2", "separators=grid", "num_frames=32", "gpus=256", "accumulate=1"])
    # 32 x (14 x 14 + 14 newlines) = 32 x 210 = 6,720 visual tokens; S = 7,020
    assert (p.visual_tokens, p.seq_len) == (6_720, 7_020)
    assert p.workload.global_batch == 256
    # one micro-batch per step: 3,469,973,228,918,784 FLOP -> 8.77 s at 40 % MFU
    assert p.step_seconds(0.4, 989e12) == pytest.approx(8.771, abs=1e-3)
    assert p.memory(True) / GIB == pytest.approx(33.00, abs=0.01)
    assert p.memory(False) > 80 * GIB


def test_a_sample_longer_than_the_context_fails_with_the_counts():
    with pytest.raises(ValueError, match=r"a sample has 43564 tokens \(43264 visual \+ 300 text\) > context 32768"):
        plan(["num_frames=256"])  # 256 x 169 + 300 = 43,564 > 32,768


def test_the_report_states_tokens_flops_memory_and_step_time():
    p = plan(["gpus=8", "accumulate=1"])
    text = format_plan(p, mfu=0.4, peak=989e12, gpu_memory_gib=80, usable_fraction=0.9)
    assert "T=64 frames -> 10,816 visual tokens + 300 text = S 11,116 tokens" in text
    assert "1 x 1 accumulated x 8 GPUs = 8 samples per step" in text
    assert "with AC    activations 8.6 GiB" in text
    # 8 GPUs: 16 x 8,030,342,944 / 8 + 5,832,337,408 working + 115,171,439,840 activations = 127.65 GiB
    assert "without AC activations 107.3 GiB -> total 127.7 GiB: does NOT fit" in text
    assert "1.89 s at 40% MFU" in text  # 748,704,169,648,128 / (0.4 x 989e12)


@pytest.mark.slow  # a second process importing torch, transformers and lightning: ~7 s on 2 cores
def test_console_script_runs_from_a_foreign_directory(tmp_path: Path):
    args = [console_script("videolmm-plan"), "llm=qwen2_72b", "reducer=llava_video_slowfast"]
    result = run_command(args, cwd=tmp_path, env={"HYDRA_FULL_ERROR": "0"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "5,230 visual tokens" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_the_head_loss_group_changes_the_planned_loss_memory():
    plain = plan(["head_loss@llm.head_loss=plain"]).activations[True]
    chunked = plan([]).activations[True]
    # plain keeps the float32 log-probabilities, 4 x 152,064 x 100 = 60,825,600 bytes, besides the hidden states
    assert plain.kept["loss"] - chunked.kept["loss"] == 60_825_600
    assert plain.transient["loss"] == 8 * 152_064 * 100 + 2 * 152_064 * 100  # gradients + the bf16 cast
    assert chunked.transient["loss"] == 8 * 152_064 * 100  # one chunk (100 rows <= 1,024)


def test_without_sharding_7b_does_not_fit_even_with_activation_checkpointing():
    p = plan(["strategy=ddp", "gpus=8"])
    # a full replica per GPU: 4 (fp32 weights) + 4 (gradients) + 8 (AdamW) + 2 (autocast bf16 copies) bytes
    # x 8,030,342,944 parameters = 144,546,172,992 bytes = 134.6 GiB
    assert p.states.total == 18 * 8_030_342_944
    assert p.memory(True) > 80 * GIB
