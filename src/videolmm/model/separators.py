"""`Separators`: the learned vectors a `videolmm.layout.SeparatorLayout` places between visual tokens.

The layout (which vectors follow which reducer segment) is pure arithmetic in `videolmm.layout`;
this module holds only the vectors (``newline``, ``marker``, the state-dict keys LLaVA-NeXT's
``image_newline`` and ``faster_token`` map to) and the one gather that interleaves them.
"""

import torch
from torch import Tensor, nn

from videolmm.layout import SeparatorLayout
from videolmm.reducers.base import Segment, count_tokens
from videolmm.shapes import check_positive_int


class Separators(nn.Module):
    """Insert learned separator vectors into a reduced video, where ``layout`` says.

    Args:
        dim: Width of the vectors (``E`` after the projector).
        layout: Where the vectors go; the default places none.
    """

    def __init__(self, dim: int, layout: SeparatorLayout = SeparatorLayout()) -> None:  # noqa: B008 (frozen, shared safely)
        super().__init__()
        if not isinstance(layout, SeparatorLayout):
            raise TypeError(f"layout must be a SeparatorLayout, got {layout!r}; e.g. SeparatorLayout(position='grid')")
        self.dim = check_positive_int(dim, name="dim")
        self.layout = layout
        self.newline = nn.Parameter(torch.empty(dim)) if "newline" in layout.vectors else None
        self.marker = nn.Parameter(torch.empty(dim)) if "marker" in layout.vectors else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise every vector from N(0, 1/dim), as LLaVA-NeXT does."""
        for p in (self.newline, self.marker):
            if p is not None:
                with torch.no_grad():
                    p.normal_(0.0, self.dim**-0.5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, {self.layout}"

    def forward(self, x: Tensor, segments: tuple[Segment, ...]) -> Tensor:
        """Interleave the separators with the visual tokens in one gather (``layout.gather_index``).

        Shapes:
            x: (B, L, E) -> (B, L + layout.extra_tokens(segments), E)
        """
        segments = tuple(segments)
        L = count_tokens(segments)
        if x.ndim != 3 or x.shape[1] != L:
            raise ValueError(f"Separators expects (B, L, E) with L={L} tokens from the segments, got {tuple(x.shape)}")
        if self.newline is None and self.marker is None:
            return x
        B, _, E = x.shape
        vectors: list[Tensor] = [v for v in (self.newline, self.marker) if v is not None]  # layout.vectors order
        extra = torch.stack(vectors).to(x.dtype).unsqueeze(0).expand(B, -1, E)  # (B, 1 or 2, E)
        table = torch.cat([x, extra], dim=1)  # (B, L + 1 or 2, E): visual tokens, newline, marker
        index = torch.tensor(self.layout.gather_index(segments), device=x.device)
        return table.index_select(1, index)  # -> (B, L', E)
