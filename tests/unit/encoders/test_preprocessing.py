"""Every encoder of the registry declares its preprocessing: the same from its config as from the built tower.

Parametrised over ``conf/encoder/*.yaml``, so a new encoder option is tested without editing this file.
Full-size towers are built on the meta device (nothing is allocated); the tiny twins also encode the
transformed frames on the CPU.
"""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.utils import instantiate
from omegaconf import DictConfig

import videolmm.conf
from videolmm.data import ClipTransform, SiglipTransform, transform_from
from videolmm.encoders import ClipEncoder, SiglipEncoder, TimmSiglipEncoder, VisionEncoder
from videolmm.eval.loading import matched_transform
from videolmm.preprocessing import Resize
from videolmm.training.assembly import encoder_preprocessing

ENCODERS = sorted(p.stem for p in (Path(videolmm.conf.__file__).parent / "encoder").glob("*.yaml"))
TINY = [option for option in ENCODERS if option.startswith("tiny")]


def encoder_config(option: str) -> DictConfig:
    with initialize_config_module(config_module="videolmm.conf", version_base="1.3"):
        return compose(overrides=[f"+encoder={option}"])


def video(height: int = 45, width: int = 80) -> torch.Tensor:
    """Two uint8 frames (T, C, H, W), not square, so that a resize rule shows."""
    return torch.randint(0, 256, (2, 3, height, width), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def test_the_registry_has_encoders_and_their_tiny_twins():
    assert len(ENCODERS) >= 4
    assert TINY


@pytest.mark.parametrize("option", ENCODERS)
def test_the_declared_preprocessing_is_the_configs_and_its_transform_fits_the_encoder(option):
    cfg = encoder_config(option)
    with torch.device("meta"):
        encoder = instantiate(cfg.encoder)
    assert isinstance(encoder, VisionEncoder)
    assert encoder.preprocessing == encoder_preprocessing(cfg)
    assert encoder.preprocessing.image_size == encoder.image_size
    transform = transform_from(encoder.preprocessing)
    assert transform.preprocessing == encoder.preprocessing
    assert matched_transform(encoder).preprocessing == encoder.preprocessing  # what evaluation uses
    for height, width in ((45, 80), (80, 45)):
        assert transform(video(height, width)).shape == (2, 3, encoder.image_size, encoder.image_size)


@pytest.mark.parametrize("option", TINY)
def test_a_tiny_encoder_encodes_the_frames_its_transform_makes(option):
    encoder = instantiate(encoder_config(option).encoder).eval()
    frames = transform_from(encoder.preprocessing)(video())  # (T, C, H, W) uint8 -> (T, C, S, S) float32
    with torch.no_grad():
        patches = encoder(frames[None])  # (1, T, C, S, S) -> (1, T, N, D)
    h, w = encoder.grid(encoder.image_size)
    assert patches.shape == (1, 2, h * w, encoder.embed_dim)


def test_each_family_declares_its_image_processor():
    siglip = SiglipEncoder.preprocessing_for(image_size=384)
    assert siglip.resize is Resize.SQUASH
    assert siglip == TimmSiglipEncoder.preprocessing_for(image_size=384) == SiglipTransform(384).preprocessing
    clip = ClipEncoder.preprocessing_for(image_size=336)
    assert clip.resize is Resize.SHORTER_SIDE_CROP
    assert clip == ClipTransform(336, 336).preprocessing
