"""build_model and the contract of every encoder / projector / LLM option in conf/.

Every YAML of the three groups is checked: its keys bind to the target's signature, and it
builds on the meta device (no memory, no weights). Options small enough to run on a CPU in
a blink (under 5M parameters: the ``tiny`` ones) are also built for real and run: output shape
and dtype, gradients on every parameter, non-empty ``block_classes``. A new YAML is picked up
without editing this file.
"""

import inspect
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

import videolmm.conf
from videolmm.model import VideoLMM, build_model
from videolmm.shapes import Grid

CONF = Path(videolmm.conf.__file__).parent
SMALL = 5_000_000  # parameters: built and run for real below this


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def compose_model(
    encoder: str = "tiny",
    llm: str = "tiny",
    projector: str = "mlp2x_gelu",
    reducer: str = "bilinear_2x2",
    separators: str = "end",
    reduce_after_projector: bool = True,
    video_token_id: int = 255,
) -> DictConfig:
    overrides = [
        f"+encoder={encoder}",
        f"+llm={llm}",
        f"+projector={projector}",
        f"+reducer={reducer}",
        f"+separators={separators}",
        f"+reduce_after_projector={reduce_after_projector}",
        f"+video_token_id={video_token_id}",
    ]
    with initialize_config_module("videolmm.conf", version_base="1.3"):
        return compose(overrides=overrides)


def option(group: str, name: str) -> DictConfig:
    return OmegaConf.load(CONF / group / f"{name}.yaml")


def params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def bind(cfg: DictConfig, **fill) -> None:
    """The YAML's keys (plus ``fill``) bind to its target's signature."""
    kwargs = {k: v for k, v in OmegaConf.to_container(cfg).items() if not k.startswith("_")}
    inspect.signature(get_class(cfg._target_)).bind(**{**kwargs, **fill})


# Parameter counts of the full-size options, from the published models: Qwen2 0.5B / 7B / 72B;
# SmolLM2-135M; CLIP ViT-L/14 (303,507,456 at 336 px, 303,179,776 at 224 px) less its last layer
# (12,596,224) and post-layernorm (2,048); SigLIP so400m-384 (428,225,600 with 27 layers and the
# attention-pooling head) less layer 27 (15,239,504), post-layernorm (2,304) and head (15,238,352).
GOLDEN_PARAMS = {
    ("llm", "qwen2_0_5b"): 494_032_768,
    ("llm", "qwen2_7b"): 7_615_616_512,
    ("llm", "qwen2_72b"): 72_706_203_648,
    ("llm", "smollm2_135m"): 134_515_008,
    ("encoder", "clip_vit_l14_336"): 303_507_456 - 12_596_224 - 2_048,
    ("encoder", "clip_vit_l14_224"): 303_179_776 - 12_596_224 - 2_048,
    ("encoder", "siglip_so400m_p14_384"): 428_225_600 - 15_239_504 - 2_304 - 15_238_352,
    ("encoder", "timm_siglip_so400m_p14_384"): 428_225_600 - 15_239_504 - 2_304 - 15_238_352,
}


@pytest.mark.parametrize("name", options("encoder"))
def test_encoder_option_contract(name):
    cfg = option("encoder", name)
    bind(cfg)
    with torch.device("meta"):
        meta = instantiate(cfg)
    assert ("encoder", name) not in GOLDEN_PARAMS or params(meta) == GOLDEN_PARAMS["encoder", name]
    grid: Grid = meta.grid(meta.image_size)
    assert meta.embed_dim > 0
    assert len(grid) == 2
    assert meta.block_classes
    if params(meta) >= SMALL:
        return
    enc = instantiate(cfg)
    side = enc.image_size
    out = enc(torch.randn(2, 3, enc.num_channels, side, side))
    assert out.shape == (2, 3, grid[0] * grid[1], enc.embed_dim)
    assert out.dtype == torch.float32
    out.square().mean().backward()
    assert all(p.grad is not None for p in enc.parameters())
    assert any(isinstance(m, enc.block_classes) for m in enc.modules())


@pytest.mark.parametrize("name", options("projector"))
def test_projector_option_contract(name):
    cfg = option("projector", name)
    assert OmegaConf.is_missing(cfg, "in_dim")
    assert OmegaConf.is_missing(cfg, "out_dim")
    bind(cfg, in_dim=8, out_dim=16)
    proj = instantiate(cfg, in_dim=8, out_dim=16)
    x = torch.randn(2, 5, 8, requires_grad=True)
    y = proj(x)
    assert y.shape == (2, 5, 16)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert x.grad is not None
    assert all(p.grad is not None for p in proj.parameters())


@pytest.mark.parametrize("name", options("llm"))
def test_llm_option_contract(name):
    cfg = option("llm", name)
    bind(cfg)
    config = instantiate(cfg.config)
    declared = set(inspect.signature(type(config).__init__).parameters)
    assert set(cfg.config) - {"_target_", "_convert_"} <= declared  # no typo silently becomes an attribute
    with torch.device("meta"):
        meta = instantiate(cfg)
    assert ("llm", name) not in GOLDEN_PARAMS or params(meta) == GOLDEN_PARAMS["llm", name]
    assert meta.hidden_size == config.hidden_size
    assert meta.block_classes
    if params(meta) >= SMALL:
        return
    llm = instantiate(cfg)
    ids = torch.randint(0, llm.vocab_size, (2, 6))
    hidden = llm(llm.embed(ids), torch.ones_like(ids))
    logits = llm.logits(hidden)
    assert hidden.shape == (2, 6, llm.hidden_size)
    assert logits.shape == (2, 6, llm.vocab_size)
    assert logits.dtype == torch.float32
    logits.logsumexp(-1).mean().backward()
    assert all(p.grad is not None for p in llm.parameters())
    assert any(isinstance(m, llm.block_classes) for m in llm.modules())


def test_build_fills_the_widths_from_the_children():
    cfg = compose_model()
    assert "dim" not in cfg.separators  # the layout has no width; the builder gives the vectors the LLM's
    model = build_model(cfg)
    assert isinstance(model, VideoLMM)
    assert (model.projector.in_dim, model.projector.out_dim) == (32, 64)  # tiny SigLIP -> tiny Qwen2
    assert model.separators.dim == 64
    assert (model.video_token_id, model.reduce_after_projector) == (255, True)


@pytest.mark.parametrize(
    ("groups", "frames", "tokens"),
    [
        # reference_algorithms.md §1.7: the token counts of the published configurations
        ({"encoder": "siglip_so400m_p14_384", "llm": "qwen2_7b", "separators": "grid"}, 64, 64 * 210),
        ({"encoder": "siglip_so400m_p14_384", "llm": "qwen2_7b", "reducer": "avg_pool_2x2", "separators": "grid"},
         64, 64 * 182),
        ({"encoder": "siglip_so400m_p14_384", "llm": "qwen2_0_5b"}, 32, 196 * 32 + 1),
        ({"encoder": "clip_vit_l14_336", "llm": "qwen2_7b", "reducer": "avg_pool_2x2", "separators": "none",
          "reduce_after_projector": False}, 32, 144 * 32),
        ({"encoder": "clip_vit_l14_224", "llm": "qwen2_7b", "reducer": "lita", "separators": "none"}, 100, 356),
        ({"encoder": "siglip_so400m_p14_384", "llm": "qwen2_72b", "reducer": "llava_video_slowfast",
          "separators": "grid_slowfast"}, 64, 5832),
    ],
)  # fmt: skip
def test_full_size_models_compose_on_the_meta_device(groups, frames, tokens):
    with torch.device("meta"):
        model = build_model(compose_model(video_token_id=151647, **groups))
    assert model.num_visual_tokens(frames) == tokens
    assert model.projector.out_dim == model.separators.dim == model.llm.hidden_size


@pytest.mark.parametrize("reducer", options("reducer"))
def test_every_reducer_runs_inside_a_tiny_model(reducer):
    model = build_model(compose_model(reducer=reducer, separators="grid")).eval()
    num_frames = max(model.reducer.min_frames, 4)
    run = model.num_visual_tokens(num_frames)
    ids = torch.cat([torch.randint(0, 200, (3,)), torch.full((run,), 255), torch.randint(0, 200, (2,))])[None]
    with torch.no_grad():
        logits = model(ids, None, [torch.randn(num_frames, 3, 28, 28)]).logits
    assert logits.shape == (1, run + 5, 256)
    assert torch.isfinite(logits).all()
