"""`LinearProjector`: one linear layer (LLaVA's ``linear`` projector)."""

from torch import Tensor, nn


class LinearProjector(nn.Module):
    """A single linear map applied to every token.

    Args:
        in_dim: Input width (``D``, the encoder width).
        out_dim: Output width (``E``, the LLM width).
        bias: Use a bias.
    """

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.linear = nn.Linear(in_dim, out_dim, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        """Project every token.

        Shapes:
            x: (..., D) -> (..., E)
        """
        return self.linear(x)
