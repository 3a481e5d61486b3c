"""``videolmm-compare``: compare the runs of a multirun folder in one table and one plot.

Examples::

    videolmm-train -m reducer=avg_pool_2x2,lita hydra.sweep.dir=multirun/pooling
    videolmm-compare multirun/pooling                 # same as: videolmm-compare dir=multirun/pooling
    videolmm-compare multirun/pooling out=docs/_static/ablation title="CPU ablation"

Writes ``comparison.md``, ``comparison.csv`` and ``comparison.png`` (see
`videolmm.eval.comparison.write_comparison`) and prints the Markdown table.
"""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from videolmm.eval.comparison import comparison_rows, markdown_table, read_runs, write_comparison

__all__ = ["main"]


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="compare")
def _compare(cfg: DictConfig) -> None:
    root = Path(cfg.dir)
    try:
        runs = read_runs(root)
    except FileNotFoundError as error:
        print(f"videolmm-compare: {error}", file=sys.stderr)
        sys.exit(2)
    paths = write_comparison(runs, cfg.out or root, title=cfg.title or root.name)
    print(markdown_table(comparison_rows(runs)))
    print("wrote " + ", ".join(str(p) for p in paths.values()))


def main() -> None:
    """Run the app; a first argument without ``=`` or a leading ``-`` is taken as ``dir=``."""
    if len(sys.argv) > 1 and "=" not in sys.argv[1] and not sys.argv[1].startswith("-"):
        sys.argv[1] = f"dir={sys.argv[1]}"
    _compare()


if __name__ == "__main__":
    main()
