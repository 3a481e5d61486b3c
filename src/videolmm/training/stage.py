"""Training stages: which components train and at what learning-rate multiplier.

A stage names every component of the model that has parameters (``encoder``, ``projector``,
``separators``, ``llm``: the model's direct children). `Stage.apply` is the only place in
videolmm that calls ``requires_grad_``; it returns a table of trainable and frozen parameters
per component, which the training module logs.
"""

from dataclasses import dataclass, field

from torch import nn


@dataclass
class Stage:
    """What trains in one stage.

    Attributes:
        name: Shown in logs (``align``, ``video_sft``, ...).
        trainable: Component name -> whether its parameters train. Every component with
            parameters must be named: a stage never decides by omission.
        lr_mult: Component name -> multiplier of the optimizer's base learning rate
            (missing components use 1.0).
    """

    name: str
    trainable: dict[str, bool]
    lr_mult: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.trainable = {str(k): bool(v) for k, v in dict(self.trainable).items()}
        self.lr_mult = {str(k): float(v) for k, v in dict(self.lr_mult).items()}
        unknown = set(self.lr_mult) - set(self.trainable)
        if unknown:
            raise ValueError(f"stage {self.name!r}: lr_mult names {sorted(unknown)}, not in trainable")
        if any(v <= 0 for v in self.lr_mult.values()):
            raise ValueError(f"stage {self.name!r}: learning-rate multipliers must be positive, got {self.lr_mult}")

    def unmatched_components(self, model: nn.Module) -> tuple[list[str], list[str]]:
        """``(missing, unknown)``, each sorted: what `check_components` refuses (both empty: the stage fits).

        Args:
            model: The model the stage applies to (built on the meta device will do).

        Returns:
            The components of ``model`` with parameters the stage does not name, and the names the
            stage gives that are none of ``model``'s direct children.
        """
        named = set(self.trainable)
        children = {name for name, _ in model.named_children()}
        return sorted(set(components(model)) - named), sorted(named - children)

    def check_components(self, model: nn.Module) -> None:
        """Raise `ValueError` unless the stage names every component with parameters, and only model children.

        A child without parameters (a reducer, separators at ``position="none"``) may be named or not.
        """
        missing, unknown = self.unmatched_components(model)
        if missing or unknown:
            raise ValueError(
                f"stage {self.name!r} names components {sorted(self.trainable)} but the model's components with "
                f"parameters are {sorted(components(model))} (missing: {missing}, unknown: {unknown})"
            )

    def apply(self, model: nn.Module) -> str:
        """Set ``requires_grad`` of every parameter by component; return the parameter table."""
        self.check_components(model)
        for name, module in components(model).items():
            module.requires_grad_(self.trainable[name])
        return parameter_table(model, self)

    def lr_multiplier(self, component: str) -> float:
        """The multiplier of ``component`` (1.0 unless the stage sets one)."""
        return self.lr_mult.get(component, 1.0)


def components(model: nn.Module) -> dict[str, nn.Module]:
    """The model's direct children that hold parameters, by name."""
    return {name: child for name, child in model.named_children() if any(True for _ in child.parameters())}


def parameter_table(model: nn.Module, stage: Stage) -> str:
    """A fixed-width table: component, trainable and frozen parameter counts, learning-rate multiplier."""
    rows = [f"stage {stage.name}", f"{'component':<12} {'trainable':>14} {'frozen':>14} {'lr x':>6}"]
    total_train = total_frozen = 0
    for name, module in components(model).items():
        train = sum(p.numel() for p in module.parameters() if p.requires_grad)
        frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
        total_train, total_frozen = total_train + train, total_frozen + frozen
        mult = f"{stage.lr_multiplier(name):g}" if train else "-"
        rows.append(f"{name:<12} {train:>14,} {frozen:>14,} {mult:>6}")
    rows.append(f"{'total':<12} {total_train:>14,} {total_frozen:>14,}")
    return "\n".join(rows)
