"""Packed batches into the model: every sample's visual tokens spliced into its place in the packed rows.

The collate (`videolmm.data.VideoCollator` with ``pack=True``) emits rows that each hold several
samples, right-padded, with ``cu_seqlens`` over the rows laid end to end without padding and one
video per sample in placeholder order. `packed_inputs` checks every sample's placeholder count
against its own video, encodes all videos in one batch and splices them in; the LLM then keeps
the samples apart (`videolmm.llm.PackedSequences`).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from videolmm.llm.packing import PackedSequences
from videolmm.model.splice import scatter_visual
from videolmm.model.videolmm import VideoLMM


@dataclass(frozen=True)
class PackedInputs:
    """What the LLM needs from a packed batch.

    Attributes:
        embeds: (R, P, E) input vectors of the packed rows, visual tokens spliced in.
        sequences: Where the samples are.
    """

    embeds: Tensor
    sequences: PackedSequences


def packed_inputs(model: VideoLMM, batch: dict[str, Any]) -> PackedInputs:
    """Splice every sample's visual tokens into the packed rows.

    Raises:
        ValueError: Inconsistent boundaries (see `PackedSequences.from_batch`), a sample whose
            placeholder count differs from its video's token count, or a number of videos
            other than the number of samples.
    """
    sequences = PackedSequences.from_batch(batch)
    videos = _videos(batch.get("videos"), len(sequences.lengths))
    return PackedInputs(embed_packed(model, batch["input_ids"], sequences, videos), sequences)


def embed_packed(model: VideoLMM, ids: Tensor, sequences: PackedSequences, videos: Sequence[Tensor | None]) -> Tensor:
    """Text embeddings of packed rows with each sample's visual tokens in its placeholders.

    Shapes:
        ids: (R, P), videos[i]: (T_i, C, H, W) or None, one per sample in row order -> (R, P, E)
    """
    placeholders = (ids == model.video_token_id) & sequences.attention_mask.bool()  # (R, P)
    found = [int(part.sum()) for part in sequences.split(placeholders)]
    wanted = [0 if v is None else model.num_visual_tokens(v.shape[0]) for v in videos]
    for i, (got, want) in enumerate(zip(found, wanted, strict=True)):
        if got != want:
            raise ValueError(f"packed sample {i} has {got} placeholder ids but its video gives {want} visual tokens")
    text = model.llm.embed(ids.masked_fill(placeholders, 0))  # (R, P, E)
    present = [v for v in videos if v is not None]
    if not present:  # still run the visual path (output x 0) so that every rank of a sharded job runs it
        return text + model.idle_visual_pass(ids.device).to(text.dtype)
    tokens = model.encode_videos(present)  # [(L_i, E)], in placeholder order: row-major over the rows
    produced = [t.shape[0] for t in tokens]
    expected = [n for n, v in zip(wanted, videos, strict=True) if v is not None]
    if produced != expected:
        raise ValueError(f"the reducer produced {produced} visual tokens per video but reports {expected}")
    return scatter_visual(text, placeholders, tokens)


def _videos(videos: Tensor | Sequence[Tensor | None] | None, count: int) -> list[Tensor | None]:
    """One (T, C, H, W) video or ``None`` per packed sample, or `ValueError`."""
    items: list[Tensor | None] = [None] * count if videos is None else list(videos)
    if len(items) != count:
        raise ValueError(f"a packed batch of {count} samples came with {len(items)} videos")
    return items
