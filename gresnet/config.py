"""The run configuration: one frozen dataclass with the paper's defaults."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from .augment import AUGMENTATIONS
from .data import DATASETS, DEFAULT_VAL_SIZE
from .models import ARCHS, GATES

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "float32", "bfloat16")

# Best hyper-parameters of the paper's Optuna search (Fahad and Ahmed, section III-D).
PAPER_BEST = {
    "resnet18": {"optimizer": "adamw", "lr": 0.001055, "batch_size": 64, "augmentation": "standard", "weight_decay": 4.65e-5},
    "resnet34": {"optimizer": "adamw", "lr": 0.001011, "batch_size": 64, "augmentation": "standard", "weight_decay": 2.57e-4},
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run.

    Defaults are the paper's best ResNet-18 settings and its 100 epochs.
    """

    arch: str = "resnet18"
    variant: str = "base"
    dataset: str = "cifar10"
    epochs: int = 100
    batch_size: int = 64
    optimizer: str = "adamw"
    lr: float = 0.001055
    weight_decay: float = 4.65e-5
    momentum: float = 0.9  # SGD only
    schedule: str = "constant"  # learning rate: constant, or cosine decay to 0 over the epochs
    augmentation: str = "standard"
    seed: int = 0
    train_subset: int | None = None  # training images used per epoch (None: the whole training split)
    val_size: int = DEFAULT_VAL_SIZE  # images held out of the official training set
    test_subset: int | None = None  # test images evaluated, stratified (None: the official 10,000)
    device: str = "auto"  # auto: CUDA, then Apple MPS, then CPU
    precision: str = "auto"  # auto: bfloat16 autocast where it is faster, else float32

    def __post_init__(self) -> None:
        _check_choice("arch", self.arch, tuple(ARCHS))
        _check_choice("variant", self.variant, tuple(GATES))
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("augmentation", self.augmentation, AUGMENTATIONS)
        _check_choice("device", self.device, DEVICES)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_int("epochs", self.epochs, minimum=1)
        _check_int("batch_size", self.batch_size, minimum=1)
        _check_int("seed", self.seed, minimum=0)
        _check_int("val_size", self.val_size, minimum=1)
        if self.train_subset is not None:
            _check_int("train_subset", self.train_subset, minimum=1)
        if self.test_subset is not None:
            _check_int("test_subset", self.test_subset, minimum=1)
        _check_float("lr", self.lr, positive=True)
        _check_float("weight_decay", self.weight_decay, positive=False)
        _check_float("momentum", self.momentum, positive=False)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")

    @property
    def run_name(self) -> str:
        """Directory name of the run: dataset, arch, variant and seed."""
        return f"{self.dataset}-{self.arch}-{self.variant}-seed{self.seed}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config fields {unknown}; valid fields: {', '.join(sorted(known))}")
        return cls(**values)

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)


def paper_config(arch: str, **overrides) -> RunConfig:
    """The paper's best settings for ``arch`` (100 epochs), with overrides."""
    _check_choice("arch", arch, tuple(ARCHS))
    return RunConfig(arch=arch, **{**PAPER_BEST[arch], **overrides})


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"invalid {name} {value!r}; valid choices: {', '.join(choices)}")


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_float(name: str, value, positive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    if not positive and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
