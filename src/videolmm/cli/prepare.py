"""``videolmm-prepare``: LLaVA-Video-178K-style annotations + videos -> WebDataset shards.

Examples::

    videolmm-prepare annotations=0_30_s_academic_oe.json video_root=/data/llava_video output=/data/shards
    videolmm-prepare annotations=ann.json video_root=videos output=shards samples_per_shard=500 strict=true

Writes ``shard-000000.tar ...`` (``{key}.mp4`` + ``{key}.json`` per sample) and ``manifest.json``
(samples written, skipped by reason with examples, shards, total duration) into ``output``.
"""

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from videolmm.data.convert import convert_annotations
from videolmm.data.shards import Manifest

__all__ = ["format_manifest", "main"]


def format_manifest(manifest: Manifest, output: str) -> str:
    """The summary printed at the end of a run."""
    data = manifest.to_json()
    lines = [
        f"wrote {data['samples_written']} samples in {len(data['shards'])} shards to {output}",
        f"total duration {data['total_duration']:.1f} s",
        f"skipped {data['samples_skipped']}" + (":" if data["skipped"] else ""),
    ]
    lines += [f"  {reason:<18} {count}" for reason, count in data["skipped"].items()]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="prepare")
def main(cfg: DictConfig) -> None:
    """Compose the configuration, convert, print the summary."""
    manifest = convert_annotations(
        cfg.annotations,
        cfg.video_root,
        cfg.output,
        samples_per_shard=cfg.samples_per_shard,
        decoder=instantiate(cfg.decoder),
        strict=cfg.strict,
        verify=cfg.verify,
        progress=cfg.progress,
    )
    print(format_manifest(manifest, cfg.output))


if __name__ == "__main__":
    main()
