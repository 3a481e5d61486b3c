"""The paper recipes in ``recipes/``: they compose, bind, pass start-up validation, and their CPU twins train.

Every ``recipes/<name>/*.yaml`` (except the representation ablation's sweeps, tested with ``videolmm-compare``)
is a Hydra primary config of a videolmm program. These tests compose each one the way ``-cd recipes/<name>
-cn <file>`` does, and check that:

- every ``_target_`` binds to its callable;
- the visual token count of every full-size config is the one its README prints;
- every ``debug.yaml`` keeps the composition of its full-size stage and trains 2 steps;
- every full-size training stage passes ``videolmm-train``'s start-up validation;
- every training stage starts from the weights (``init`` option) listed here, and a debug composition given
  ``init`` trains from exactly the weights written to the checkpoint it names.

Values only a user can give (shard paths, a tokenizer file, a benchmark folder, a starting checkpoint) are passed as
overrides, as on the command line. The Vicuna tokenizer is not available offline, so the Llama-based recipes are
validated with a small tokenizer directory written here that holds the tokens those recipes name.
"""

import csv
import functools
import json
import math
from importlib.resources import files
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from tests.conftest import console_script, package_file, run_command
from videolmm.checkpoint import save_hf_pretrained, save_llava_next
from videolmm.config import binding_problems, frame_range, target_problems, train_config_problems
from videolmm.config.startup import MODULE_GIVEN, SUPPLIED
from videolmm.layout import visual_token_count
from videolmm.model.build import build_model
from videolmm.training.assembly import (
    MODEL_KEYS,
    build_datamodule,
    build_module,
    build_trainer,
    encoder_grid,
    fit,
    resume_checkpoint,
)
from videolmm.training.module import VideoLMMModule

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
SWEEPS = {"representation_ablation"}
PROGRAMS = ("train", "eval", "generate")

RECIPE_FILES = sorted(p for p in RECIPES.glob("*/*.yaml") if p.parent.name not in SWEEPS)
DEBUG_RECIPES = sorted(p.parent.name for p in RECIPE_FILES if p.name == "debug.yaml")

USER_INPUTS = {
    # what the recipes leave ??? for the command line -> a stand-in value (only its type matters to binding)
    "data.shards.train": "/shards/train/shard-000000.tar",
    "data.tokenizer.tiktoken_file": "/tokenizers/qwen.tiktoken",
    "data.tokenizer.pretrained_model_name_or_path": "/tokenizers/vicuna",
    "tokenizer.tiktoken_file": "/tokenizers/qwen.tiktoken",
    "tokenizer.pretrained_model_name_or_path": "/tokenizers/vicuna",
    "init.path": "/models/starting-checkpoint",  # read when the model is built, not by the start-up validation
    "benchmark.root": "/benchmarks/videomme",
    "video": "/videos/clip.mp4",
    "prompt": "What happens first?",
}

TOKENS = {
    # (recipe, config) -> visual tokens per sample at the config's largest T: reference_algorithms.md §1.7
    ("llava_video_7b_qwen2", "video_sft"): 64 * 210,  # bilinear 14x14 + a newline per row
    ("llava_video_7b_qwen2", "evaluate"): 64 * 182,  # average 13x13 + a newline per row
    ("llava_video_72b_qwen2", "video_sft"): 22 * 183 + 42 * 43,  # slow 13x14 + marker, fast 6x7 + marker
    ("llava_video_72b_qwen2", "evaluate"): 22 * 183 + 42 * 43,
    ("llava_onevision_qwen2_0_5b", "stage1_align"): 729 + 1,
    ("llava_onevision_qwen2_0_5b", "stage1_5_mid"): 729 + 1,
    ("llava_onevision_qwen2_0_5b", "stage2_single_image"): 729 + 1,
    ("llava_onevision_qwen2_0_5b", "stage3_onevision"): 196 * 32 + 1,
    ("llava_onevision_qwen2_0_5b", "evaluate"): 196 * 32 + 1,
    ("llava_onevision_qwen2_7b", "stage1_align"): 729 + 1,
    ("llava_onevision_qwen2_7b", "stage1_5_mid"): 729 + 1,
    ("llava_onevision_qwen2_7b", "stage2_single_image"): 729 + 1,
    ("llava_onevision_qwen2_7b", "stage3_onevision"): 196 * 32 + 1,
    ("llava_onevision_qwen2_7b", "evaluate"): 196 * 32 + 1,
    ("llava_next_video_7b", "video_sft"): 144 * 32,
    ("llava_next_video_7b", "evaluate"): 144 * 32,
    ("lita", "finetune"): 100 + 4 * 64,
    ("pllava", "finetune"): 16 * 144,
    ("slowfast_llava", "simple_sft"): 32 * 169,
    ("slowfast_llava", "evaluate"): 21 * 169 + 42 * 36,
    ("slowfast_llava", "answer"): 21 * 169 + 42 * 36,
    ("slowfast_llava", "evaluate_published"): 10 * 288 + 50 * 16,
}

INITS = {
    # (recipe, training stage) -> its init option: where the published work starts it (README "Starting weights");
    # random where the start is pieced together from parts (a partial loader would be needed) or lacks a tensor
    ("llava_video_7b_qwen2", "video_sft"): "llava_next",  # lmms-lab/llava-onevision-qwen2-7b-si
    ("llava_video_72b_qwen2", "video_sft"): "random",  # OneVision-72B-SI has no SlowFast marker
    ("llava_onevision_qwen2_0_5b", "stage1_align"): "random",  # SigLIP + Qwen2 + a fresh projector
    ("llava_onevision_qwen2_0_5b", "stage1_5_mid"): "random",  # SigLIP + Qwen2 + stage 1's projector
    ("llava_onevision_qwen2_0_5b", "stage2_single_image"): "llava_next",  # stage 1.5's result
    ("llava_onevision_qwen2_0_5b", "stage3_onevision"): "llava_next",  # stage 2's result
    ("llava_onevision_qwen2_7b", "stage1_align"): "random",
    ("llava_onevision_qwen2_7b", "stage1_5_mid"): "random",
    ("llava_onevision_qwen2_7b", "stage2_single_image"): "llava_next",
    ("llava_onevision_qwen2_7b", "stage3_onevision"): "llava_next",  # stage 2's result, published as ...-7b-si
    ("llava_next_video_7b", "video_sft"): "hf_llava",  # llava-hf/llava-v1.6-vicuna-7b-hf
    ("lita", "finetune"): "random",  # CLIP + Vicuna-13B + LLaVA's pre-trained projector
    ("pllava", "finetune"): "hf_llava",  # llava-hf/llava-v1.6-vicuna-7b-hf
    ("slowfast_llava", "simple_sft"): "hf_llava",  # llava-hf/llava-onevision-qwen2-7b-si-hf
}

TWINS = {
    # (recipe, tiny twin) -> the full-size config it mirrors
    ("llava_video_7b_qwen2", "debug"): "video_sft",
    ("llava_video_72b_qwen2", "debug"): "video_sft",
    ("llava_onevision_qwen2_0_5b", "debug"): "stage3_onevision",
    ("llava_onevision_qwen2_7b", "debug"): "stage3_onevision",
    ("llava_next_video_7b", "debug"): "video_sft",
    ("lita", "debug"): "finetune",
    ("pllava", "debug"): "finetune",
    ("slowfast_llava", "debug"): "simple_sft",
    ("slowfast_llava", "debug_evaluate"): "evaluate",
}


def recipe_id(path: Path) -> str:
    """``recipe/config``, the test id of a recipe file."""
    return f"{path.parent.name}/{path.stem}"


def program(path: Path) -> str:
    """The program a recipe file configures: the first entry of its defaults list."""
    return str(OmegaConf.load(path).defaults[0])


def compose_recipe(path: Path, *overrides: str) -> DictConfig:
    """Compose a recipe file as ``-cd <its folder> -cn <its name>`` does."""
    with initialize_config_dir(config_dir=str(path.parent), version_base="1.3"):
        return compose(config_name=path.stem, overrides=list(overrides))


def run_dir(path: Path) -> str:
    """The run folder ``videolmm-train`` gives a recipe: its ``hydra.run.dir``, resolved.

    ``train.yaml`` sets ``run_dir: ${hydra:runtime.output_dir}``, which only resolves inside a Hydra app;
    composed here, a train config gets the same folder as an explicit override.
    """
    raw = OmegaConf.load(path)
    return str(OmegaConf.create({"dir": raw.hydra.run.dir}).dir)


@functools.cache
def composed(path: Path) -> DictConfig:
    """The recipe as the CLI composes it, once per file (read-only: tests copy before changing it)."""
    cfg = compose_recipe(path, *([f"run_dir={run_dir(path)}"] if program(path) == "train" else []))
    OmegaConf.set_readonly(cfg, True)
    return cfg


def with_values(cfg: DictConfig, values: dict[str, str]) -> DictConfig:
    """A copy of ``cfg`` with ``values`` set, as the same ``key=value`` overrides on the command line would."""
    copy = OmegaConf.create(OmegaConf.to_container(cfg))  # unresolved: interpolations stay interpolations
    OmegaConf.set_struct(copy, True)
    for key, value in values.items():
        OmegaConf.update(copy, key, value, merge=False)
    return copy


def is_missing(cfg: DictConfig, path: str) -> bool:
    """Whether the dotted ``path`` exists in ``cfg`` and is ``???``."""
    parent, _, key = path.rpartition(".")
    node = OmegaConf.select(cfg, parent) if parent else cfg
    # `key in node` is False for a ??? value, so the keys are listed instead
    return isinstance(node, DictConfig) and key in list(node) and OmegaConf.is_missing(node, key)


def user_inputs(path: Path) -> list[str]:
    """The `USER_INPUTS` keys a recipe leaves for the command line."""
    return [key for key in USER_INPUTS if is_missing(composed(path), key)]


def visual_tokens(cfg: DictConfig) -> int:
    """Visual tokens per sample of a composed config, at the most frames its sampler gives."""
    frames = frame_range(instantiate(cfg.frames))[1]
    return visual_token_count(instantiate(cfg.reducer), instantiate(cfg.separators), frames, encoder_grid(cfg))


@pytest.mark.parametrize("path", RECIPE_FILES, ids=recipe_id)
def test_recipe_file_is_a_primary_config_of_a_videolmm_program(path):
    raw = OmegaConf.load(path)
    defaults = list(raw.defaults)
    assert defaults[0] in PROGRAMS, f"the defaults list must start with one of {PROGRAMS}"
    assert path.stem not in PROGRAMS  # a recipe named like its program would shadow it in the search path
    assert defaults[-1] == "_self_"
    for entry in defaults[1:-1]:
        assert isinstance(entry, DictConfig), entry
        assert len(entry) == 1, entry
        assert str(next(iter(entry))).startswith("override "), entry
    assert list(raw.hydra.searchpath) == ["pkg://videolmm.conf"]
    if defaults[0] == "train":  # the run folder is Hydra's (train.yaml: run_dir follows hydra.run.dir)
        assert "run_dir" not in raw
        assert f"/recipes/{path.parent.name}/{path.stem}" in raw.hydra.run.dir


@pytest.mark.parametrize("path", RECIPE_FILES, ids=recipe_id)
def test_recipe_composes_and_every_target_binds_to_its_signature(path):
    needed = user_inputs(path)
    if path.stem.startswith("debug"):
        assert needed == []  # a CPU twin runs as it is
    cfg = with_values(composed(path), {key: USER_INPUTS[key] for key in needed})
    assert target_problems(cfg, supplied=SUPPLIED) == []
    if program(path) == "train":
        assert binding_problems(VideoLMMModule, cfg.module, "module", given=MODULE_GIVEN) == []


def test_every_full_size_config_has_a_token_count_here():
    full_size = {(p.parent.name, p.stem) for p in RECIPE_FILES if not p.stem.startswith("debug")}
    assert full_size == set(TOKENS)


@pytest.mark.parametrize(("recipe", "name"), sorted(TOKENS), ids=lambda x: x)
def test_visual_tokens_are_the_published_count_and_the_readme_prints_them(recipe, name):
    tokens = visual_tokens(composed(RECIPES / recipe / f"{name}.yaml"))
    assert tokens == TOKENS[recipe, name]
    assert f"visual tokens: {tokens:,} " in (RECIPES / recipe / "README.md").read_text()


@pytest.mark.parametrize("recipe", sorted({p.parent.name for p in RECIPE_FILES}))
def test_readme_shows_the_command_of_every_config(recipe):
    readme = (RECIPES / recipe / "README.md").read_text()
    assert "**Status.**" in readme
    assert "```bibtex" in readme
    for path in sorted((RECIPES / recipe).glob("*.yaml")):
        assert f"-cd recipes/{recipe} -cn {path.stem}" in readme, path.name


def init_target(option: str) -> str:
    """The ``_target_`` of an ``init`` group option (``conf/init/<option>.yaml``)."""
    return str(OmegaConf.load(files("videolmm.conf") / "init" / f"{option}.yaml")._target_)


def test_every_full_size_training_stage_has_its_starting_weights_here():
    stages = {(p.parent.name, p.stem) for p in RECIPE_FILES if program(p) == "train" and not p.stem.startswith("debug")}
    assert stages == set(INITS)


@pytest.mark.parametrize(("recipe", "name"), sorted(INITS), ids=lambda x: x)
def test_training_stage_starts_from_the_checkpoint_its_readme_names(recipe, name):
    cfg = composed(RECIPES / recipe / f"{name}.yaml")
    option = INITS[recipe, name]
    assert cfg.init._target_ == init_target(option)
    assert is_missing(cfg, "init.path") == (option != "random")  # the checkpoint is the user's to give
    readme = (RECIPES / recipe / "README.md").read_text()
    assert f"`{name}.yaml` | `{option}`" in readme  # the README's "Starting weights" table


@pytest.mark.parametrize(("recipe", "twin"), sorted(TWINS), ids=lambda x: x)
def test_debug_twin_keeps_the_composition_of_its_full_size_config(recipe, twin):
    tiny = composed(RECIPES / recipe / f"{twin}.yaml")
    full = composed(RECIPES / recipe / f"{TWINS[recipe, twin]}.yaml")
    for group in ("reducer", "projector", "encoder"):
        assert tiny[group]._target_ == full[group]._target_, group
    assert tiny.llm.config._target_ == full.llm.config._target_  # Qwen2 twin for Qwen2, Llama twin for Vicuna
    assert (tiny.separators.position, tiny.separators.slowfast_marker) == (
        full.separators.position,
        full.separators.slowfast_marker,
    )
    if "module" in full:
        assert tiny.reduce_after_projector == full.reduce_after_projector
        assert dict(tiny.stage.trainable) == dict(full.stage.trainable)
        assert dict(tiny.stage.lr_mult) == dict(full.stage.lr_mult)
    else:
        assert tiny.model.reduce_after_projector == full.model.reduce_after_projector
        assert tiny.evaluation.replace_checkpoint_representation == full.evaluation.replace_checkpoint_representation
    assert tiny.trainer.accelerator == "cpu"
    if "module" in tiny:  # a CPU twin builds its own random weights: no checkpoint to give
        assert tiny.init._target_ == init_target("random")


@pytest.fixture(scope="module")
def debug_data(tmp_path_factory) -> Path:
    """One synthetic data root for every debug run (generated by the first, reused by the others)."""
    return tmp_path_factory.mktemp("recipe_data")


def logged_losses(run_dir: Path) -> dict[int, float]:
    """Training loss by step from the run's CSV log."""
    with open(run_dir / "logs" / "version_0" / "metrics.csv") as f:
        return {int(r["step"]): float(r["train/loss"]) for r in csv.DictReader(f) if r["train/loss"]}


def train_debug(recipe: str, run_dir: Path, data_root: Path):
    """Compose ``recipe``'s debug.yaml into ``run_dir`` and train it (in-process, as videolmm-train does)."""
    cfg = compose_recipe(RECIPES / recipe / "debug.yaml", f"run_dir={run_dir}", f"data.shards.root={data_root}")
    assert train_config_problems(cfg) == []
    module, _, trainer = fit(cfg)
    return cfg, module, trainer


@pytest.mark.parametrize("recipe", DEBUG_RECIPES)
def test_debug_recipe_trains_two_steps_on_the_cpu(recipe, tmp_path, debug_data):
    cfg, module, trainer = train_debug(recipe, tmp_path / "run", debug_data)
    assert trainer.global_step == 2
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["last.ckpt", "step-0000002.ckpt"]
    losses = logged_losses(tmp_path / "run")
    assert sorted(losses) == [0, 1]
    assert all(math.isfinite(loss) and loss > 0 for loss in losses.values())
    assert isinstance(module.model.reducer, get_class(cfg.reducer._target_))
    assert module.model.reduce_after_projector == cfg.reduce_after_projector


INIT_LAYOUTS = [
    # (recipe whose debug.yaml is given init, init option, the writer of that option's layout)
    pytest.param("llava_onevision_qwen2_0_5b", "hf_llava", save_hf_pretrained, id="hf_llava-onevision"),
    pytest.param("llava_next_video_7b", "hf_llava", save_hf_pretrained, id="hf_llava-next_video"),
    pytest.param("llava_video_7b_qwen2", "llava_next", save_llava_next, id="llava_next-grid_newlines"),
]


class StartingWeights(L.Callback):
    """Keeps a copy of the model's weights as training starts (after ``init``, before the first step)."""

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Copy every tensor of the model's state dict."""
        self.state = {k: v.detach().clone() for k, v in pl_module.model.state_dict().items()}


@pytest.mark.parametrize(("recipe", "option", "write"), INIT_LAYOUTS)
def test_debug_recipe_given_init_trains_from_the_checkpoint_weights(recipe, option, write, tmp_path, debug_data):
    path = RECIPES / recipe / "debug.yaml"
    overrides = [f"run_dir={tmp_path / 'run'}", f"data.shards.root={debug_data}"]
    model_cfg = OmegaConf.masked_copy(compose_recipe(path, *overrides), list(MODEL_KEYS))
    torch.manual_seed(1234)  # other weights than the run would build by itself (it seeds with cfg.seed)
    source = build_model(model_cfg)
    write(source, tmp_path / "start")
    cfg = compose_recipe(path, *overrides, f"init={option}", f"init.path={tmp_path / 'start'}")
    assert train_config_problems(cfg) == []
    L.seed_everything(cfg.seed, workers=True)  # as fit() does, with a callback added to its trainer
    data, module, trainer = build_datamodule(cfg), build_module(cfg), build_trainer(cfg)
    starting = StartingWeights()
    trainer.callbacks.append(starting)
    trainer.fit(module, datamodule=data, ckpt_path=resume_checkpoint(cfg))
    assert trainer.global_step == 2
    expected = source.state_dict()
    assert sorted(starting.state) == sorted(expected)
    assert [k for k in expected if not torch.equal(starting.state[k], expected[k])] == []
    torch.manual_seed(cfg.seed)
    own = build_model(model_cfg).state_dict()  # what init=random starts from: the comparison can fail
    assert any(not torch.equal(own[k], expected[k]) for k in expected)
    assert not torch.equal(module.model.projector.linear_1.weight.detach(), expected["projector.linear_1.weight"])


def test_slowfast_llava_evaluates_the_simple_checkpoint_with_its_own_reducer(tmp_path, debug_data):
    from videolmm.cli import evaluate

    train_cfg, _, _ = train_debug("slowfast_llava", tmp_path / "run", debug_data)
    assert train_cfg.reducer._target_ == "videolmm.reducers.SpatialPool"  # trained with simple pooling
    cfg = compose_recipe(
        RECIPES / "slowfast_llava" / "debug_evaluate.yaml",
        f"checkpoint={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}",
        f"output={tmp_path / 'eval'}",
    )
    assert visual_tokens(cfg) == 4 * 9 + 8 * 36  # 4 slow frames at 3x3, every frame at 6x6 on the 7x7 grid
    evaluate.main.__wrapped__(cfg)  # the body of videolmm-eval, without Hydra's application shell
    results = json.loads((tmp_path / "eval" / "test.json").read_text())
    swapped = "evaluated with SlowFastLlava(num_slow_frames=4, slow_pool='2d_avg', fast_size=(6, 6))"
    assert swapped in results["meta"]["model"]
    overall = results["rows"][0]
    assert (overall["group"], overall["n"]) == ("all", 8)
    predictions = (tmp_path / "eval" / "predictions-test-rank0.jsonl").read_text().splitlines()
    assert len(predictions) == 8


@pytest.fixture(scope="module")
def tokenizer_files(tmp_path_factory) -> dict[str, str]:
    """Real tokenizer inputs: Qwen2's rank file (test asset) and a small local tokenizer directory."""
    from videolmm.data import synthetic_tokenizer

    folder = tmp_path_factory.mktemp("llama_style_tokenizer")
    tokenizer = synthetic_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": ["<video>", "<image>"]})
    tokenizer.save_pretrained(folder)
    qwen = str(package_file("dashscope", "resources", "qwen.tiktoken"))
    return {
        "data.tokenizer.tiktoken_file": qwen,
        "data.tokenizer.pretrained_model_name_or_path": str(folder),
    }


FULL_SIZE_STAGES = [
    pytest.param(p, id=recipe_id(p), marks=() if recipe_id(p) == "llava_video_7b_qwen2/video_sft" else pytest.mark.slow)
    for p in RECIPE_FILES
    if program(p) == "train" and not p.stem.startswith("debug")
]


@pytest.mark.parametrize("path", FULL_SIZE_STAGES)
def test_full_size_stage_passes_start_up_validation(path, tokenizer_files):
    inputs = {key: tokenizer_files.get(key, USER_INPUTS[key]) for key in user_inputs(path)}
    cfg = compose_recipe(path, f"run_dir={run_dir(path)}", *(f"{key}={value}" for key, value in inputs.items()))
    assert train_config_problems(cfg) == []
    assert cfg.trainer.accelerator == "gpu"
    assert cfg.trainer.max_steps > 0


@pytest.mark.slow
def test_videolmm_train_runs_a_debug_recipe_from_the_repository_root(tmp_path):
    script = console_script("videolmm-train", skip_missing=True)
    command = [script, "-cd", "recipes/llava_video_7b_qwen2", "-cn", "debug"]
    command += [f"hydra.run.dir={tmp_path / 'run'}", f"data.shards.root={tmp_path / 'data'}"]
    result = run_command(command, cwd=REPO, env={"OMP_NUM_THREADS": "1"}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / ".hydra" / "config.yaml").is_file()  # Hydra's record and the run share the folder
    report = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert report["config"]["trainer"]["max_steps"] == 2
    assert report["results"][0]["group"] == "overall"
    assert report["results"][0]["n"] == 8
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert state["global_step"] == 2
