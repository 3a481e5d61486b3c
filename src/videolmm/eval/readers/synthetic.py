"""The synthetic temporal benchmark (`videolmm.data.TemporalBenchmark`) as benchmark samples.

Sample ``i`` of a split is generated on the fly, so the samples are exactly those of the shards
the training data module writes for that split. The prompt is the record's own user text (the
model was trained on that wording); see `sample_from_record`.
"""

from videolmm.data.synthetic import TemporalBenchmark
from videolmm.eval.records import sample_from_record
from videolmm.eval.schema import BenchmarkSample


class SyntheticBenchmark:
    """Read ``count`` samples of one split of the synthetic benchmark.

    Args:
        benchmark: The generator (its settings must match the training data's).
        split: ``"train"``, ``"val"`` or ``"test"``.
        count: Samples to read (the data module's split size, 512 for ``test``).
    """

    name = "synthetic"

    def __init__(self, benchmark: TemporalBenchmark, split: str = "test", count: int = 512) -> None:
        if count < 1:
            raise ValueError(f"count must be positive, got {count}")
        self.benchmark = benchmark
        self.split = split
        self.count = int(count)

    def __call__(self) -> list[BenchmarkSample]:
        """The split's first ``count`` samples, their mp4 bytes as the video."""
        samples = []
        for index in range(self.count):
            generated = self.benchmark.sample(self.split, index)
            duration = self.benchmark.num_frames / self.benchmark.fps
            samples.append(sample_from_record(generated.record, generated.video, self.name, duration))
        return samples
