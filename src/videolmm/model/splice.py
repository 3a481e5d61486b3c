"""Splicing visual tokens into the LLM input: check placeholder counts, then scatter.

The data pipeline expands each ``<video>`` into exactly ``visual_token_count(...)`` placeholder
ids, so the sequence length is known before the model runs. Here each sample's placeholder
count is checked against its video's token count (a `ValueError` names both numbers) and the
placeholder positions are overwritten, in order, by the video's tokens. Nothing is truncated
or padded.
"""

from collections.abc import Sequence

import torch
from torch import Tensor

from videolmm.llm.packing import PackedSequences


def placeholder_mask(
    input_ids: Tensor, video_token_id: int, expected: Sequence[int], packed: PackedSequences | None = None
) -> Tensor:
    """Positions of the placeholder ids, after checking each sample's count.

    Args:
        input_ids: Token ids with placeholders: one sample per row, or packed rows.
        video_token_id: The placeholder id.
        expected: Visual tokens of each sample's video (0 for a sample without video), in
            row order (packed: sample by sample within each row, row after row).
        packed: Where the samples of packed rows are; ``None`` when every row is one sample.

    Returns:
        Boolean mask of the placeholders (never on packed padding).

    Raises:
        ValueError: A sample's placeholder count differs from its expected count.

    Shapes:
        input_ids: (B, S) or packed (R, P) -> same
    """
    if input_ids.ndim != 2:
        raise ValueError(f"input_ids must be (B, S), got shape {tuple(input_ids.shape)}")
    mask = input_ids == video_token_id
    if packed is None:
        counts, what = mask.sum(dim=1).tolist(), "sample"
    else:
        mask &= packed.attention_mask.bool()
        counts, what = [int(part.sum()) for part in packed.split(mask)], "packed sample"
    if len(counts) != len(expected):
        raise ValueError(f"input_ids has {len(counts)} {what}s but {len(expected)} token counts were given")
    for b, (found, want) in enumerate(zip(counts, expected, strict=True)):
        if found != want:
            has = f"its video gives {want} visual tokens" if want else "it has no video (0 visual tokens)"
            raise ValueError(f"{what} {b} has {found} placeholder ids (id {video_token_id}) but {has}")
    return mask


def scatter_visual(inputs_embeds: Tensor, mask: Tensor, tokens: Sequence[Tensor]) -> Tensor:
    """Replace the masked positions by the visual tokens, sample by sample, in order.

    Args:
        inputs_embeds: Text embeddings (placeholder rows are overwritten).
        mask: Placeholder positions, as returned by `placeholder_mask`.
        tokens: Visual tokens of each sample that has a video, in batch order; their total
            length must equal the number of placeholders.

    Returns:
        A new tensor; gradients flow to both ``inputs_embeds`` and ``tokens``.

    Shapes:
        inputs_embeds: (B, S, E), mask: (B, S), tokens[i]: (L_i, E) -> (B, S, E)
    """
    if not tokens:
        return inputs_embeds
    flat = torch.cat(list(tokens)).to(inputs_embeds.dtype)  # (sum L_i, E)
    if flat.shape[-1] != inputs_embeds.shape[-1]:
        raise ValueError(
            f"visual tokens have width {flat.shape[-1]} but the LLM embeds width {inputs_embeds.shape[-1]}"
        )
    return inputs_embeds.masked_scatter(mask.unsqueeze(-1), flat)  # (B, S, E)
