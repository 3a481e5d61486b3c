"""The shape glossary used in every docstring and shape comment of videolmm.

=======  ==========================================================
letter   meaning
=======  ==========================================================
``B``    batch (videos)
``T``    frames per video
``C``    colour channels
``H W``  pixels per frame
``h w``  patch grid of one frame (``grid = (h, w)``)
``N``    patches per frame, ``N = h * w``
``D``    encoder width (channels where a reducer runs before the projector)
``E``    LLM width
``L``    visual tokens of one video after reduction (and separators)
``S``    sequence length of the LLM input
=======  ==========================================================

The pipeline, in these letters::

    frames (B, T, C, H, W) -> encoder -> (B, T, N, D) -> projector -> (B, T, N, E)
      -> reducer -> (B, L, E) -> separators -> (B, L', E) -> splice -> (B, S, E) -> LLM

Sizes given to a constructor (frames, strides, widths, chunks) are checked with `is_positive_int`.
"""

Grid = tuple[int, int]
"""Rows and columns ``(h, w)`` of the patch grid of one frame."""


def is_positive_int(value: object) -> bool:
    """Whether ``value`` is an ``int`` of at least 1 (a ``bool`` is not a size)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_positive_int(value: int, *, name: str) -> int:
    """Return ``value`` if `is_positive_int`, else raise `ValueError` naming it ``name``."""
    if not is_positive_int(value):
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


__all__ = ["Grid"]
