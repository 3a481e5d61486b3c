"""Visual token reducers: pure ``nn.Module`` classes mapping patches (B, T, N, D) to tokens (B, L, D).

Every reducer takes ``forward(x, grid)`` with ``N = h * w`` and has ``num_tokens(T, grid)``,
``segments(T, grid)`` and ``min_frames``. Exact reference behaviours are in each class docstring.
"""

from videolmm.reducers.base import Segment, TokenReducer
from videolmm.reducers.identity import Identity
from videolmm.reducers.lita import LitaSlowFast, lita_slow_frames
from videolmm.reducers.llava_video_slowfast import LlavaVideoSlowFast
from videolmm.reducers.pllava import Pllava3DPool
from videolmm.reducers.slowfast_llava import SlowFastLlava, SlowPool, slowfast_llava_slow_frames
from videolmm.reducers.spatial_pool import SpatialPool

__all__ = [
    "Identity",
    "LitaSlowFast",
    "LlavaVideoSlowFast",
    "Pllava3DPool",
    "Segment",
    "SlowFastLlava",
    "SlowPool",
    "SpatialPool",
    "TokenReducer",
    "lita_slow_frames",
    "slowfast_llava_slow_frames",
]
