"""Configuration mistakes fail at start-up, before any data or model is built, with a message and no traceback.

In-process tests check each validation against the real composed ``train`` config; subprocess tests run
the installed ``videolmm-train`` and read its stderr. The data root of every case does not exist and
must still not exist afterwards: nothing was generated.
"""

import re
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from tests.conftest import console_script
from tests.reliability.conftest import run_process
from videolmm.config import exit_on_invalid_config, train_config_problems


def compose_train(tmp_path: Path, *overrides: str):
    """The ``train`` config with a run folder and (for synthetic data) a data root that do not exist."""
    where = [f"run_dir={tmp_path / 'run'}"]
    if "data=webdataset" not in overrides:
        where.append(f"data.shards.root={tmp_path / 'data'}")
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(config_name="train", overrides=[*where, *overrides])


def problems(tmp_path: Path, *overrides: str) -> list[str]:
    """Every problem of the composed config; checks that nothing was created on disk."""
    found = train_config_problems(compose_train(tmp_path, *overrides))
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "run").exists()
    return found


def test_the_default_job_and_its_tiny_twins_are_valid(tmp_path):
    assert problems(tmp_path) == []
    assert problems(tmp_path, "reducer=llava_video_slowfast", "separators=grid_slowfast", "llm=tiny_llama") == []


CASES = {
    # overrides -> patterns every message must contain (what is wrong, and what is valid)
    "wrong type for a trainer argument": (
        ["trainer.max_steps=abc"],
        [r"trainer\.max_steps='abc' \(str\) is not a valid int"],
    ),
    "wrong type for a module argument": (["module.lr=fast"], [r"module\.lr='fast' \(str\) is not a valid float"]),
    "float where an int is needed": (["data.batch_size=2.5"], [r"data\.batch_size=2\.5 \(float\) is not a valid int"]),
    "bool where an int is needed": (["checkpoint.keep=true"], [r"checkpoint\.keep=True .* valid: an int >= -1"]),
    "out of range": (["checkpoint.keep=-5"], [r"checkpoint\.keep=-5 is not valid; valid: an int >= -1"]),
    "unknown split": (
        ["evaluate.split=tset"],
        [r"evaluate\.split='tset' is not valid; valid: train, val, test or null"],
    ),
    "appended unknown key": (
        ["+data.frame_rate=4"],
        [r"data\.frame_rate: VideoDataModule has no parameter", "valid keys"],
    ),
    "appended unknown module key": (["+module.learning_rate=1"], [r"module\.learning_rate: .*valid keys: lr"]),
    "target that does not exist": (
        ["reducer._target_=videolmm.reducers.Nope"],
        [r"reducer\._target_=.*cannot be imported"],
    ),
    "required values left out": (
        ["data=webdataset"],
        [r"data\.tokenizer is required \(\?\?\?\)", r"data\.shards\.train is required \(\?\?\?\)"],
    ),
    "a component's own argument check": (["reducer.mode=cubic"], [r"unknown mode 'cubic'"]),
    "grid smaller than the pooling stride": (
        ["reducer.stride=8"],
        [r"cannot reduce the encoder's 7x7 patch grid", r"stride 8 needs a grid of at least 8x8", "Valid:"],
    ),
    "fewer frames than the reducer needs": (
        ["reducer=lita", "frames.num_frames=3"],
        [r"gives at most T=3 frames", r"needs min_frames=4", r"Valid: frames\.num_frames=4"],
    ),
    "visual and text tokens over max_length": (
        ["data.max_length=60"],
        [r"72 visual tokens .* \+ 22 text tokens = 94, more than data\.max_length=60", r"data\.max_length >= 94"],
    ),
    "visual and text tokens over the LLM's context": (
        ["llm.config.max_position_embeddings=64"],
        [r"= 94, more than llm\.config\.max_position_embeddings=64", r"max_position_embeddings >= 94"],
    ),
    "a stage that trains nothing": (["stage=frozen_eval"], [r"stage=frozen_eval trains none of", r"stage=full"]),
    "a stage missing a component": (["~stage.trainable.llm"], [r"missing \['llm'\]", r"names each of"]),
    "a stage naming a component the model lacks": (["+stage.trainable.decoder=true"], [r"unknown \['decoder'\]"]),
    "a model that cannot be built": (
        ["projector.hidden_dim=-1"],
        [r"the model cannot be built on the meta device: ", r"negative dimension -1"],
    ),
    "FSDP2 on the CPU": (["strategy=fsdp2"], [r"on the CPU needs strategy\.data_parallel_size", r"= 1 x 1"]),
    "export of FSDP2-sharded weights": (
        ["strategy=fsdp2", "strategy.data_parallel_size=1", "export_hf_dir=/tmp/hf"],
        [r"export_hf_dir is set but strategy \(FSDP2\) leaves the weights sharded", r"Valid: strategy=auto or ddp"],
    ),
    "a resume path that does not exist": (["resume=/no/such/last.ckpt"], [r"no such checkpoint\. Valid: auto, never"]),
    "a transform that does not fit the encoder": (
        ["data.transform={_target_:videolmm.data.ClipTransform,size:24,crop:24}"],
        [
            r"data\.transform does not fit encoder videolmm\.encoders\.SiglipEncoder",
            r"ClipTransform\(size=24, crop=24\)",
            r"image_size: 24 != 28",
            r"mean: \(0\.48145466, 0\.4578275, 0\.40821073\) != \(0\.5, 0\.5, 0\.5\)",
        ],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_is_reported_with_what_would_be_valid(tmp_path, case):
    overrides, patterns = CASES[case]
    found = problems(tmp_path, *overrides)
    assert len(found) == (2 if case == "required values left out" else 1), found
    for pattern in patterns:
        assert any(re.search(pattern, problem) for problem in found), (pattern, found)


def test_a_transform_that_preprocesses_as_the_encoder_declares_is_accepted(tmp_path):
    assert problems(tmp_path, "data.transform={_target_:videolmm.data.SiglipTransform,size:28}") == []
    clip = "data.transform={_target_:videolmm.data.ClipTransform,size:24,crop:24}"
    assert problems(tmp_path, "encoder=tiny_clip", clip) == []


def test_several_mistakes_are_reported_together(tmp_path):
    found = problems(tmp_path, "seed=abc", "module.lr=fast", "+data.frame_rate=4")
    assert len(found) == 3


def test_exit_on_invalid_config_prints_the_list_and_exits_with_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        exit_on_invalid_config(compose_train(tmp_path, "reducer.stride=8", "seed=-1"))
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("videolmm-train: invalid configuration (1 problem); nothing was built or run:")
    assert "seed=-1 is not valid" in err
    exit_on_invalid_config(compose_train(tmp_path))  # a valid config returns


SMALL = ["data.shards.train=8", "data.shards.val=4", "data.shards.test=4", "data.shards.samples_per_shard=4"]
"""Keeps a run short should a mistake get past start-up (then the test fails fast, on its traceback)."""


def run_train(tmp_path: Path, *overrides: str):
    """``videolmm-train`` with a data root and run folder that do not exist."""
    command = [
        console_script("videolmm-train", skip_missing=True),
        f"run_dir={tmp_path / 'run'}",
        f"data.shards.root={tmp_path / 'data'}",
    ]
    small = [*SMALL, "trainer.max_steps=1", "evaluate.split=null"]
    return run_process([*command, *small, *overrides], tmp_path, timeout=120)


def test_a_misspelt_key_stops_the_console_script_with_a_message_and_no_traceback(tmp_path):
    done = run_train(tmp_path, "trainer.max_stpes=3")
    assert done.returncode != 0
    assert "Key 'max_stpes' is not in struct" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "data").exists()


WIRED = {
    "an impossible combination": ("reducer.stride=8", "cannot reduce the encoder's 7x7 patch grid"),
    "a wrong type": pytest.param("trainer.max_steps=abc", "is not a valid int", marks=pytest.mark.slow),
    "an appended unknown key": pytest.param("+data.frame_rate=4", "has no parameter", marks=pytest.mark.slow),
}


@pytest.mark.parametrize(("override", "message"), WIRED.values(), ids=list(WIRED))
def test_the_console_script_stops_on_an_invalid_config_before_any_work_without_a_traceback(tmp_path, override, message):
    done = run_train(tmp_path, override)
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == 2, done.stderr[-2000:]
    assert message in done.stderr
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "run" / "checkpoints").exists()
