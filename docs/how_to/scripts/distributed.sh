#!/usr/bin/env bash
# FSDP2 on 2 CPU processes over gloo, started by torchrun as on a cluster node, then the sharded
# checkpoint consolidated into one file and exported to the HF format.
# Usage: bash docs/how_to/scripts/distributed.sh OUTPUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "${1:?usage: distributed.sh OUTPUT_DIR}" && cd "$1" && pwd)"
cd "$out"   # the run goes to outputs/fsdp2 here

# Every shard list must have at least one shard per rank: 4 samples per shard.
torchrun --standalone --nproc-per-node=2 -m videolmm.cli.train run_name=fsdp2 \
    trainer.devices=2 strategy=fsdp2 strategy.data_parallel_size=2 module.fsdp_param_dtype=null \
    reducer=bilinear_2x2 separators=end \
    data.shards.root=data data.shards.train=32 data.shards.val=8 data.shards.test=8 \
    data.shards.samples_per_shard=4 data.batch_size=4 data.shuffle_buffer=8 \
    trainer.max_steps=2 checkpoint.every_n_train_steps=2 trainer.enable_progress_bar=false evaluate.split=null

# checkpoints/last.ckpt is a folder with one .distcp file per rank: make it one file, then export it.
python -m torch.distributed.checkpoint.format_utils dcp_to_torch \
    outputs/fsdp2/checkpoints/last.ckpt outputs/fsdp2/consolidated.ckpt
python "$here/export_checkpoint.py" outputs/fsdp2 hf outputs/fsdp2/consolidated.ckpt
