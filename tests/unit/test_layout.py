"""The separator layout: token counts, the gather index `Separators` uses, the reference budgets, imports."""

import pytest
import torch

from tests.conftest import run_python
from videolmm.layout import POSITIONS, SeparatorLayout, visual_token_count
from videolmm.model import Separators
from videolmm.reducers import (
    Identity,
    LitaSlowFast,
    LlavaVideoSlowFast,
    Pllava3DPool,
    Segment,
    SlowFastLlava,
    SpatialPool,
)

SIGLIP, CLIP336, CLIP224 = (27, 27), (24, 24), (16, 16)
LAYOUTS = [SeparatorLayout(position, marker) for position in POSITIONS for marker in (False, True)]


def layout_id(layout: SeparatorLayout) -> str:
    return f"{layout.position}{'+marker' if layout.slowfast_marker else ''}"


EXTRA_ON_3_FRAMES_OF_3X3 = {  # (position, slowfast_marker) -> vectors added
    ("none", False): 0,
    ("grid", False): 3 * 3,  # a newline after each of the 3 rows of the 3 frames
    ("frame", False): 3,
    ("end", False): 1,
    ("none", True): 3,  # a marker after each frame
    ("grid", True): 3 * 3 + 3,
    ("frame", True): 3 + 3,
    ("end", True): 1 + 3,
}


@pytest.mark.parametrize("layout", LAYOUTS, ids=layout_id)
def test_extra_tokens_of_each_position_on_pooled_frames(layout):
    extra = EXTRA_ON_3_FRAMES_OF_3X3[(layout.position, layout.slowfast_marker)]
    segments = SpatialPool(2, "avg").segments(3, (7, 7))  # 3 frames of 3x3 tokens
    assert layout.extra_tokens(segments) == extra
    assert visual_token_count(SpatialPool(2, "avg"), layout, 3, (7, 7)) == 27 + extra


def test_lita_fast_block_counts_as_one_row():
    segments = LitaSlowFast(num_slow_frames=2, stride=2).segments(5, (4, 4))
    assert segments[0] == Segment(range(5), 1, 5, "fast")
    assert SeparatorLayout("grid").extra_tokens(segments) == 1 + 2 * 2


@pytest.mark.parametrize("layout", LAYOUTS, ids=layout_id)
@pytest.mark.parametrize(
    ("reducer", "T", "grid"),
    [(SpatialPool(2, "avg"), 3, (7, 7)), (LlavaVideoSlowFast(3, 2, "avg"), 6, (8, 8)), (LitaSlowFast(2, 2), 5, (4, 4))],
    ids=["spatial_pool", "llava_video_slowfast", "lita"],
)
def test_gather_index_is_what_separators_forward_does(layout, reducer, T, grid):
    segments = reducer.segments(T, grid)
    L = reducer.num_tokens(T, grid)
    separators = Separators(dim=1, layout=layout)
    with torch.no_grad():
        for i, name in enumerate(layout.vectors):  # the table row each vector occupies: L, L + 1
            getattr(separators, name).fill_(L + i)
    tokens = torch.arange(L, dtype=torch.float64)[None, :, None]  # (1, L, 1): token i holds i
    out = separators(tokens, segments)[0, :, 0]  # (L',)
    index = layout.gather_index(segments)
    assert out.tolist() == list(map(float, index))
    assert len(index) == L + layout.extra_tokens(segments)
    assert layout.gather_index(segments) is index  # cached


def test_gather_index_of_grid_newlines_with_a_marker():
    segments = Identity().segments(2, (2, 1))  # 2 frames of 2 rows x 1 token: L = 4, newline 4, marker 5
    assert SeparatorLayout("grid", slowfast_marker=True).gather_index(segments) == (0, 4, 1, 4, 5, 2, 4, 3, 4, 5)
    assert SeparatorLayout("end").gather_index(segments) == (0, 1, 2, 3, 4)


def test_vectors_are_named_in_table_order():
    assert SeparatorLayout().vectors == ()
    assert SeparatorLayout("frame").vectors == ("newline",)
    assert SeparatorLayout(slowfast_marker=True).vectors == ("marker",)
    assert SeparatorLayout("grid", slowfast_marker=True).vectors == ("newline", "marker")


def test_str_is_what_the_tokens_tool_prints():
    assert str(SeparatorLayout("grid", slowfast_marker=True)) == "position='grid', slowfast_marker=True"


def test_an_unknown_position_is_refused_with_the_valid_ones():
    with pytest.raises(
        ValueError, match="unknown separator position 'one_token'; expected one of none, grid, frame, end"
    ):
        SeparatorLayout("one_token")


def test_a_marker_flag_that_is_not_a_bool_is_refused():
    with pytest.raises(ValueError, match="slowfast_marker must be a bool, got 'yes'"):
        SeparatorLayout("grid", slowfast_marker="yes")


@pytest.mark.parametrize(
    ("name", "reducer", "layout", "T", "grid", "expected"),
    [
        ("simple (32,729,1,2)", SpatialPool(2, "avg"), SeparatorLayout(), 32, SIGLIP, 5_408),
        ("LLaVA-Video eval", SpatialPool(2, "avg"), SeparatorLayout("grid"), 64, SIGLIP, 11_648),
        ("LLaVA-Video training script", SpatialPool(2, "bilinear"), SeparatorLayout("grid"), 64, SIGLIP, 13_440),
        ("LLaVA-OneVision", SpatialPool(2, "bilinear"), SeparatorLayout("end"), 32, SIGLIP, 6_273),
        (
            "LLaVA-Video SlowFast code",
            LlavaVideoSlowFast(3, 2, "avg"),
            SeparatorLayout("grid", slowfast_marker=True),
            64,
            SIGLIP,
            5_832,
        ),
        (
            "LLaVA-Video SlowFast bilinear",
            LlavaVideoSlowFast(3, 2, "bilinear"),
            SeparatorLayout("grid", slowfast_marker=True),
            64,
            SIGLIP,
            7_036,
        ),
        ("LLaVA-NeXT-Video", SpatialPool(2, "avg"), SeparatorLayout(), 32, CLIP336, 4_608),
        ("LITA", LitaSlowFast(4, 2), SeparatorLayout(), 100, CLIP224, 356),
        ("SlowFast-LLaVA", SlowFastLlava(10, "1d_max", (4, 4)), SeparatorLayout(), 50, CLIP336, 3_680),
        ("PLLaVA", Pllava3DPool((16, 12, 12)), SeparatorLayout(), 16, CLIP336, 2_304),
        ("Table 5 simple", SpatialPool(2, "avg"), SeparatorLayout(), 32, SIGLIP, 5_408),
        ("Table 5 LLaVA-Video SlowFast", LlavaVideoSlowFast(3, 2, "avg"), SeparatorLayout(), 64, SIGLIP, 5_230),
        ("Table 5 LITA", LitaSlowFast(21, 2, fast_stride=4), SeparatorLayout(), 42, SIGLIP, 5_061),
        ("Table 5 SlowFast-LLaVA", SlowFastLlava(21, "2d_avg", (6, 6)), SeparatorLayout(), 42, SIGLIP, 5_061),
        ("identity", Identity(), SeparatorLayout("frame"), 3, SIGLIP, 3 * 730),
    ],
)
def test_reference_configuration_budgets(name, reducer, layout, T, grid, expected):
    assert visual_token_count(reducer, layout, T, grid) == expected


def test_without_separators_the_budget_is_the_reducers():
    assert visual_token_count(SpatialPool(2, "avg"), None, 4, SIGLIP) == 4 * 169


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("videolmm.layout", ("videolmm.model", "hydra", "omegaconf", "lightning")),
        ("videolmm.data", ("videolmm.model",)),
    ],
)
def test_counting_tokens_does_not_import_the_model(module, forbidden):
    check = (
        f"import {module}, sys; loaded = [m for m in sys.modules if m.startswith({forbidden!r})]; "
        "assert not loaded, loaded"
    )
    result = run_python(check, timeout=120)
    assert result.returncode == 0, result.stderr
