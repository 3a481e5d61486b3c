"""The per-sample processor: decode, sample, time instruction, tokenise, with the budget of the reducer."""

import json

import numpy as np
import torch

from tests.unit.data.conftest import BUDGET_GRID, record
from videolmm.data import ChatTemplate, FpsFrames, PyAVDecoder, SampleProcessor, SiglipTransform, VisualBudget
from videolmm.data.records import parse_record
from videolmm.layout import SeparatorLayout
from videolmm.reducers import SpatialPool


def test_a_shard_sample_becomes_tensors_with_the_budgeted_placeholders(processor, small_video):
    raw = {"mp4": small_video, "json": json.dumps(record("k")).encode()}
    sample = processor.from_shard(raw, "k", rng=np.random.default_rng(0), train=True)
    assert sample.key == "k"
    assert sample.frames.shape == (4, 3, 16, 16)
    assert sample.num_visual_tokens == 16  # 4 frames x 2x2
    assert (sample.input_ids == 151656).sum() == 16
    assert sample.input_ids.shape == sample.labels.shape
    assert sample.record.id == "k"


def test_fps_sampling_time_instruction_and_separators(processor, small_video):
    budget = VisualBudget(SpatialPool(stride=2), SeparatorLayout(position="grid"), BUDGET_GRID)
    chat = ChatTemplate(processor.chat.tokenizer, max_length=512)
    fps = SampleProcessor(PyAVDecoder(), FpsFrames(fps=3.0, max_frames=0), SiglipTransform(8), chat, budget, True)
    sample = fps.process(parse_record(record("k")), small_video, "k", rng=np.random.default_rng(0), train=False)
    assert sample.frames.shape[0] == 6  # 12 frames at 6 fps, every 2nd
    assert sample.num_visual_tokens == 6 * (4 + 2)  # 2x2 tokens + a newline after each of the 2 rows
    text = chat.tokenizer.decode(sample.input_ids[sample.input_ids != 151656])
    assert (
        "The video lasts for 2.00 seconds, and 6 frames are uniformly sampled from it. These frames are "
        "located at 0.00s,1.00s,2.00s,3.00s,4.00s,5.00s.Please answer"
    ) in text  # LLaVA-Video's times: index/step
    assert torch.equal(sample.labels[sample.labels != -100][-1:], torch.tensor([151645]))
