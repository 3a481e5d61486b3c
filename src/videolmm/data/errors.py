"""Bad input: `BadSampleError`, the reasons a sample can be skipped, and `SkipCounter`.

Every check in the data pipeline that rejects a sample raises `BadSampleError` with one of the
`SKIP_REASONS`. Readers catch it and either count the sample as skipped (the default) or, in
strict mode, stop with the sample key and reason (`SkipCounter.skip`).
"""

from collections import Counter
from collections.abc import Mapping

SKIP_REASONS: tuple[str, ...] = (
    "bad_json",  # the record is not a JSON object
    "missing_field",  # a required field is absent or of the wrong type
    "no_assistant_turn",  # the conversation has no reply to learn from
    "bad_conversation",  # unknown role, several <video> markers, a marker in a reply
    "outside_root",  # the video path points outside video_root
    "missing_video",  # the file (or the shard member) does not exist
    "empty_video",  # zero bytes
    "unreadable_video",  # the container cannot be opened: corrupt, truncated header, not a video
    "no_video_stream",  # a container without a video stream
    "corrupt_video",  # the stream fails to decode, or ends before the frames it declares
    "too_few_frames",  # fewer frames than the sampler or the reducer needs
    "too_long",  # the sequence is longer than max_length (visual tokens are never cut)
    "bad_shard",  # a shard that cannot be opened or read to its end (the rest of it is skipped)
    "processing_error",  # any other exception while turning the sample into tensors
)
"""Every reason a sample can be skipped, in the order manifests and logs list them."""


class BadSampleError(ValueError):
    """A sample that cannot be used, with the reason and the sample's key.

    Args:
        reason: One of `SKIP_REASONS`.
        detail: What was wrong, with the numbers.
        key: The sample key (filled in by the reader when the raising code does not know it).
    """

    def __init__(self, reason: str, detail: str, key: str = "") -> None:
        if reason not in SKIP_REASONS:
            raise ValueError(f"unknown skip reason {reason!r}; expected one of {', '.join(SKIP_REASONS)}")
        self.reason = reason
        self.detail = detail
        self.key = key
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"sample {self.key!r}: " if self.key else ""
        return f"{where}{self.reason}: {self.detail}"

    def with_key(self, key: str) -> "BadSampleError":
        """This error with ``key`` filled in (a new exception; the original is unchanged)."""
        return BadSampleError(self.reason, self.detail, key)


class SkipCounter:
    """Counts skipped samples by reason, or raises in strict mode.

    Args:
        strict: Re-raise the `BadSampleError` (with its key) instead of counting it.
    """

    def __init__(self, strict: bool = False) -> None:
        self.strict = bool(strict)
        self.counts: Counter[str] = Counter()

    def skip(self, error: BadSampleError) -> None:
        """Record ``error``, or raise it in strict mode."""
        if self.strict:
            raise error
        self.counts[error.reason] += 1

    @property
    def total(self) -> int:
        """Samples skipped so far."""
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        """Counts by reason, in `SKIP_REASONS` order, zeros left out."""
        return ordered_counts(self.counts)


def ordered_counts(counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` in `SKIP_REASONS` order, with zero entries dropped."""
    return {reason: int(counts[reason]) for reason in SKIP_REASONS if counts.get(reason, 0)}
