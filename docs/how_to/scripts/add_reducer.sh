#!/usr/bin/env bash
# The token budget of the new temporal_stride reducer, then a Hydra multirun training it beside the
# built-in avg_pool_2x2 (CPU, tiny model, small synthetic benchmark), then a comparison of the runs.
# Usage: bash docs/how_to/scripts/add_reducer.sh OUTPUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"   # my_reducers.py and conf/reducer/temporal_stride.yaml
out="$(mkdir -p "${1:?usage: add_reducer.sh OUTPUT_DIR}" && cd "$1" && pwd)"

export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"    # so that _target_: my_reducers.TemporalStride imports
videolmm-tokens reducer=temporal_stride separators=grid num_frames=64 "hydra.searchpath=[file://$here/conf]"

videolmm-train --multirun reducer=avg_pool_2x2,temporal_stride \
    "hydra.searchpath=[file://$here/conf]" \
    "hydra.sweep.dir=$out/sweep" \
    "data.shards.root=$out/data" data.shards.train=32 data.shards.val=8 data.shards.test=16 \
    data.shards.samples_per_shard=16 data.batch_size=4 data.shuffle_buffer=8 \
    trainer.max_steps=2 trainer.log_every_n_steps=1 trainer.enable_progress_bar=false

videolmm-compare "$out/sweep"   # comparison.md / .csv / .png in the sweep folder
