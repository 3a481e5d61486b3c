"""The init group's callables: a built model starts from saved weights, or fails listing what does not fit."""

import pytest
import torch

from videolmm.checkpoint import keep_random_init, load_hf_llava, save_hf_pretrained

from .tiny import llava_video_slowfast, onevision_like, run


def test_load_hf_llava_fills_a_built_model_with_the_saved_weights(tmp_path):
    torch.manual_seed(0)
    source = onevision_like()
    save_hf_pretrained(source, tmp_path)
    torch.manual_seed(1)
    target = onevision_like()
    assert not torch.equal(run(target), run(source))
    load_hf_llava(target, tmp_path)
    torch.testing.assert_close(run(target), run(source), atol=0, rtol=0)


def test_a_checkpoint_that_does_not_cover_the_composition_is_refused_with_the_keys(tmp_path):
    save_hf_pretrained(onevision_like(), tmp_path)
    with pytest.raises(ValueError, match="missing"):
        load_hf_llava(llava_video_slowfast(), tmp_path)  # its SlowFast marker vectors are not in the file


def test_keep_random_init_leaves_the_model_unchanged():
    model = onevision_like()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    keep_random_init(model)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
