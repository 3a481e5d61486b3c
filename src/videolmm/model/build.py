"""`build_model`: the one place the model tree is instantiated from Hydra config.

Children are instantiated first (encoder, LLM, reducer), then the components whose widths
depend on them: the projector gets ``in_dim = encoder.embed_dim`` and ``out_dim =
llm.hidden_size`` (its YAML leaves these ``???``), and `Separators` gets ``dim = llm.hidden_size``
with the layout the ``separators`` group configures. Nothing is read from disk: every module is
randomly initialised from its shape.
Wrap the call in ``torch.device("meta")`` to build a full-size model without allocating it.
"""

from hydra.utils import instantiate
from omegaconf import DictConfig

from videolmm.model.separators import Separators
from videolmm.model.videolmm import VideoLMM


def build_model(cfg: DictConfig) -> VideoLMM:
    """Build a `VideoLMM` from a config node.

    Args:
        cfg: A node with the groups ``encoder``, ``reducer``, ``projector``, ``separators`` (a
            `videolmm.layout.SeparatorLayout`) and ``llm`` (each a ``_target_`` config) and the
            scalars ``video_token_id`` and ``reduce_after_projector``.

    Returns:
        The composed model, randomly initialised.
    """
    encoder = instantiate(cfg.encoder)
    llm = instantiate(cfg.llm)
    reducer = instantiate(cfg.reducer)
    projector = instantiate(cfg.projector, in_dim=encoder.embed_dim, out_dim=llm.hidden_size)
    separators = Separators(dim=llm.hidden_size, layout=instantiate(cfg.separators))
    return VideoLMM(
        encoder=encoder,
        reducer=reducer,
        projector=projector,
        separators=separators,
        llm=llm,
        video_token_id=cfg.video_token_id,
        reduce_after_projector=cfg.reduce_after_projector,
    )
