"""Named budgets for the whole reproduction: search, training grid, book.

Times are estimates for a 2-core AMD EPYC (AVX512-BF16) CPU with bfloat16
autocast, from measured ResNet-18 training throughput of about 500 images/s
and ResNet-34 of about half that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import PAPER_BEST, RunConfig
from .data import DEFAULT_VAL_SIZE


@dataclass(frozen=True)
class SearchBudget:
    """Optuna search per architecture."""

    n_trials: int
    epochs_per_trial: int
    train_subset: int | None  # training images per trial (None: the whole training split)
    val_size: int = DEFAULT_VAL_SIZE
    test_subset: int | None = None


@dataclass(frozen=True)
class Profile:
    """One budget for ``python -m gresnet reproduce``."""

    name: str
    description: str
    epochs: int
    train_subset: int | None  # None: the whole 45,000-image training split
    seeds: tuple[int, ...]
    search: SearchBudget
    val_size: int = DEFAULT_VAL_SIZE
    test_subset: int | None = None  # None: the official 10,000 test images
    archs: tuple[str, ...] = ("resnet18", "resnet34")
    variants: tuple[str, ...] = ("base", "gated1", "gated2")
    datasets: tuple[str, ...] = ("cifar10", "cifar100")
    estimate: str = ""  # expected wall time, stated with its hardware

    def run_configs(self, dataset: str, hyperparameters: dict[str, dict] | None = None) -> list[RunConfig]:
        """The training grid for one dataset, seed-major so each seed's six models finish together.

        Args:
            dataset: ``cifar10`` or ``cifar100``.
            hyperparameters: arch -> optimiser settings; default the paper's best.
        """
        chosen = hyperparameters or PAPER_BEST
        configs = []
        for seed in self.seeds:
            for arch in self.archs:
                for variant in self.variants:
                    configs.append(
                        RunConfig(
                            arch=arch, variant=variant, dataset=dataset, epochs=self.epochs, seed=seed,
                            train_subset=self.train_subset, val_size=self.val_size, test_subset=self.test_subset,
                            **chosen[arch],
                        )
                    )
        return configs


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        description="end-to-end check in seconds: 1 epoch on 256 images, 500 validation and 500 test images",
        epochs=1, train_subset=256, val_size=500, test_subset=500, seeds=(0,),
        search=SearchBudget(n_trials=2, epochs_per_trial=1, train_subset=256, val_size=500, test_subset=500),
        estimate="about 2 minutes on 2 CPU cores",
    ),
    "quick": Profile(
        name="quick",
        description="first look on real data: 4 epochs on a 5,000-image stratified subset, full test set",
        epochs=4, train_subset=5000, seeds=(0,),
        search=SearchBudget(n_trials=4, epochs_per_trial=1, train_subset=2000, val_size=2000),
        estimate="about 15 minutes on 2 CPU cores",
    ),
    "cpu": Profile(
        name="cpu",
        description="the whole 45,000-image training split, 10 epochs, 2 seeds",
        epochs=10, train_subset=None, seeds=(0, 1),
        search=SearchBudget(n_trials=20, epochs_per_trial=5, train_subset=5000),
        estimate=(
            "about 6 hours on 2 CPU cores: about 70 minutes of search, then 15 minutes per "
            "ResNet-18 run and 31 per ResNet-34 run (12 runs); it resumes across sittings"
        ),
    ),
    "paper": Profile(
        name="paper",
        description="the paper's protocol: 100 epochs on the whole training split, 20-epoch search trials",
        # NOTE: the paper does not give its number of trials; 50 is this project's choice.
        epochs=100, train_subset=None, seeds=(0,),
        search=SearchBudget(n_trials=50, epochs_per_trial=20, train_subset=None),
        estimate="for a GPU: several GPU-hours; about 30 CPU-days on 2 cores",
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid choices: {', '.join(PROFILES)}")
    return PROFILES[name]
