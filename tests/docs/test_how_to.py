"""The how-to guides' scripts run as the pages say (docs/how_to/*.md, scripts in docs/how_to/scripts/).

Each test runs an included script the way its page tells a reader to, in a temporary folder, with
this environment's console scripts first on PATH, and checks what the page states about the result.
Scripts that train or launch several console scripts (10 to 40 s each on a shared CPU) are in the
slow tier; the reducer checks and the page checks are in the default suite.
"""

import json
import os
import re
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import run_command
from videolmm.reducers import SpatialPool

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
HOW_TO = DOCS / "how_to"
SCRIPTS = HOW_TO / "scripts"
OUR_PAGES = ("add_reducer", "use_components", "convert_llava_video_178k", "distributed", "export_hf")
GENERATED = ("_build", "_templates", "api/_autosummary", "recipes")  # recipe pages: generated, one row in pages.md


def run(*args: object, cwd: Path, timeout: int = 300) -> str:
    """Run a command as a reader would; return stdout and stderr together, or fail with their ends."""
    env = {"OMP_NUM_THREADS": "1", "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command = [str(a) for a in args]
    result = run_command(command, cwd=cwd, env=env, timeout=timeout)
    assert result.returncode == 0, (
        f"{command} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout + result.stderr


def text_blocks(page: str) -> list[str]:
    """The ```text blocks of a how-to page, in order."""
    return re.findall(r"```text\n(.*?)```", (HOW_TO / f"{page}.md").read_text(), flags=re.DOTALL)


def test_check_reducer_prints_what_the_page_shows(tmp_path):
    printed = run(sys.executable, SCRIPTS / "check_reducer.py", cwd=tmp_path)
    assert printed.strip() == text_blocks("add_reducer")[0].strip()


@pytest.fixture
def temporal_stride(monkeypatch):
    """The guide's TemporalStride class, imported as a reader's module."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    from my_reducers import TemporalStride

    return TemporalStride


def test_temporal_stride_pools_every_kth_frame(temporal_stride):
    x = torch.randn(2, 7, 9 * 7, 5)  # (B, T, N, D), odd non-square grid
    reducer, pool = temporal_stride(every=3, stride=2, mode="max"), SpatialPool(stride=2, mode="max")
    torch.testing.assert_close(reducer(x, (9, 7)), pool(x[:, [0, 3, 6]], (9, 7)), rtol=0, atol=0)
    assert [s.frames for s in reducer.segments(7, (9, 7))] == [range(0, 1), range(3, 4), range(6, 7)]
    assert reducer.num_tokens(7, (9, 7)) == 3 * 4 * 3
    torch.testing.assert_close(temporal_stride(every=1)(x, (9, 7)), SpatialPool()(x, (9, 7)), rtol=0, atol=0)


def test_temporal_stride_rejects_bad_input_with_the_numbers(temporal_stride):
    with pytest.raises(ValueError, match="every must be a positive int, got 0"):
        temporal_stride(every=0)
    with pytest.raises(ValueError, match=r"expects patches \(B, T, N, D\), got shape \(2, 49, 5\)"):
        temporal_stride()(torch.randn(2, 49, 5), (7, 7))
    with pytest.raises(ValueError, match=r"N=48 .* h\*w=49"):
        temporal_stride()(torch.randn(1, 4, 48, 5), (7, 7))
    with pytest.raises(ValueError, match="at least 1 frames, got T=0"):
        temporal_stride().segments(0, (7, 7))


def markdown_rows(table: str) -> list[list[str]]:
    """The body rows of a Markdown table, as lists of cells."""
    lines = [line for line in table.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


@pytest.mark.slow
def test_add_reducer_script_trains_both_reducers_and_compares_them(tmp_path):
    printed = run("bash", SCRIPTS / "add_reducer.sh", tmp_path / "out", cwd=tmp_path, timeout=600)
    assert "visual tokens: 5,824 (reducer 5,408 + separators 416)" in printed  # videolmm-tokens, 64 frames
    sweep = tmp_path / "out" / "sweep"
    for job, target in [("0", "videolmm.reducers.SpatialPool"), ("1", "my_reducers.TemporalStride")]:
        results = json.loads((sweep / job / "eval.json").read_text())
        assert results["config"]["reducer"]["_target_"] == target
        overall = results["results"][0]
        assert (overall["group"], overall["n"]) == ("overall", 16)
        assert (sweep / job / "checkpoints" / "last.ckpt").is_file()
    rows = markdown_rows((sweep / "comparison.md").read_text())
    assert [(r[0], r[3]) for r in rows] == [("avg_pool_2x2", "72"), ("temporal_stride", "36"), ("chance", "")]
    assert (sweep / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    page_rows = markdown_rows(text_blocks("add_reducer")[1])
    assert [(r[0], r[3]) for r in page_rows] == [(r[0], r[3]) for r in rows]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, str]:
    """The miniature LLaVA-Video-178K subset converted with 2 samples per shard; what the scripts printed."""
    work = tmp_path_factory.mktemp("convert")
    run(sys.executable, SCRIPTS / "mini_llava_video_178k.py", work / "src", cwd=work)
    subset = work / "src" / "LLaVA-Video-178K" / "0_30_s_academic_v0_1"
    printed = run("bash", SCRIPTS / "convert_llava_video_178k.sh", subset, work / "shards", "2", cwd=work)
    return work / "shards", printed + run(sys.executable, SCRIPTS / "read_shards.py", work / "shards", cwd=work)


@pytest.mark.slow
def test_convert_writes_one_shard_folder_per_annotation_file(converted):
    shards, _ = converted
    manifests = {p.parent.name: json.loads(p.read_text()) for p in shards.glob("*/manifest.json")}
    assert sorted(manifests) == [
        "0_30_s_academic_mc_v0_1_qa_processed",
        "0_30_s_academic_oe_v0_1_qa_processed",
        "0_30_s_academic_v0_1_cap_processed",
    ]
    for name, manifest in manifests.items():
        assert manifest["samples_written"] == 3
        assert [s["samples"] for s in manifest["shards"]] == [2, 1]
        assert manifest["skipped"] == ({"missing_video": 1} if "_oe_" in name else {})
        assert manifest["total_duration"] == pytest.approx(6.0)


@pytest.mark.slow
def test_convert_prints_the_summary_the_page_shows(converted):
    shards, printed = converted
    summary = text_blocks("convert_llava_video_178k")[0].replace(".../", f"{shards}/")
    assert summary.strip() in printed


@pytest.mark.slow
def test_shards_read_back_with_the_video_marker_and_decodable_frames(converted):
    _, printed = converted
    assert "sample 000000000: members ['json', 'mp4'], id '0A8CF-mc-0'" in printed
    assert "<video>\\nWhat is in the video?" in printed  # <image> rewritten, shown as a repr
    assert "4 frames decoded: (4, 3, 64, 64) torch.uint8" in printed
    assert "skipped {'missing_video': 1}" in printed


@pytest.mark.slow
def test_distributed_script_shards_over_two_processes_and_exports(tmp_path):
    printed = run("bash", SCRIPTS / "distributed.sh", tmp_path, cwd=tmp_path, timeout=900)
    assert "GLOBAL_RANK: 0, MEMBER: 1/2" in printed
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in printed
    last = tmp_path / "outputs" / "fsdp2" / "checkpoints" / "last.ckpt"
    assert sorted(p.name for p in last.glob("*.distcp")) == ["__0_0.distcp", "__1_0.distcp"]
    state = torch.load(tmp_path / "outputs" / "fsdp2" / "consolidated.ckpt", weights_only=True)["state_dict"]
    assert all(key.startswith("model.") for key in state)
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["architectures"] == ["LlavaOnevisionForConditionalGeneration"]
    assert (tmp_path / "hf" / "model.safetensors").is_file()


@pytest.mark.slow
def test_export_script_gives_transformers_the_same_logits(tmp_path):
    printed = run("bash", SCRIPTS / "export_hf.sh", tmp_path, cwd=tmp_path, timeout=900)
    found = dict(re.findall(r"LlavaOnevisionForConditionalGeneration from (\S+): .*max \|difference\| (\S+)", printed))
    assert sorted(found) == ["hf", "hf_from_checkpoint"]
    assert all(float(diff) <= 1e-5 for diff in found.values())
    (reversed_diff,) = re.findall(r"frames reversed: max \|difference\| (\S+)", printed)
    assert float(reversed_diff) > 1e-3
    for folder in ("hf", "hf_from_checkpoint"):
        config = json.loads((tmp_path / folder / "config.json").read_text())
        assert config["architectures"] == ["LlavaOnevisionForConditionalGeneration"]


def included_files() -> set[Path]:
    """Every file a how-to page includes with literalinclude."""
    found = set()
    for page in HOW_TO.glob("*.md"):
        for target in re.findall(r"```\{literalinclude\} (\S+)", page.read_text()):
            found.add((page.parent / target).resolve())
    return found


def test_every_script_is_included_by_a_how_to_page():
    scripts = {p.resolve() for p in SCRIPTS.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert included_files() == scripts


def test_our_how_to_pages_say_what_runs_and_where():
    for page in OUR_PAGES:
        assert "```{admonition} What runs, and where" in (HOW_TO / f"{page}.md").read_text(), page


def test_every_page_of_the_site_has_a_row_in_pages_md():
    table = (DOCS / "pages.md").read_text()
    pages = [p.relative_to(DOCS).with_suffix("").as_posix() for p in DOCS.rglob("*.md")]
    pages = [p for p in pages if not p.startswith(GENERATED)]
    missing = [p for p in pages if "{doc}`" + p + "`" not in table]
    assert not missing, f"pages without a row in docs/pages.md: {missing}"
    assert "recipe pages" in table
