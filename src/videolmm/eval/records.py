"""Annotation records (the LLaVA-Video-178K layout the data pipeline reads) as benchmark samples.

A record can be scored when it says what its answer is: ``format`` (``multiple_choice`` or
``open_ended``), ``options`` and ``answer_letter`` for multiple choice, ``answer`` for open ended
(the synthetic benchmark writes these fields). The prompt is the record's last user turn without
the video marker, and the question type its ``question_type``.

`prompt_rows` turns a training-style batch (every conversation with its reply) back into
generation prompts: each row is cut after the ``<|im_start|>assistant\\n`` header of its last turn,
which keeps whatever the data pipeline put in the prompt (system turn, time instruction).
"""

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from videolmm.data.records import VIDEO_MARKER
from videolmm.eval.schema import BenchmarkSample, Video


def sample_from_record(
    record: dict[str, Any], video: Video, benchmark: str | None = None, duration: float | None = None
) -> BenchmarkSample:
    """The `BenchmarkSample` of a record (see the module docstring).

    Args:
        record: The annotation record (JSON layout).
        video: The record's video (path or bytes).
        benchmark: The benchmark name (default: the record's ``data_source``).
        duration: The video's length in seconds, if known.

    Raises:
        ValueError: The record does not say its format or answer.
    """
    key = str(record.get("id", "?"))
    if record.get("format") not in ("multiple_choice", "open_ended"):
        raise ValueError(f"record {key}: 'format' must be multiple_choice or open_ended, got {record.get('format')!r}")
    users = [turn["value"] for turn in record["conversations"] if turn["from"] in ("human", "user")]
    if not users:
        raise ValueError(f"record {key}: no user turn to ask")
    prompt = users[-1].replace(VIDEO_MARKER, "").strip()
    multiple_choice = record["format"] == "multiple_choice"
    answer = record.get("answer_letter") if multiple_choice else record.get("answer")
    if answer is None:
        field = "answer_letter" if multiple_choice else "answer"
        raise ValueError(f"record {key}: a {record['format']} record needs {field!r}")
    return BenchmarkSample(
        benchmark=benchmark or str(record.get("data_source") or "records"),
        id=key,
        video=video,
        question=prompt,
        answer=str(answer),
        options=tuple(record["options"]) if multiple_choice else (),
        question_type=str(record.get("question_type") or "all"),
        duration=duration,
        prompt=prompt,
    )


def prompt_rows(input_ids: Tensor, attention_mask: Tensor, header: Sequence[int]) -> list[Tensor]:
    """Each row up to and including the header of its last assistant turn (see the module docstring).

    Args:
        input_ids: Right-padded conversations with their replies.
        attention_mask: 1 on real tokens.
        header: The ids of ``<|im_start|>assistant\\n``.

    Raises:
        ValueError: A row without an assistant header.

    Shapes:
        input_ids, attention_mask: (B, S) -> B x (S_b,)
    """
    header = list(header)
    width = len(header)
    rows = []
    for b in range(input_ids.shape[0]):
        row = input_ids[b][attention_mask[b].bool()]
        ids = row.tolist()
        starts = [i for i in range(len(ids) - width + 1) if ids[i : i + width] == header]
        if not starts:
            raise ValueError(f"row {b} has no assistant header {header}: not a conversation with a reply")
        rows.append(row[: starts[-1] + width])
    return rows
