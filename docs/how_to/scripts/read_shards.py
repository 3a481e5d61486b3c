"""Read converted shards back: the manifests, one sample's record, its frames decoded.

Usage: ``python read_shards.py OUTPUT_DIR`` (the folder holding one shard folder per annotation file).
"""

import json
import sys
from pathlib import Path

from videolmm.data import PyAVDecoder, UniformFrames, expand_urls, parse_record, read_shard


def main(output: Path) -> None:
    """Print a summary of every shard folder and the first sample of the first one."""
    folders = sorted(p for p in output.iterdir() if (p / "manifest.json").is_file())
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        shards = len(manifest["shards"])
        pattern = f"{folder}/shard-{{000000..{shards - 1:06d}}}.tar"  # what data.shards.train takes
        print(f"{folder.name}: {manifest['samples_written']} samples in {shards} shards, skipped {manifest['skipped']}")
        print(f"  {len(expand_urls(pattern))} files: {pattern}")

    sample = next(read_shard(str(folders[0] / "shard-000000.tar")))
    document = json.loads(sample.members["json"])
    record = parse_record(document)  # the checks the training reader applies
    print(f"sample {sample.key}: members {sorted(sample.members)}, id {record.id!r}, video {record.video!r}")
    for turn in record.turns:
        print(f"  {turn.role:<9} {turn.text!r}")
    print(f"  video_info {document['video_info']}")
    video = PyAVDecoder().read(sample.members["mp4"], UniformFrames(num_frames=4))
    print(f"  4 frames decoded: {tuple(video.frames.shape)} {video.frames.dtype} at {video.selection.times} s")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
