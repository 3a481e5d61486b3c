"""``videolmm-eval``: evaluate a model on a benchmark; write JSON + Markdown results.

Examples::

    videolmm-eval                                              # tiny random model, synthetic test split
    videolmm-eval checkpoint=runs/last.ckpt limit=64           # a videolmm training checkpoint
    videolmm-eval benchmark=videomme benchmark.root=/data/videomme checkpoint=llava-video-7b-hf \\
        eval=llava_video_7b encoder=siglip_so400m_p14_384 trainer=gpu

Runs ``trainer.test`` with `videolmm.training.EvaluationModule` over a
`videolmm.training.BenchmarkDataModule`; writes ``{output}/test.json``, ``{output}/test.md`` and
``{output}/predictions-test-rank{r}.jsonl``, and prints the table.
"""

from collections.abc import Callable, Iterable

import hydra
from hydra.utils import instantiate
from omegaconf import DictConfig

from videolmm.cli.inference import build_inference
from videolmm.eval.schema import BenchmarkSample
from videolmm.training.evaluation import BenchmarkDataModule, EvaluationModule

__all__ = ["main"]


class FirstSamples:
    """A reader limited to its first ``limit`` samples (the count is printed: nothing is cut silently).

    Args:
        reader: The benchmark reader.
        limit: Samples kept (``None``: all).
    """

    def __init__(self, reader: Callable[[], Iterable[BenchmarkSample]], limit: int | None) -> None:
        self.reader = reader
        self.limit = limit

    def __call__(self) -> list[BenchmarkSample]:
        """The first ``limit`` samples."""
        samples = list(self.reader())
        kept = samples if self.limit is None else samples[: self.limit]
        print(f"benchmark: {len(kept)} of {len(samples)} samples")
        return kept


@hydra.main(version_base="1.3", config_path="pkg://videolmm.conf", config_name="eval")
def main(cfg: DictConfig) -> None:
    """Compose the configuration, evaluate, write and print the results."""
    inference = build_inference(cfg)
    reader = instantiate(cfg.benchmark)
    print(f"model: {inference.description}")
    meta = {
        "model": inference.description,
        "setting": cfg.evaluation.name,
        "benchmark": type(reader).__name__,
        "decoding": f"{'sampled' if inference.generation.do_sample else 'greedy'}, "
        f"max {inference.generation.max_new_tokens} new tokens",
    }
    module = EvaluationModule(
        model=inference.model,
        chat=inference.prompter.chat,
        generation=inference.generation,
        judge=instantiate(cfg.judge) if cfg.judge is not None else None,
        buckets=instantiate(cfg.buckets),
        output_dir=cfg.output,
        meta=meta,
    )
    pad_id = inference.prompter.chat.tokenizer.pad_token_id
    datamodule = BenchmarkDataModule(
        FirstSamples(reader, cfg.limit),
        inference.prompter,
        inference.prompt_format,
        pad_id if pad_id is not None else inference.prompter.chat.im_end,
        batch_size=cfg.batch_size,
        num_workers=cfg.num_workers,
    )
    trainer = instantiate(
        cfg.trainer,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=cfg.progress,
        use_distributed_sampler=False,
    )
    trainer.test(module, datamodule=datamodule, verbose=False)
    if trainer.is_global_zero:
        print(module.results["test"].markdown())
        print(f"written to {cfg.output}/test.json and {cfg.output}/test.md")


if __name__ == "__main__":
    main()
