"""WebDataset tar shards: writing them, listing them, and reading their samples as raw bytes.

One sample is a group of consecutive tar members sharing a key: ``{key}.mp4`` (or another
container) and ``{key}.json``. Members are returned as bytes and never unpickled; only the
``.json`` member is ever parsed, by `videolmm.data.records`.
"""

import io
import json
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import webdataset as wds
from webdataset.shardlists import expand_urls as _expand

from videolmm.data.errors import BadSampleError


@dataclass(frozen=True)
class RawSample:
    """The members of one shard sample, undecoded.

    Attributes:
        key: The sample key (member name up to the first dot of its file name).
        members: Extension (lower case, without the dot) -> bytes.
        url: The shard it was read from.
        error: Set instead of members when the shard could not be read (``bad_shard``).
    """

    key: str
    members: Mapping[str, bytes]
    url: str
    error: BadSampleError | None = None


@dataclass(frozen=True)
class ShardInfo:
    """A written shard.

    Attributes:
        name: File name inside the output folder.
        samples: Samples in it.
        bytes: Size on disk.
    """

    name: str
    samples: int
    bytes: int


def expand_urls(urls: str | Sequence[str]) -> list[str]:
    """Shard URLs from brace patterns (``shard-{000000..000009}.tar``, ``a.tar::b-{0..3}.tar``) or a list."""
    patterns = [urls] if isinstance(urls, str) else list(urls)
    expanded = [url for pattern in patterns for url in _expand(str(pattern))]
    if not expanded:
        raise ValueError(f"no shards in {urls!r}")
    return expanded


def split_member_name(name: str) -> tuple[str, str]:
    """``dir/abc.tar.json`` style name -> (``dir/abc``, ``tar.json``): the key ends at the first dot."""
    folder, _, base = name.rpartition("/")
    stem, dot, extension = base.partition(".")
    if not dot:
        return name, ""
    return (f"{folder}/{stem}" if folder else stem), extension.lower()


class StrictTarInfo(tarfile.TarInfo):
    """A tar header that must be whole: a shard cut short or with a damaged header is an error.

    ``tarfile`` ends an archive silently, as if it were complete, when a header after the first
    is missing (the file stops at a member boundary), cut short or fails its checksum; the samples
    after it would vanish uncounted. Only the all-zero end-of-archive block ends a shard here.
    """

    @classmethod
    def fromtarfile(cls, tarfile_: tarfile.TarFile) -> Self:
        """The next header, or `tarfile.ReadError` for a missing, truncated or invalid one."""
        # The header errors below are tarfile internals that typeshed leaves out of its stubs.
        try:
            return super().fromtarfile(tarfile_)
        except tarfile.EOFHeaderError:  # type: ignore[attr-defined]  # missing from typeshed
            raise  # the end-of-archive marker: a complete shard
        except (
            tarfile.EmptyHeaderError,  # type: ignore[attr-defined]  # missing from typeshed
            tarfile.TruncatedHeaderError,  # type: ignore[attr-defined]  # missing from typeshed
            tarfile.InvalidHeaderError,  # type: ignore[attr-defined]  # missing from typeshed
        ) as error:
            raise tarfile.ReadError(f"bad tar header at byte {tarfile_.offset}: {error or 'end of file'}") from None


def read_shard(url: str) -> Iterator[RawSample]:
    """The samples of one shard in file order; a shard that fails yields one `RawSample` with ``error``.

    The sample being assembled when the shard fails is dropped with the rest of the shard (its
    members may be incomplete); the error carries its key.
    """
    key, members = None, {}
    try:
        with (
            wds.gopen(url, "rb") as stream,
            tarfile.open(fileobj=stream, mode="r|*", tarinfo=StrictTarInfo) as tar,
        ):
            for info in tar:
                if not info.isfile():
                    continue
                name_key, extension = split_member_name(info.name)
                if name_key.rpartition("/")[2].startswith("__") or not extension:
                    continue
                if key is not None and name_key != key:
                    yield RawSample(key, members, url)
                    members = {}
                key = name_key
                member = tar.extractfile(info)
                if member is None:  # only links and special members have no data; regular files were checked above
                    raise tarfile.ReadError(f"member {info.name!r} has no data")
                members[extension] = member.read()
    except (OSError, tarfile.TarError, EOFError, ValueError) as error:
        yield RawSample(key or url, {}, url, BadSampleError("bad_shard", f"{url}: {error}; the rest is skipped"))
        return
    if key is not None:
        yield RawSample(key, members, url)


def check_key(key: str) -> str:
    """A shard key: no dots (they start the extension), no slashes, not empty."""
    if not key or "." in key or "/" in key or key.startswith("__"):
        raise ValueError(f"shard keys must be non-empty without '.', '/' or a leading '__', got {key!r}")
    return key


class ShardWriter:
    """Write samples into ``{prefix}-{index:06d}.tar`` files of at most ``samples_per_shard`` samples.

    Members are written in sorted extension order with a fixed modification time, so the same
    samples give the same bytes. Values must be bytes: nothing is pickled.

    Args:
        output_dir: Folder for the shards (created if missing).
        samples_per_shard: Samples per tar file.
        prefix: File name prefix.
        mtime: Modification time stored in the tar headers.
    """

    def __init__(
        self, output_dir: str | Path, samples_per_shard: int = 1000, prefix: str = "shard", mtime: float = 0.0
    ) -> None:
        if samples_per_shard < 1:
            raise ValueError(f"samples_per_shard must be positive, got {samples_per_shard}")
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.samples_per_shard = int(samples_per_shard)
        self.prefix = prefix
        self.mtime = mtime
        self.shards: list[ShardInfo] = []
        self._file: io.BufferedWriter | None = None
        self._tar: wds.TarWriter | None = None
        self._count = 0

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, key: str, members: Mapping[str, bytes]) -> None:
        """Add one sample: ``members`` maps extensions (``"mp4"``, ``"json"``) to bytes."""
        check_key(key)
        if not members or any(not isinstance(v, bytes) for v in members.values()):
            raise ValueError(f"sample {key!r}: members must be a non-empty mapping of extension -> bytes")
        tar = self._tar
        if tar is None or self._count >= self.samples_per_shard:
            tar = self._next_shard()
        tar.write({"__key__": key, **dict(sorted(members.items()))})
        self._count += 1

    def _next_shard(self) -> wds.TarWriter:
        self._finish_shard()
        name = f"{self.prefix}-{len(self.shards):06d}.tar"
        self._file = open(self.output_dir / name, "wb")  # noqa: SIM115  (closed in _finish_shard)
        self._tar = wds.TarWriter(self._file, encoder=False, mtime=self.mtime)
        self.shards.append(ShardInfo(name, 0, 0))
        return self._tar

    def _finish_shard(self) -> None:
        if self._tar is None:
            return
        if self._file is None:
            raise RuntimeError("ShardWriter: a shard is open without its file")
        self._tar.close()
        self._file.close()
        name = self.shards[-1].name
        self.shards[-1] = ShardInfo(name, self._count, (self.output_dir / name).stat().st_size)
        self._tar, self._file, self._count = None, None, 0

    def close(self) -> list[ShardInfo]:
        """Finish the last shard; returns every shard written."""
        self._finish_shard()
        return list(self.shards)


@dataclass
class Manifest:
    """The summary written next to the shards as ``manifest.json``.

    Attributes:
        samples_written: Samples in the shards.
        skipped: Skipped samples by reason.
        shards: The shards written.
        total_duration: Seconds of video in the shards.
        extra: Anything else worth keeping (the source, the generator's settings).
    """

    samples_written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    shards: list[ShardInfo] = field(default_factory=list)
    total_duration: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """The manifest as JSON-ready data."""
        return {
            "samples_written": self.samples_written,
            "samples_skipped": sum(self.skipped.values()),
            "skipped": dict(self.skipped),
            "shards": [{"name": s.name, "samples": s.samples, "bytes": s.bytes} for s in self.shards],
            "total_duration": round(self.total_duration, 3),
            **self.extra,
        }

    def write(self, output_dir: str | Path) -> Path:
        """Write ``manifest.json`` into ``output_dir``."""
        path = Path(output_dir) / "manifest.json"
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path
