"""Export a videolmm training checkpoint to a HF LLaVA directory, after training.

Usage: ``python export_checkpoint.py RUN_DIR OUTPUT_DIR [CHECKPOINT]``. Builds the model from the
run's own config (``RUN_DIR/.hydra/config.yaml``), loads the checkpoint into it (default
``RUN_DIR/checkpoints/last.ckpt``; a single file, read with ``torch.load(weights_only=True)``,
every key checked) and writes ``config.json`` + ``model.safetensors`` into ``OUTPUT_DIR``.
"""

import sys
from pathlib import Path

from omegaconf import OmegaConf

from videolmm.checkpoint import save_hf_pretrained
from videolmm.eval import load_model


def export(run_dir: Path, output: Path, checkpoint: Path | None = None) -> None:
    """Load the run's checkpoint and write it as a HF directory."""
    cfg = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    model, origin = load_model(cfg, checkpoint or run_dir / "checkpoints" / "last.ckpt")
    save_hf_pretrained(model, output)  # ValueError if no HF class computes this composition
    print(f"{origin} -> {output}: {sorted(p.name for p in output.iterdir())}")


if __name__ == "__main__":
    export(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 else None)
