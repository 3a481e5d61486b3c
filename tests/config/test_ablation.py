"""The representation ablation's sweeps: every method composes, is valid, and has the token count its file states."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from tests.conftest import package_file
from videolmm.config import train_config_problems
from videolmm.layout import visual_token_count
from videolmm.training.assembly import encoder_grid

ABLATION = Path(__file__).resolve().parents[2] / "recipes" / "representation_ablation"
CPU_TOKENS = {"simple": 72, "llava_video_slowfast": 64, "lita": 66, "slowfast_llava": 66, "temporal_mean": 49}
TABLE5_TOKENS = {"simple": 5408, "llava_video_slowfast": 5230, "lita": 5061, "slowfast_llava": 5061}
TABLE4 = {  # option -> (T, tokens per frame): the rows of the paper's Table 4
    "t32_169": (32, 169),
    "t64_169": (64, 169),
    "t110_169": (110, 169),
    "t32_729": (32, 729),
    "t440_64": (440, 64),
}


def compose_sweep(primary: str, *overrides: str):
    with initialize_config_dir(str(ABLATION), version_base="1.3"):
        return compose(primary, overrides=list(overrides), return_hydra_config=True)


def tokens(cfg) -> int:
    return visual_token_count(instantiate(cfg.reducer), None, cfg.frames.num_frames, encoder_grid(cfg))


@pytest.mark.parametrize(
    ("primary", "group", "expected"),
    [
        ("cpu", "table5_cpu", CPU_TOKENS),
        ("table5", "table5", TABLE5_TOKENS),
        ("table4", "table4", {k: t * m for k, (t, m) in TABLE4.items()}),
    ],
)
def test_each_sweep_runs_every_option_of_its_group_once(primary, group, expected):
    cfg = compose_sweep(primary, "run_dir=/tmp/unused")
    swept = cfg.hydra.sweeper.params[group].split(",")
    on_disk = sorted(p.stem for p in (ABLATION / group).glob("*.yaml"))
    assert sorted(swept) == on_disk == sorted(expected)


@pytest.mark.parametrize("method", sorted(CPU_TOKENS))
def test_the_cpu_methods_are_valid_and_budget_matched(method, tmp_path):
    cfg = compose_sweep("cpu", f"table5_cpu={method}", f"run_dir={tmp_path}")
    assert train_config_problems(cfg) == []
    assert cfg.label == method
    assert tokens(cfg) == CPU_TOKENS[method]
    assert cfg.frames.num_frames <= cfg.data.shards.benchmark.num_frames  # every method sees distinct frames


@pytest.mark.parametrize("method", sorted(TABLE5_TOKENS))
def test_the_full_size_table5_methods_have_the_matched_budgets(method):
    cfg = compose_sweep("table5", f"table5={method}", "run_dir=/tmp/unused")
    assert (cfg.label, tokens(cfg)) == (method, TABLE5_TOKENS[method])
    assert encoder_grid(cfg) == (27, 27)
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher")


@pytest.mark.parametrize("row", sorted(TABLE4))
def test_the_full_size_table4_rows_have_their_frames_and_tokens_per_frame(row):
    cfg = compose_sweep("table4", f"table4={row}", "run_dir=/tmp/unused")
    frames, per_frame = TABLE4[row]
    assert cfg.frames.num_frames == frames
    assert tokens(cfg) == frames * per_frame


def test_a_full_size_run_is_valid_once_the_user_gives_data_tokenizer_and_weights(tmp_path):
    tiktoken = package_file("dashscope", "resources", "qwen.tiktoken")
    cfg = compose_sweep(
        "table5",
        "table5=llava_video_slowfast",
        f"run_dir={tmp_path}",
        "data.shards.train=/shards/train/shard-000000.tar",
        f"data.tokenizer.tiktoken_file={tiktoken}",
        "init.path=/checkpoints/llava-onevision-qwen2-7b-si-hf",
    )
    assert train_config_problems(cfg) == []


def test_without_them_the_start_up_validation_names_each_missing_value(tmp_path):
    problems = train_config_problems(compose_sweep("table5", f"run_dir={tmp_path}"))
    for key in ("data.shards.train", "data.tokenizer.tiktoken_file", "init.path"):
        assert any(p.startswith(f"{key} is required") for p in problems), problems
