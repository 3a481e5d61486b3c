"""``videolmm-tokens``: composes from the packaged config tree and prints the budget and the paper formula."""

import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import instantiate

from tests.conftest import console_script, run_command
from videolmm.cli.tokens import format_budget, parse_grid

CASES = [
    # overrides, visual tokens, paper formula (None = n/a)
    (["reducer=avg_pool_2x2", "num_frames=32"], "5,408", "5,408"),
    (["reducer=avg_pool_2x2", "separators=grid", "num_frames=64"], "11,648", "10,816"),
    (["reducer=bilinear_2x2", "separators=end", "num_frames=32"], "6,273", "5,408"),
    (["reducer=llava_video_slowfast", "separators=grid_slowfast", "num_frames=64"], "5,832", "5,355"),
    (["reducer=lita", "num_frames=100", "grid=16"], "356", None),
    (["reducer=slowfast_llava", "num_frames=50", "grid=[24,24]"], "3,680", None),
    (["reducer=pllava", "num_frames=16", "grid=24"], "2,304", None),
    (["reducer=lita", "reducer.num_slow_frames=21", "reducer.fast_stride=4", "num_frames=42"], "5,061", "5,313"),
]


def report(overrides: list[str]) -> str:
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="tokens", overrides=overrides)
    reducer, layout = instantiate(cfg.reducer), instantiate(cfg.separators)
    return format_budget(reducer, layout, cfg.num_frames, parse_grid(cfg.grid), cfg.paper_m, cfg.verbose)


@pytest.mark.parametrize(("overrides", "total", "paper"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_prints_visual_tokens_and_paper_formula(overrides, total, paper):
    text = report(overrides)
    assert re.search(rf"^visual tokens: {total} \(", text, re.M)
    assert re.search(rf"^paper formula: {paper} \(V=" if paper else r"^paper formula: n/a$", text, re.M)


def test_breakdown_groups_slow_and_fast_frames():
    text = report(["reducer=llava_video_slowfast", "separators=grid_slowfast", "num_frames=64"])
    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith(("slow ", "fast "))}
    assert rows["slow"][1:] == ["0,3,..,63", "13x13", "169", "14", "22", "4026"]
    assert rows["fast"][1:] == ["1,2,4,..,62", "6x6", "36", "7", "42", "1806"]


def test_verbose_lists_every_segment():
    text = report(["reducer=identity", "num_frames=3", "grid=2", "verbose=true", "separators=end"])
    assert [line.split()[:2] for line in text.splitlines() if line.startswith("frame")] == [
        ["frame", "0"],
        ["frame", "1"],
        ["frame", "2"],
    ]
    assert "visual tokens: 13 (reducer 12 + separators 1)" in text


def test_grid_parsing():
    assert parse_grid(27) == (27, 27)
    assert parse_grid([9, 7]) == (9, 7)
    with pytest.raises(ValueError, match="pair"):
        parse_grid([1, 2, 3])


def test_console_script_runs_from_a_foreign_directory(tmp_path: Path):
    exe = console_script("videolmm-tokens")
    args = [exe, "reducer=llava_video_slowfast", "separators=grid_slowfast", "num_frames=64"]
    result = run_command(args, cwd=tmp_path, env={"HYDRA_FULL_ERROR": "0"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "visual tokens: 5,832" in result.stdout
    assert list(tmp_path.iterdir()) == []  # the tool writes no Hydra output folder


def test_console_script_reports_an_unknown_option_without_a_traceback(tmp_path: Path):
    result = run_command([console_script("videolmm-tokens"), "reducer=nope"], cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert "Could not find 'reducer/nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_encoder_and_frames_options_set_the_grid_and_frame_count():
    from videolmm.cli.tokens import grid_and_frames

    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(
            config_name="tokens", overrides=["encoder=siglip_so400m_p14_384", "frames=llava_video", "separators=grid"]
        )
    grid, num_frames, notes = grid_and_frames(cfg)
    assert (grid, num_frames) == ((27, 27), 64)  # 384 px / 14 px patches; force_sample takes exactly 64
    assert "SiglipEncoder at 384 px" in notes[0]
    assert (
        format_budget(instantiate(cfg.reducer), instantiate(cfg.separators), num_frames, grid).count(
            "visual tokens: 11,648"
        )
        == 1
    )


def test_clip_encoder_gives_the_24_grid():
    from videolmm.cli.tokens import grid_and_frames

    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        cfg = compose(config_name="tokens", overrides=["encoder=clip_vit_l14_336", "frames=pllava", "reducer=pllava"])
    assert grid_and_frames(cfg)[:2] == ((24, 24), 16)
