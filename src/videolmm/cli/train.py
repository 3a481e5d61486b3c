"""``videolmm-train``: train a composition from the config tree, then score it.

Examples::

    videolmm-train                                   # tiny model, synthetic benchmark, CPU, ~minutes
    videolmm-train reducer=llava_video_slowfast separators=grid_slowfast trainer.max_steps=500
    videolmm-train -m reducer=avg_pool_2x2,lita      # a Hydra multirun sweep (compare: videolmm-compare DIR)
    videolmm-train debug=tiny reducer=pllava         # any composition with tiny twins, 2 steps
"""

import json
import logging
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from videolmm.checkpoint import save_hf_pretrained
from videolmm.config import exit_on_invalid_config
from videolmm.eval.choice import score_split
from videolmm.eval.comparison import run_block
from videolmm.training.assembly import fit

__all__ = ["main"]

log = logging.getLogger("videolmm.train")


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="train")
def main(cfg: DictConfig) -> None:
    """Compose, train, then score ``evaluate.split`` and write ``run_dir/eval.json``."""
    exit_on_invalid_config(cfg)  # before any data generation or model building
    start = time.perf_counter()
    module, data, trainer = fit(cfg)
    train_seconds = time.perf_counter() - start
    if cfg.export_hf_dir is not None and trainer.is_global_zero:
        assert module.model is not None
        save_hf_pretrained(module.model, cfg.export_hf_dir)
        log.info("wrote the HF checkpoint %s", cfg.export_hf_dir)
    if cfg.evaluate.split is None or not trainer.is_global_zero:
        return
    assert module.model is not None
    tally = score_split(module.model, data, cfg.evaluate.split, cfg.evaluate.max_samples)
    print(f"\n{cfg.evaluate.split} split, closed-set accuracy (candidates ranked by likelihood):\n{tally.table()}")
    label = cfg.label if cfg.label is not None else HydraConfig.get().runtime.choices["reducer"]
    out = Path(cfg.run_dir) / "eval.json"
    results = {
        "config": OmegaConf.to_container(cfg, resolve=True),
        "run": run_block(module.model, tally, label, train_seconds, trainer.global_step),
        "results": tally.to_json(),
    }
    out.write_text(json.dumps(results, indent=1))
    log.info("wrote %s", out)


if __name__ == "__main__":
    main()
