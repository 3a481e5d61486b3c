#!/usr/bin/env bash
# Train a composition HF LLaVA-OneVision computes, export it while training ends and again from its
# checkpoint, then load both directories with transformers and compare logits with videolmm's.
# Usage: bash docs/how_to/scripts/export_hf.sh OUTPUT_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "${1:?usage: export_hf.sh OUTPUT_DIR}" && cd "$1" && pwd)"
cd "$out"   # the run goes to outputs/onevision here: its config (.hydra/), logs and checkpoints/

# LLaVA-OneVision's representation: bilinear 2x2 pooling after the projector, one newline at the end.
videolmm-train reducer=bilinear_2x2 separators=end export_hf_dir=hf run_name=onevision \
    data.shards.root=data data.shards.train=32 data.shards.val=8 \
    data.shards.test=8 data.shards.samples_per_shard=8 data.batch_size=4 data.shuffle_buffer=8 \
    trainer.max_steps=2 trainer.enable_progress_bar=false evaluate.split=null

python "$here/export_checkpoint.py" outputs/onevision hf_from_checkpoint
python "$here/compare_hf_logits.py" outputs/onevision hf hf_from_checkpoint
