"""Annotation records in the LLaVA-Video-178K layout, checked at the boundary.

A record is ``{"id", "video", "conversations": [{"from": "human"|"gpt", "value"}, ...],
"data_source", ...}``; extra fields (``question_type``, ``answer``, ...) are kept. Every check
raises `BadSampleError` with a reason, never a bare ``KeyError``.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from videolmm.data.errors import BadSampleError

Role = Literal["user", "assistant"]
ROLES: dict[str, Role] = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
"""The ``from`` values accepted in a conversation and the ChatML role each maps to."""

VIDEO_MARKER = "<video>"
"""The placeholder for the video in the text; expanded into the visual token ids."""

IMAGE_MARKER = "<image>"
"""LLaVA-Video-178K's placeholder; `normalise_marker` rewrites it to `VIDEO_MARKER`."""

REQUIRED_FIELDS = ("id", "video", "conversations")


@dataclass(frozen=True)
class Turn:
    """One message of a conversation.

    Attributes:
        role: ``"user"`` or ``"assistant"``.
        text: The message; user turns may hold the `VIDEO_MARKER`.
    """

    role: Role
    text: str


@dataclass(frozen=True)
class VideoRecord:
    """A checked annotation record.

    Attributes:
        id: The annotation id.
        video: The video path relative to the video root, as written in the annotations.
        turns: The conversation, at least one assistant turn.
        data_source: Where the record comes from (``0_30_s_academic_v0_1``, ``synthetic``, ...).
        extra: Every other field of the record, unchanged.
    """

    id: str
    video: str
    turns: tuple[Turn, ...]
    data_source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record in the annotation layout (``from``: human/gpt)."""
        names = {"user": "human", "assistant": "gpt"}
        conversations = [{"from": names[t.role], "value": t.text} for t in self.turns]
        return {
            "id": self.id,
            "video": self.video,
            "conversations": conversations,
            "data_source": self.data_source,
            **self.extra,
        }


def parse_record(data: Any, key: str = "") -> VideoRecord:
    """Check a decoded JSON value and return it as a `VideoRecord`, or raise `BadSampleError`."""
    if not isinstance(data, dict):
        raise BadSampleError("bad_json", f"a record must be a JSON object, got {type(data).__name__}", key)
    missing = [name for name in REQUIRED_FIELDS if name not in data]
    if missing:
        raise BadSampleError("missing_field", f"record lacks {', '.join(missing)}", key)
    if not isinstance(data["id"], str | int) or not isinstance(data["video"], str) or not data["video"]:
        raise BadSampleError("missing_field", "'id' must be a string or int and 'video' a non-empty string", key)
    turns = parse_turns(data["conversations"], key)
    extra = {k: v for k, v in data.items() if k not in (*REQUIRED_FIELDS, "data_source")}
    return VideoRecord(str(data["id"]), data["video"], turns, str(data.get("data_source", "")), extra)


def parse_record_bytes(raw: bytes, key: str = "") -> VideoRecord:
    """`parse_record` of a UTF-8 JSON document (a shard's ``.json`` member)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:  # bad UTF-8 or JSON, over-long integers, nesting too deep
        raise BadSampleError("bad_json", f"not valid JSON: {type(error).__name__}: {error}", key) from None
    return parse_record(data, key)


def parse_turns(conversations: Any, key: str = "") -> tuple[Turn, ...]:
    """Check a ``conversations`` list: known roles, string values, at least one reply."""
    if not isinstance(conversations, list) or not conversations:
        raise BadSampleError("missing_field", "'conversations' must be a non-empty list", key)
    turns = []
    for i, message in enumerate(conversations):
        if not isinstance(message, dict) or "from" not in message or "value" not in message:
            raise BadSampleError("missing_field", f"conversation turn {i} needs 'from' and 'value'", key)
        if not isinstance(message["value"], str):
            raise BadSampleError("missing_field", f"conversation turn {i} has a non-string 'value'", key)
        role = ROLES.get(message["from"])
        if role is None:
            raise BadSampleError("bad_conversation", f"turn {i} has unknown role {message['from']!r}", key)
        turns.append(Turn(role, normalise_marker(message["value"])))
    if not any(t.role == "assistant" for t in turns):
        raise BadSampleError("no_assistant_turn", f"{len(turns)} turns, none from 'gpt'", key)
    return tuple(turns)


def normalise_marker(text: str) -> str:
    """Rewrite LLaVA-Video-178K's ``<image>`` placeholder to ``<video>``."""
    return text.replace(IMAGE_MARKER, VIDEO_MARKER)


def resolve_video(video_root: str | Path, relative: str, key: str = "") -> Path:
    """The video file of a record: ``video_root / relative``, which must stay inside the root.

    Raises:
        BadSampleError: ``outside_root`` for absolute paths, ``..`` escapes and symlinks leaving the root;
            ``missing_video`` if the file does not exist or the path cannot name one (a NUL byte, too long).
    """
    root = Path(video_root).resolve()
    try:
        path = (root / relative).resolve()
        inside = not Path(relative).is_absolute() and path.is_relative_to(root)
        found = inside and path.is_file()
    except (OSError, ValueError) as error:  # a NUL byte, a name too long for the file system, ...
        why = error.strerror if isinstance(error, OSError) else str(error)
        raise BadSampleError("missing_video", f"{_short(relative)!r} is not a usable path: {why}", key) from None
    if not inside:
        raise BadSampleError(
            "outside_root", f"{_short(relative)!r} resolves to {_short(str(path))}, outside video_root {root}", key
        )
    if not found:
        raise BadSampleError("missing_video", f"no file at {_short(str(path))}", key)
    return path


def _short(text: str, limit: int = 200) -> str:
    """``text``, cut to ``limit`` characters with its length noted (for messages about hostile input)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
