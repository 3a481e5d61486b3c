"""`MLPProjector`: LLaVA's ``mlp2x_gelu``, Linear -> GELU (exact erf form) -> Linear."""

from torch import Tensor, nn


class MLPProjector(nn.Module):
    """Two linear layers with an exact GELU between them, applied to every token.

    Parameter names (``linear_1``, ``linear_2``) follow HF's ``multi_modal_projector``.

    Args:
        in_dim: Input width (``D``, the encoder width).
        out_dim: Output width (``E``, the LLM width).
        hidden_dim: Width between the two layers; ``None`` means ``out_dim`` (as LLaVA).
        bias: Use biases (LLaVA does).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int | None = None, bias: bool = True) -> None:
        super().__init__()
        hidden = out_dim if hidden_dim is None else hidden_dim
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.linear_1 = nn.Linear(in_dim, hidden, bias=bias)
        self.act = nn.GELU(approximate="none")
        self.linear_2 = nn.Linear(hidden, out_dim, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        """Project every token.

        Shapes:
            x: (..., D) -> (..., E), e.g. (B, T, N, D) -> (B, T, N, E) or (B, L, D) -> (B, L, E)
        """
        return self.linear_2(self.act(self.linear_1(x)))
