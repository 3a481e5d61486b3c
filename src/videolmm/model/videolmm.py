"""`VideoLMM`: encoder -> projector -> reducer -> separators -> splice -> LLM, as one ``nn.Module``.

The five components arrive built (see `build_model`); this module only composes them::

    frames (T, C, H, W) per video -> encoder -> (T, N, D) -> projector -> (T, N, E)
      -> reducer -> (L, E) -> separators -> (L', E) -> replaces L' placeholder ids -> LLM

With ``reduce_after_projector=False`` the reducer runs on the encoder output and the projector
after it (HF LLaVA-NeXT-Video). Videos of a batch may have different frame counts; a batch in
which no sample has a video still runs the visual path once on blank frames (its output
contributes exactly zero) so that every rank of a sharded job runs the same modules.

The model owns the whole computation, so any loop gets what ``videolmm-train`` optimises:

- `embed`: the one embedding path, for padded batches (one sample per row) and packed rows;
- `forward`: the token loss through ``llm.head_loss`` (summed, counted and averaged) and/or logits;
- `score`: per-row summed NLL, label count and greedy flag (closed-set choices, lmms-eval likelihoods);
- `generate`: decoding with the LLM's KV cache.

Loading and saving outside formats lives in `videolmm.checkpoint`, which imports this module (never
the other way round).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from videolmm.layout import visual_token_count
from videolmm.llm.loss import SequenceScores, sequence_scores, token_loss_sum
from videolmm.llm.packing import PackedSequences
from videolmm.model.separators import Separators
from videolmm.model.splice import placeholder_mask, scatter_visual
from videolmm.shapes import Grid

Videos = Tensor | Sequence[Tensor | None] | None
"""A (B, T, C, H, W) tensor, or one (T, C, H, W) tensor (or ``None``) per sample, or ``None``."""


@dataclass
class VideoLMMOutput:
    """What `VideoLMM.forward` returns.

    Attributes:
        loss: Mean next-token cross-entropy over labelled positions (``None`` without labels):
            ``loss_sum / max(num_label_tokens, 1)``.
        logits: (B, S, vocab) when asked for, else ``None``.
        loss_sum: Summed next-token cross-entropy (float32 scalar), what training back-propagates
            before normalising over the global batch (``None`` without labels).
        num_label_tokens: Predicted (labelled) positions, an int scalar (``None`` without labels).
    """

    loss: Tensor | None
    logits: Tensor | None
    loss_sum: Tensor | None = None
    num_label_tokens: Tensor | None = None


class VideoLMM(nn.Module):
    """A video LMM composed of five components.

    The components are duck-typed by their family contracts (see each family's package), so
    their attributes are typed ``Any`` here.

    Args:
        encoder: Frames (B, T, C, H, W) -> patches (B, T, N, D); has ``embed_dim``,
            ``image_size``, ``num_channels``, ``grid(image_size)`` and ``block_classes``.
        reducer: A `videolmm.reducers.TokenReducer`.
        projector: Per-token map (..., D) -> (..., E) with ``in_dim`` and ``out_dim``.
        separators: `Separators` of width ``E``.
        llm: A `videolmm.llm.CausalLM` (or anything with its interface).
        video_token_id: The placeholder id the data pipeline repeats once per visual token.
        reduce_after_projector: Project every patch, then reduce (LLaVA-OneVision / LLaVA-Video);
            ``False`` reduces the encoder output first (HF LLaVA-NeXT-Video).
    """

    encoder: Any
    reducer: Any
    projector: Any
    separators: Separators
    llm: Any

    def __init__(
        self,
        encoder: nn.Module,
        reducer: nn.Module,
        projector: nn.Module,
        separators: Separators,
        llm: nn.Module,
        video_token_id: int,
        reduce_after_projector: bool = True,
    ) -> None:
        super().__init__()
        widths = {
            "projector in_dim vs encoder embed_dim": (projector.in_dim, encoder.embed_dim),
            "projector out_dim vs llm hidden_size": (projector.out_dim, llm.hidden_size),
            "separators dim vs llm hidden_size": (separators.dim, llm.hidden_size),
        }
        for what, (got, want) in widths.items():
            if got != want:
                raise ValueError(f"width mismatch, {what}: {got} != {want}")
        self.encoder = encoder
        self.reducer = reducer
        self.projector = projector
        self.separators = separators
        self.llm = llm
        self.video_token_id = int(video_token_id)
        self.reduce_after_projector = bool(reduce_after_projector)

    def extra_repr(self) -> str:
        return f"video_token_id={self.video_token_id}, reduce_after_projector={self.reduce_after_projector}"

    @property
    def grid(self) -> Grid:
        """The patch grid ``(h, w)`` of one frame at the encoder's image size."""
        return self.encoder.grid(self.encoder.image_size)

    @property
    def block_classes(self) -> tuple[type[nn.Module], ...]:
        """Repeated block types of the encoder and the LLM (for sharding / checkpointing)."""
        return tuple(dict.fromkeys((*self.encoder.block_classes, *self.llm.block_classes)))

    def num_visual_tokens(self, num_frames: int) -> int:
        """Placeholder ids one video of ``num_frames`` frames needs (`visual_token_count`)."""
        return visual_token_count(self.reducer, self.separators.layout, num_frames, self.grid)

    def encode_videos(self, videos: Sequence[Tensor]) -> list[Tensor]:
        """Visual tokens of each video; all frames go through the encoder in one batch.

        Shapes:
            videos[i]: (T_i, C, H, W) -> (L_i, E)
        """
        lengths = [v.shape[0] for v in videos]
        frames = torch.cat(list(videos)) if len(videos) > 1 else videos[0]  # (sum T_i, C, H, W)
        x = self.encoder(frames.unsqueeze(0))[0]  # (1, sum T_i, C, H, W) -> (sum T_i, N, D)
        if self.reduce_after_projector:
            x = self.projector(x)  # (sum T_i, N, D) -> (sum T_i, N, E)
        per_video = x.split(lengths)  # (T_i, N, D or E) each
        tokens: dict[int, Tensor] = {}
        for num_frames, members in _by_length(lengths).items():
            if len(members) == len(videos):
                batch = x.unflatten(0, (len(videos), num_frames))  # (sum T_i, N, .) -> (b, T, N, .)
            else:
                batch = torch.stack([per_video[i] for i in members])  # (b, T, N, .)
            reduced = self._reduce(batch)  # (b, L, E)
            for j, i in enumerate(members):
                tokens[i] = reduced[j]
        return [tokens[i] for i in range(len(videos))]

    def _reduce(self, x: Tensor) -> Tensor:
        """Reducer, projector if it comes second, separators.

        Shapes:
            x: (b, T, N, D or E) -> (b, L, E)
        """
        y = self.reducer(x, self.grid)  # (b, T, N, .) -> (b, L, .)
        if not self.reduce_after_projector:
            y = self.projector(y)  # (b, L, D) -> (b, L, E)
        return self.separators(y, self.reducer.segments(x.shape[1], self.grid))

    def idle_visual_pass(self, device: torch.device) -> Tensor:
        """Run the visual path on blank frames and return 0 tied to all its parameters (a scalar).

        Added to a batch without videos, so that every rank of a sharded job runs the same modules.
        """
        side, channels = self.encoder.image_size, self.encoder.num_channels
        blank = torch.zeros(self.reducer.min_frames, channels, side, side, device=device)
        return self.encode_videos([blank])[0].sum() * 0

    def embed(self, input_ids: Tensor, videos: Videos = None, packed: PackedSequences | None = None) -> Tensor:
        """The LLM input: text embeddings with each sample's visual tokens spliced in.

        Args:
            input_ids: Token ids with placeholders; one sample per row, or packed rows.
            videos: One video (or ``None``) per sample, see `Videos`; packed: per sample in row order.
            packed: Where the samples of packed rows are (``None``: one sample per row).

        Raises:
            ValueError: Placeholder counts, frame sizes, frame counts or the number of videos do
                not fit the model.

        Shapes:
            input_ids: (B, S), videos: (B, T, C, H, W) or [(T_i, C, H, W) | None] * samples -> (B, S, E)
        """
        samples = input_ids.shape[0] if packed is None else len(packed.lengths)
        items = _video_list(videos, samples)
        expected = [0 if v is None else self.num_visual_tokens(v.shape[0]) for v in items]
        mask = placeholder_mask(input_ids, self.video_token_id, expected, packed)  # (B, S)
        text = self.llm.embed(input_ids.masked_fill(mask, 0))  # (B, S, E); placeholder rows are replaced
        present = [v for v in items if v is not None]
        if not present:
            return text + self.idle_visual_pass(input_ids.device).to(text.dtype)
        tokens = self.encode_videos(present)  # [(L_i, E)], in placeholder order
        produced = [t.shape[0] for t in tokens]
        wanted = [n for v, n in zip(items, expected, strict=True) if v is not None]
        if produced != wanted:
            raise ValueError(f"the reducer produced {produced} visual tokens per video but reports {wanted}")
        return scatter_visual(text, mask, tokens)

    def hidden_states(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        videos: Videos = None,
        position_ids: Tensor | None = None,
        packed: PackedSequences | None = None,
    ) -> Tensor:
        """Final hidden states of the LLM (before the LM head).

        Packed rows take their mask and positions from ``packed``; a padded batch may give
        ``position_ids`` (``None`` counts from 0).

        Shapes:
            input_ids, attention_mask, position_ids: (B, S) -> (B, S, E)
        """
        embeds = self.embed(input_ids, videos, packed)  # (B, S, E)
        if packed is not None:
            if attention_mask is not None or position_ids is not None:
                raise ValueError("packed rows take their positions from `packed`: pass no attention_mask/position_ids")
            return self.llm(embeds, packed=packed)
        if position_ids is None:
            return self.llm(embeds, attention_mask)
        return self.llm(embeds, attention_mask, position_ids=position_ids)

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        videos: Videos = None,
        labels: Tensor | None = None,
        return_logits: bool = True,
        position_ids: Tensor | None = None,
        packed: PackedSequences | None = None,
    ) -> VideoLMMOutput:
        """Loss and/or logits of a batch, padded or packed.

        The loss runs through ``llm.head_loss`` (chunked by default) on labelled positions only,
        so it does not depend on ``return_logits``; in packed rows no sample predicts the next
        one's first token. Training back-propagates ``loss_sum`` and normalises by the global
        ``num_label_tokens``; ``loss`` is the batch's token mean.

        Shapes:
            input_ids, attention_mask, labels, position_ids: (B, S); logits: (B, S, vocab)
        """
        hidden = self.hidden_states(input_ids, attention_mask, videos, position_ids, packed)  # (B, S, E)
        logits = self.llm.logits(hidden) if return_logits else None
        if labels is None:
            return VideoLMMOutput(loss=None, logits=logits)
        boundaries = packed.position_ids if packed is not None else None
        total, count = token_loss_sum(hidden, labels, self.llm.head, self.llm.head_loss, boundaries)
        return VideoLMMOutput(
            loss=total / torch.clamp(count, min=1), logits=logits, loss_sum=total, num_label_tokens=count
        )

    @torch.no_grad()
    def score(
        self, input_ids: Tensor, labels: Tensor, attention_mask: Tensor | None = None, videos: Videos = None
    ) -> SequenceScores:
        """Per row: summed NLL of the labelled tokens, their count, and whether each is the argmax.

        The same next-token loss as `forward` (``llm.head_loss``), reduced per row: candidates of a
        closed-set question ranked by NLL, lmms-eval's ``loglikelihood`` (``-nll``, ``greedy``).

        Shapes:
            input_ids, labels, attention_mask: (B, S) -> (B,) each
        """
        hidden = self.hidden_states(input_ids, attention_mask, videos)  # (B, S, E)
        return sequence_scores(hidden, labels, self.llm.head, self.llm.head_loss)

    @torch.no_grad()
    def generate(
        self, input_ids: Tensor, attention_mask: Tensor | None = None, videos: Videos = None, **kwargs: Any
    ) -> Tensor:
        """Decode new tokens with the LLM's KV cache (HF ``generate`` on the spliced embeddings).

        Args:
            input_ids: Prompts with placeholders, left-padded for batches of unequal length.
            attention_mask: 1 for real tokens; ``None`` means no padding.
            videos: As for `forward`.
            **kwargs: HF generation arguments (``max_new_tokens``, ``do_sample``, ...).

        Returns:
            The new token ids, (B, new tokens).
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        return self.llm.generate(self.embed(input_ids, videos), attention_mask, **kwargs)


def _by_length(lengths: Sequence[int]) -> dict[int, list[int]]:
    """Indices of the videos grouped by frame count, in first-seen order."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(n, []).append(i)
    return groups


def _video_list(videos: Videos, batch_size: int) -> list[Tensor | None]:
    """One (T, C, H, W) tensor or ``None`` per sample, or `ValueError`."""
    if videos is None:
        return [None] * batch_size
    if isinstance(videos, Tensor):
        if videos.ndim != 5 or videos.shape[0] != batch_size:
            raise ValueError(
                f"videos must be (B, T, C, H, W) with B={batch_size} (the batch of input_ids), "
                f"got {tuple(videos.shape)}"
            )
        return list(videos.unbind(0))
    items = list(videos)
    if len(items) != batch_size:
        raise ValueError(f"got {len(items)} videos (or None) for {batch_size} samples")
    for b, v in enumerate(items):
        if v is not None and v.ndim != 4:
            raise ValueError(f"video of sample {b} must be (T, C, H, W), got shape {tuple(v.shape)}")
    return items
