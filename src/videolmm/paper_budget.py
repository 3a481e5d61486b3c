"""The LLaVA-Video paper's closed-form token budget, kept only to document its Table 5.

`paper_tokens` is the paper's formula; with ``M = 679`` it reproduces three of the four rows of
Table 5 (see the token budget docs page). `paper_representation` writes a reducer in the paper's
``V = (T, M, s, p)`` terms when the formula describes it. What a reducer and separators really
produce is `videolmm.layout.visual_token_count`.
"""

from dataclasses import dataclass
from functools import singledispatch

from videolmm.reducers import LitaSlowFast, LlavaVideoSlowFast, SlowFastLlava, SpatialPool

__all__ = ["PAPER_M", "PaperRepresentation", "paper_representation", "paper_tokens"]

PAPER_M = 679
"""The per-frame token count ``M`` the LLaVA-Video paper uses for a 27x27 SigLIP grid."""


@dataclass(frozen=True)
class PaperRepresentation:
    """A reducer in the paper's ``V = (T, M, s, p)`` terms.

    Attributes:
        num_frames: ``T``.
        slow_every: ``s`` (``T / s`` frames are slow).
        stride: ``p``.
        all_fast: Every frame is also fast (LITA and SlowFast-LLaVA as Table 5 varies them);
            otherwise the fast frames are the complement of the slow ones (LLaVA-Video).
    """

    num_frames: int
    slow_every: int
    stride: int
    all_fast: bool = False

    def tokens(self, m: int = PAPER_M) -> int:
        """The paper's count with per-frame tokens ``m``."""
        return paper_tokens(self.num_frames, m, self.slow_every, self.stride, all_fast=self.all_fast)


def paper_tokens(num_frames: int, m: int, slow_every: int, stride: int, *, all_fast: bool = False) -> int:
    """``floor(T/s)*floor(M/p^2) + F*floor(M/(4p^2))`` with ``F = T`` if ``all_fast`` else ``T - floor(T/s)``."""
    num_slow = num_frames // slow_every
    num_fast = num_frames if all_fast else num_frames - num_slow
    return num_slow * (m // stride**2) + num_fast * (m // (4 * stride**2))


@singledispatch
def paper_representation(reducer: object, num_frames: int) -> PaperRepresentation | None:
    """The reducer as the paper's ``V``, or ``None`` when the formula does not describe it."""
    return None


@paper_representation.register
def _(reducer: SpatialPool, num_frames: int) -> PaperRepresentation | None:
    return PaperRepresentation(num_frames, 1, reducer.stride)


@paper_representation.register
def _(reducer: LlavaVideoSlowFast, num_frames: int) -> PaperRepresentation | None:
    return PaperRepresentation(num_frames, reducer.slow_every, reducer.stride)


@paper_representation.register
def _(reducer: LitaSlowFast, num_frames: int) -> PaperRepresentation | None:
    if reducer.fast_stride != 2 * reducer.stride or num_frames % reducer.num_slow_frames:
        return None
    return PaperRepresentation(num_frames, num_frames // reducer.num_slow_frames, reducer.stride, all_fast=True)


@paper_representation.register
def _(reducer: SlowFastLlava, num_frames: int) -> PaperRepresentation | None:
    if not reducer.slow_pool.two_dimensional or num_frames % reducer.num_slow_frames:
        return None
    return PaperRepresentation(num_frames, num_frames // reducer.num_slow_frames, 2, all_fast=True)
