#!/usr/bin/env bash
# Convert one LLaVA-Video-178K subset folder into WebDataset shards: one shard folder per annotation file.
# Usage: bash convert_llava_video_178k.sh SUBSET_DIR OUTPUT_DIR [SAMPLES_PER_SHARD]
set -euo pipefail
subset="$(cd "${1:?usage: convert_llava_video_178k.sh SUBSET_DIR OUTPUT_DIR [SAMPLES_PER_SHARD]}" && pwd)"
out="${2:?usage: convert_llava_video_178k.sh SUBSET_DIR OUTPUT_DIR [SAMPLES_PER_SHARD]}"
per_shard="${3:-1000}"

# 1. Unpack the subset's video tarballs into the subset folder: the records' "video" paths
#    (academic_source/..., liwei_youtube_videos/...) are relative to it.
for archive in "$subset"/*_videos_*.tar.gz; do
    tar -xzf "$archive" -C "$subset"
done

# 2. One videolmm-prepare run per annotation file (captions, open-ended and multiple-choice QA).
for annotations in "$subset"/*.json; do
    name="$(basename "$annotations" .json)"
    videolmm-prepare "annotations=$annotations" "video_root=$subset" "output=$out/$name" \
        "samples_per_shard=$per_shard" progress=false
done
