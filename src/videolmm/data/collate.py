"""Collation: pad samples into a batch, or pack several into each row for variable-length attention.

The batch (V videos, B rows; ``V == B`` unless packed)::

    input_ids       (B, S) int64   pad_id on padding
    labels          (B, S) int64   -100 on padding
    attention_mask  (B, S) int64   1 on tokens, 0 on padding
    position_ids    (B, S) int64   0..len-1 per sample (restarting at every packed sample)
    videos          (V, T, C, H, W) float32, or a list of V (T_v, C, H, W) when T varies
    num_frames      (V,) int64     T of each video
    num_visual_tokens (V,) int64   placeholder ids of each video
    video_rows      (V,) int64     the row holding each video; videos are in placeholder order
    keys, records   lists of V     sample keys and annotation records

Packed batches add ``sequence_ids`` (B, S) (1, 2, ... per sample of a row, 0 on padding),
``cu_seqlens`` (n + 1,) int32 over the rows laid end to end without padding and ``max_seqlen``,
as ``flash_attn_varlen_func`` takes them. In a packed row the first label of every sample is
``-100`` so that no sample is trained to predict the next one's first token. Nothing is ever cut:
a sample longer than ``pack_length`` raises.
"""

from collections.abc import Sequence

import torch
from torch import Tensor

from videolmm.data.sample import VideoSample
from videolmm.llm.loss import IGNORE_INDEX


def batch_videos(videos: Sequence[Tensor]) -> Tensor | list[Tensor]:
    """One tensor when every video has the same shape, else the list (nothing is padded in time).

    Shapes:
        videos: V x (T_v, C, H, W) -> (V, T, C, H, W) or [(T_v, C, H, W)] * V
    """
    shapes = {tuple(v.shape[1:]) for v in videos}
    if len(shapes) != 1:
        raise ValueError(f"all frames in a batch must share (C, H, W), got {sorted(shapes)}")
    if len({v.shape[0] for v in videos}) == 1:
        return torch.stack(list(videos))  # V x (T, C, H, W) -> (V, T, C, H, W)
    return list(videos)


def _pad_rows(rows: Sequence[Tensor], value: int) -> Tensor:
    """Right-pad 1-D rows to the longest: B x (S_b,) -> (B, S)."""
    return torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True, padding_value=value)


class VideoCollator:
    """Collate `VideoSample` lists into batches (see the module docstring).

    Args:
        pad_id: Token id used for padding (Qwen2: ``<|endoftext|>`` 151643).
        pack: Pack samples first-fit, in order, into rows of at most ``pack_length`` tokens.
        pack_length: Row length for packing (at least the longest sample).
    """

    def __init__(self, pad_id: int, pack: bool = False, pack_length: int | None = None) -> None:
        if pack and (pack_length is None or pack_length < 1):
            raise ValueError(f"packing needs a positive pack_length, got {pack_length!r}")
        self.pad_id = int(pad_id)
        self.pack = bool(pack)
        self.pack_length = pack_length

    def __repr__(self) -> str:
        return f"VideoCollator(pad_id={self.pad_id}, pack={self.pack}, pack_length={self.pack_length})"

    def __call__(self, samples: Sequence[VideoSample]) -> dict:
        """Collate ``samples`` (padded, or packed when ``pack``)."""
        if not samples:
            raise ValueError("cannot collate an empty list of samples")
        rows = self.pack_rows(samples) if self.pack else [[i] for i in range(len(samples))]
        samples = [samples[i] for members in rows for i in members]  # videos in placeholder order, row by row
        sizes = [len(members) for members in rows]
        batch = self._rows(samples, sizes)
        batch.update(
            videos=batch_videos([s.frames for s in samples]),
            num_frames=torch.tensor([s.frames.shape[0] for s in samples]),
            num_visual_tokens=torch.tensor([s.num_visual_tokens for s in samples]),
            video_rows=torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes)),
            keys=[s.key for s in samples],
            records=[s.record.to_json() for s in samples],
        )
        return batch

    def pack_rows(self, samples: Sequence[VideoSample]) -> list[list[int]]:
        """First-fit: each sample, in order, joins the first row with room, else starts a new row."""
        pack_length = self.pack_length
        if pack_length is None:
            raise ValueError("pack_rows needs a pack_length; this collator was built without one")
        rows: list[list[int]] = []
        used: list[int] = []
        for i, sample in enumerate(samples):
            length = sample.input_ids.numel()
            if length > pack_length:
                raise ValueError(f"sample {sample.key!r} has {length} tokens > pack_length {pack_length}")
            row = next((r for r, n in enumerate(used) if n + length <= pack_length), None)
            if row is None:
                rows.append([i])
                used.append(length)
            else:
                rows[row].append(i)
                used[row] += length
        return rows

    def _rows(self, samples: Sequence[VideoSample], sizes: list[int]) -> dict:
        """Token tensors of rows made of consecutive runs of ``samples`` with the given ``sizes``."""
        ids, labels, positions, sequences = [], [], [], []
        start = 0
        for size in sizes:
            parts = samples[start : start + size]
            start += size
            ids.append(torch.cat([s.input_ids for s in parts]))
            labels.append(torch.cat([self._labels(s) for s in parts]))
            positions.append(torch.cat([torch.arange(s.input_ids.numel()) for s in parts]))
            sequences.append(torch.cat([torch.full((s.input_ids.numel(),), j + 1) for j, s in enumerate(parts)]))
        batch: dict[str, Tensor | int] = {
            "input_ids": _pad_rows(ids, self.pad_id),
            "labels": _pad_rows(labels, IGNORE_INDEX),
            "attention_mask": _pad_rows([torch.ones_like(r) for r in ids], 0),
            "position_ids": _pad_rows(positions, 0),
        }
        if self.pack:
            lengths = torch.tensor([s.input_ids.numel() for s in samples])
            batch["sequence_ids"] = _pad_rows(sequences, 0)
            batch["cu_seqlens"] = torch.cat([torch.zeros(1, dtype=torch.int64), lengths.cumsum(0)]).to(torch.int32)
            batch["max_seqlen"] = int(lengths.max())
        return batch

    def _labels(self, sample: VideoSample) -> Tensor:
        if not self.pack:
            return sample.labels
        labels = sample.labels.clone()
        labels[0] = IGNORE_INDEX  # a packed sample never predicts its neighbour's first token
        return labels
