"""Optuna hyper-parameter search over the paper's search space.

    python -m gresnet search --arch resnet18 --dataset cifar10 --profile cpu

Fahad and Ahmed (section III-D) train each trial for 20 epochs and maximise
the validation accuracy over: learning rate log-uniform in [1e-5, 1e-1],
weight decay log-uniform in [1e-6, 1e-2], optimiser in {SGD, Adam, AdamW},
batch size in {64, 128, 256}, augmentation in {none, standard, heavy}, and
SGD momentum in [0.7, 0.99]. Here the epochs per trial, the training images
and the number of trials are a budget (``gresnet.profiles.SearchBudget``).

Each trial trains the base (ungated) model with ``gresnet.training.train_epochs``,
reports the validation accuracy after every epoch, and is pruned when the
pruner (Optuna's MedianPruner unless another is given) asks for it. A trial
whose training loss becomes NaN or infinite is pruned as well.

The study lives in an Optuna RDB storage, by default the SQLite file
``<output>/<dataset>-<arch>.db``, so an interrupted search resumes:
``n_trials`` is the number of complete plus pruned trials to reach, and a
resumed search runs only the missing ones. Each running trial writes a
heartbeat; a trial whose process was killed is marked FAIL once its heartbeat
is older than the grace period (twice the heartbeat interval), and its
parameters are queued to be tried again.

The best parameters are written to ``<output>/best-<dataset>-<arch>.json`` in
the shape of ``gresnet.config.PAPER_BEST[arch]``; ``load_best`` and
``load_hyperparameters`` read them back for the training grid.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import warnings
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import torch
from optuna.trial import FrozenTrial, TrialState

from . import files
from .config import PAPER_BEST, RunConfig
from .data import DEFAULT_VAL_SIZE, Cifar, load_cifar
from .models import ARCHS
from .provenance import device_description
from .runtime import resolve_device
from .training import NonFiniteLossError, train_epochs

log = logging.getLogger("gresnet")

SEARCH_VARIANT = "base"  # Fahad and Ahmed search once per depth, and the gated variants reuse the result
PRUNERS = ("median", "none")
DEFAULT_HEARTBEAT_INTERVAL = 60  # seconds between heartbeats of a running trial
MAX_RETRIES = 2  # times the parameters of a killed trial are queued again
HYPERPARAMETER_KEYS = ("optimizer", "lr", "batch_size", "augmentation", "weight_decay")  # plus momentum for SGD
_DONE = (TrialState.COMPLETE, TrialState.PRUNED)


# --- names and paths ----------------------------------------------------------


def study_name(dataset: str, arch: str) -> str:
    return f"{dataset}-{arch}"


def default_storage(output: str | os.PathLike, dataset: str, arch: str) -> str:
    """SQLite URL of the study file ``<output>/<dataset>-<arch>.db``."""
    return f"sqlite:///{Path(output) / f'{study_name(dataset, arch)}.db'}"


def best_path(output: str | os.PathLike, dataset: str, arch: str) -> Path:
    return Path(output) / f"best-{study_name(dataset, arch)}.json"


# --- the objective ------------------------------------------------------------


class Objective:
    """Train one trial's configuration and return its final validation accuracy.

    Args:
        base: the fixed part of every trial's RunConfig (arch, dataset, epochs, data budget, seed).
        data: the loaded dataset, shared by all trials.
    """

    def __init__(self, base: RunConfig, data: Cifar) -> None:
        self.base = base
        self.data = data
        self.device_name = device_description(resolve_device(base.device))

    def __call__(self, trial: optuna.Trial) -> float:
        # The search space of Fahad and Ahmed, section III-D.
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        weight_decay = trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam", "adamw"])
        batch_size = trial.suggest_categorical("batch_size", [64, 128, 256])
        augmentation = trial.suggest_categorical("augmentation", ["none", "standard", "heavy"])
        changes: dict[str, Any] = {
            "lr": lr, "weight_decay": weight_decay, "optimizer": optimizer,
            "batch_size": batch_size, "augmentation": augmentation,
        }
        if optimizer == "sgd":
            changes["momentum"] = trial.suggest_float("momentum", 0.7, 0.99)
        config = self.base.replace(**changes)

        trial.set_user_attr("device_name", self.device_name)
        trial.set_user_attr("pruner", type(trial.study.pruner).__name__)
        history: list[dict] = []
        trial.set_user_attr("history", history)
        try:
            for row in train_epochs(config, data=self.data):
                history.append(row)
                trial.set_user_attr("history", history)
                trial.report(row["val_acc"], step=row["epoch"])
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after epoch {row['epoch']} at val acc {row['val_acc']:.4f}")
        except NonFiniteLossError as error:
            trial.set_user_attr("diverged", str(error))
            raise optuna.TrialPruned(f"diverged: {error}") from error
        return history[-1]["val_acc"]


# --- running a study ----------------------------------------------------------


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """Return the pruner named ``name``: ``median`` is Optuna's MedianPruner with its defaults."""
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"invalid pruner {name!r}; valid choices: {', '.join(PRUNERS)}")


def open_storage(url: str, heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL) -> optuna.storages.RDBStorage:
    """Open an RDB storage with heartbeats, so that the trials of a killed process are found and retried."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if heartbeat_interval < 1:
        raise ValueError(f"heartbeat_interval must be >= 1 second, got {heartbeat_interval}")
    # A long SQLite busy timeout lets the heartbeat thread and readers share the file.
    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    try:
        with warnings.catch_warnings():
            # Heartbeats and their retry callback have been stable since Optuna 2.9 but keep the experimental tag.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_interval,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES),
            )
    except (ImportError, ValueError) as error:  # SQLAlchemy raises ArgumentError (a ValueError) on a bad URL
        raise ValueError(
            f"cannot open Optuna storage {url!r}: {error}; pass an SQLAlchemy URL such as sqlite:///search.db"
        ) from error


def search(
    arch: str,
    dataset: str = "cifar10",
    n_trials: int = 20,
    epochs_per_trial: int = 20,
    train_subset: int | None = None,
    val_size: int = DEFAULT_VAL_SIZE,
    output: str | os.PathLike = "results/search",
    storage: str | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    data: Cifar | None = None,
    pruner: optuna.pruners.BasePruner | None = None,
    device: str = "auto",
    precision: str = "auto",
    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL,
    progress: bool = True,
) -> optuna.Study:
    """Run (or resume) the search for one architecture and dataset until ``n_trials`` trials are done.

    Args:
        arch: ``resnet18`` or ``resnet34``; the base variant is trained.
        dataset: ``cifar10`` or ``cifar100``.
        n_trials: complete plus pruned trials the study must hold when this returns.
        epochs_per_trial: training epochs per trial (Fahad and Ahmed use 20).
        train_subset: training images per trial, stratified (None: the whole training split).
        val_size: images held out of the official training set for validation.
        output: folder of the default SQLite file and of the best-parameter JSON.
        storage: an Optuna RDB storage URL (default: ``sqlite:///<output>/<dataset>-<arch>.db``).
        seed: seed of the TPE sampler and of every trial's training.
        data_dir: data root (default ``$GRESNET_DATA``, else ``./data``).
        data: an already loaded dataset, to skip reading it again.
        pruner: an Optuna pruner (default: MedianPruner with its defaults).
        device, precision: as in RunConfig.
        heartbeat_interval: seconds between heartbeats; a trial without one for twice as long counts as killed.
        progress: show a tqdm bar over the trials.

    Raises:
        ValueError: an invalid argument, or a stored study that was run with another budget.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    base = RunConfig(
        arch=arch, variant=SEARCH_VARIANT, dataset=dataset, epochs=epochs_per_trial, seed=seed,
        train_subset=train_subset, val_size=val_size, device=device, precision=precision,
    )
    budget = {
        "arch": arch, "variant": SEARCH_VARIANT, "dataset": dataset, "epochs_per_trial": epochs_per_trial,
        "train_subset": train_subset, "val_size": val_size, "seed": seed,
    }
    url = storage or default_storage(output, dataset, arch)
    study = _open_study(url, study_name(dataset, arch), budget, heartbeat_interval)
    study.pruner = pruner or make_pruner("median")
    # NOTE: a resumed study gets a sampler seeded with the seed plus the trials already stored, so its
    # startup trials do not repeat the random parameters drawn before the interruption. An interrupted
    # search is therefore reproducible only given the same interruption points.
    study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.get_trials(deepcopy=False)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)

    best_file = best_path(output, dataset, arch)
    done = _count_done(study)
    if done >= n_trials:
        log.info("study %s already has %d complete or pruned trials (target %d); nothing to run",
                 study.study_name, done, n_trials)
    else:
        if data is None:
            data = load_cifar(dataset, data_dir)
        log.info("study %s in %s: %d of %d trials done, running %d more (%d epochs on %s training images each)",
                 study.study_name, url, done, n_trials, n_trials - done, epochs_per_trial,
                 "all" if train_subset is None else train_subset)
        study.optimize(
            Objective(base, data), n_trials=n_trials - done, show_progress_bar=progress,
            callbacks=[
                optuna.study.MaxTrialsCallback(n_trials, states=_DONE),
                _log_trial,
                lambda study, trial: write_best(study, best_file),
            ],
        )
    write_best(study, best_file)
    return study


def _open_study(url: str, name: str, budget: dict, heartbeat_interval: int) -> optuna.Study:
    study = optuna.create_study(
        storage=open_storage(url, heartbeat_interval), study_name=name, direction="maximize", load_if_exists=True,
    )
    stored = study.user_attrs.get("budget")
    if stored is None:
        study.set_user_attr("budget", budget)
    elif stored != budget:
        differing = {key: (stored.get(key), value) for key, value in budget.items() if stored.get(key) != value}
        raise ValueError(
            f"study {name} in {url} was run with another budget (field: (stored, requested)) {differing}; "
            f"pass the stored values to resume it, or another --storage or --output for a new study"
        )
    return study


def _count_done(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=_DONE))


def _log_trial(study: optuna.Study, trial: FrozenTrial) -> None:
    seconds = trial.duration.total_seconds() if trial.duration else float("nan")
    params = ", ".join(f"{key}={_format(value)}" for key, value in trial.params.items())
    epochs = len(trial.intermediate_values)
    last = trial.intermediate_values.get(max(trial.intermediate_values, default=0), float("nan"))
    state = trial.state.name.lower()
    if "diverged" in trial.user_attrs:
        state = "pruned (training loss diverged)"
    log.info("%s trial %d %s: val acc %.4f after %d epochs, %.0f s (%s); %d of the target done",
             study.study_name, trial.number, state, last, epochs, seconds, params, _count_done(study))


def _format(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


# --- best parameters ----------------------------------------------------------


def best_hyperparameters(trial: FrozenTrial) -> dict:
    """Return the trial's parameters in the shape of ``PAPER_BEST[arch]``, plus momentum for SGD."""
    values = {key: trial.params[key] for key in HYPERPARAMETER_KEYS}
    if values["optimizer"] == "sgd":
        values["momentum"] = trial.params["momentum"]
    return values


def write_best(study: optuna.Study, path: str | os.PathLike) -> Path | None:
    """Write the best complete trial's parameters as JSON; return None while no trial is complete."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    return files.write_json(path, best_hyperparameters(study.best_trial))


def load_best(path: str | os.PathLike) -> dict:
    """Read and check a best-parameter JSON written by ``write_best``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run `python -m gresnet search` for this arch and dataset first")
    values = files.read_json(path)
    expected = set(HYPERPARAMETER_KEYS) | ({"momentum"} if values.get("optimizer") == "sgd" else set())
    if set(values) != expected:
        raise ValueError(f"{path} has keys {sorted(values)}, expected {sorted(expected)}")
    RunConfig(**values)  # raises ValueError on an invalid value
    return values


def load_hyperparameters(output: str | os.PathLike, dataset: str, archs: tuple[str, ...] = tuple(ARCHS)) -> dict[str, dict]:
    """Read the best parameters per arch from a search folder, shaped like ``PAPER_BEST`` for ``Profile.run_configs``."""
    return {arch: load_best(best_path(output, dataset, arch)) for arch in archs}


# --- reading a study back -----------------------------------------------------


def load_study(output: str | os.PathLike, dataset: str, arch: str, storage: str | None = None) -> optuna.Study:
    """Open a stored study to read it; nothing is run."""
    url = storage or default_storage(output, dataset, arch)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise FileNotFoundError(
            f"no study file {url.removeprefix('sqlite:///')}; run `python -m gresnet search --arch {arch} "
            f"--dataset {dataset}` first"
        )
    try:
        return optuna.load_study(study_name=study_name(dataset, arch), storage=url)
    except KeyError as error:
        raise FileNotFoundError(f"{url} has no study named {study_name(dataset, arch)}") from error


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """Tabulate the complete, pruned and failed trials: state, epochs run, final val acc, seconds, parameters."""
    rows = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state not in (*_DONE, TrialState.FAIL):
            continue
        values = trial.intermediate_values
        rows.append({
            "trial": trial.number,
            "state": "diverged" if "diverged" in trial.user_attrs else trial.state.name.lower(),
            "epochs": len(values),
            "val_acc": values[max(values)] if values else math.nan,
            "seconds": trial.duration.total_seconds() if trial.duration else math.nan,
            "retry_of": trial.system_attrs.get("failed_trial"),
            **{key: trial.params.get(key) for key in (*HYPERPARAMETER_KEYS, "momentum")},
        })
    return pd.DataFrame(rows)


def learning_curves(study: optuna.Study) -> pd.DataFrame:
    """Tabulate the validation accuracy per epoch of every complete and pruned trial (long format)."""
    rows = [
        {"trial": trial.number, "state": trial.state.name.lower(), "epoch": epoch, "val_acc": value}
        for trial in study.get_trials(deepcopy=False, states=_DONE)
        for epoch, value in sorted(trial.intermediate_values.items())
    ]
    return pd.DataFrame(rows, columns=["trial", "state", "epoch", "val_acc"])


def param_importances(study: optuna.Study, seed: int = 0) -> dict[str, float]:
    """Compute fANOVA importances over the complete trials, normalised to sum to 1.

    Only parameters present in every complete trial are assessed, so momentum
    (SGD only) is left out unless every complete trial used SGD.
    """
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 2:
        raise ValueError(f"importances need at least 2 complete trials, but the study has {len(complete)}")
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    try:
        return optuna.importance.get_param_importances(study, evaluator=evaluator)
    except RuntimeError as error:
        # fANOVA raises RuntimeError when its trees explain no variance, e.g. when
        # the few complete trials differ only in parameters it cannot split on.
        raise ValueError(
            f"fANOVA cannot assess importances from the {len(complete)} complete trials ({error}); "
            f"run more trials"
        ) from error


def study_hardware(study: optuna.Study) -> list[str]:
    """Return the devices the trials ran on, as recorded by each trial."""
    names = {trial.user_attrs.get("device_name") for trial in study.get_trials(deepcopy=False)}
    return sorted(name for name in names if name)


def describe_study(study: optuna.Study) -> str:
    """Describe a study in one Markdown paragraph: budget, trial counts, pruners, time per trial and hardware."""
    budget = study.user_attrs.get("budget", {})
    table = trials_table(study)
    counts = table["state"].value_counts() if len(table) else pd.Series(dtype=int)
    states = ", ".join(f"{counts[state]} {state}" for state in ("complete", "pruned", "diverged", "fail") if state in counts)
    train_images = budget.get("train_subset")
    complete_seconds = table.loc[table["state"] == "complete", "seconds"] if len(table) else pd.Series(dtype=float)
    pruners = sorted({trial.user_attrs["pruner"] for trial in study.get_trials(deepcopy=False) if "pruner" in trial.user_attrs})
    parts = [
        f"**{study.study_name}**: {len(table)} trials ({states or 'none finished'}) of "
        f"{budget.get('epochs_per_trial', '?')} epochs each, training the {budget.get('variant', 'base')} "
        f"{budget.get('arch', '?')} on {'all' if train_images is None else f'{train_images:,}'} training images "
        f"and validating on {budget.get('val_size', 0):,} images held out of the training set; "
        f"sampler TPE seeded with {budget.get('seed', '?')}, pruner {' then '.join(pruners) or 'unknown'}.",
    ]
    if len(complete_seconds):
        parts.append(f"A complete trial took {complete_seconds.median() / 60:.1f} minutes (median).")
    hardware = study_hardware(study)
    parts.append(f"Hardware: {'; '.join(hardware) if hardware else 'not recorded'}.")
    return " ".join(parts)


def compare_with_paper(arch: str, found: dict | None) -> pd.DataFrame:
    """Tabulate the best parameters of Fahad and Ahmed (section III-D) beside the ones found, one row per parameter."""
    paper = PAPER_BEST[arch]
    keys = [*HYPERPARAMETER_KEYS, "momentum"]
    found = found or {}
    return pd.DataFrame(
        {"paper (Fahad and Ahmed)": [paper.get(key, "—") for key in keys],
         "this search": [found.get(key, "—") for key in keys]},
        index=pd.Index(keys, name="parameter"),
    )


# --- figures ------------------------------------------------------------------


def plot_importances(importances: dict[str, float], ax=None):
    """Draw parameter importances as horizontal bars, the most important on top."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * len(importances)))
    names = list(importances)
    ax.barh(names[::-1], [importances[name] for name in names][::-1], color="tab:blue")
    for y, name in enumerate(names[::-1]):
        ax.text(importances[name], y, f" {importances[name]:.2f}", va="center")
    ax.set_xlabel("importance (fANOVA, normalised)")
    ax.set_xlim(0, max(1.0, max(importances.values()) * 1.15))
    return ax


def plot_learning_curves(curves: pd.DataFrame, ax=None):
    """Draw validation accuracy by epoch, one line per trial: complete trials coloured, pruned ones grey and dashed."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    final = curves.sort_values("epoch").groupby("trial").last()
    complete = final[final["state"] == "complete"]
    best = complete["val_acc"].idxmax() if len(complete) else None
    colours = plt.get_cmap("viridis")
    for trial, points in curves.sort_values("epoch").groupby("trial"):
        if final.loc[trial, "state"] == "pruned":
            ax.plot(points["epoch"], points["val_acc"], color="0.6", linestyle="--", linewidth=1, marker="x",
                    markevery=[len(points) - 1])
        else:
            rank = (complete["val_acc"] < final.loc[trial, "val_acc"]).mean() if len(complete) > 1 else 1.0
            ax.plot(points["epoch"], points["val_acc"], color=colours(0.15 + 0.7 * rank),
                    linewidth=3 if trial == best else 1.3, marker="o", markersize=3)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(handles=[
        Line2D([], [], color=colours(0.6), marker="o", markersize=3, label="complete (colour: final rank)"),
        Line2D([], [], color=colours(0.85), linewidth=3, label="best trial" if best is None else f"best (trial {best})"),
        Line2D([], [], color="0.6", linestyle="--", marker="x", label="pruned (x: last epoch run)"),
    ], loc="lower right", fontsize="small")
    return ax


# --- command line -------------------------------------------------------------


def add_search_command(commands: argparse._SubParsersAction) -> None:
    """Add ``python -m gresnet search`` to the CLI's subcommands."""
    from .cli import _non_negative_int, _positive_int  # noqa: PLC0415 (cli imports this module)
    from .config import DEVICES, PRECISIONS
    from .data import DATASETS
    from .profiles import PROFILES

    parser = commands.add_parser(
        "search", help="Optuna hyper-parameter search over the space of Fahad and Ahmed for one arch and dataset",
        description="Search learning rate, weight decay, optimiser, batch size, augmentation and SGD momentum "
                    "with Optuna's TPE sampler, maximising validation accuracy. The budget options default to "
                    "those of --profile. An interrupted search resumes from its storage.",
    )
    parser.add_argument("--arch", choices=tuple(ARCHS), required=True, help="network depth; the base variant is trained")
    parser.add_argument("--dataset", choices=DATASETS, default="cifar10", help="dataset (default: %(default)s)")
    parser.add_argument("--profile", choices=tuple(PROFILES), default="cpu",
                        help="budget giving the defaults of the next four options and of --output (default: %(default)s)")
    parser.add_argument("--n-trials", type=_positive_int, default=None,
                        help="complete plus pruned trials to reach, counting those already stored (default: the profile's)")
    parser.add_argument("--epochs-per-trial", type=_positive_int, default=None,
                        help="training epochs per trial; Fahad and Ahmed use 20 (default: the profile's)")
    parser.add_argument("--train-subset", type=_subset, default=None,
                        help="training images per trial, stratified by class, or 'all' (default: the profile's)")
    parser.add_argument("--val-size", type=_positive_int, default=None,
                        help="validation images held out of the training set (default: the profile's)")
    parser.add_argument("--storage", default=None,
                        help="Optuna storage URL, e.g. sqlite:///search.db or postgresql://... "
                             "(default: sqlite:///<output>/<dataset>-<arch>.db)")
    parser.add_argument("--output", default=None,
                        help="folder of the default SQLite file and of best-<dataset>-<arch>.json "
                             "(default: results/<profile>/search)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the sampler and of each trial's training (default: %(default)s)")
    parser.add_argument("--pruner", choices=PRUNERS, default="median",
                        help="median: Optuna's MedianPruner with its defaults (5 startup trials, no warm-up); none: never prune (default: %(default)s)")
    parser.add_argument("--data-dir", default=None, help="data root (default: $GRESNET_DATA, else ./data)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto = CUDA, then MPS, then CPU (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto = bfloat16 autocast where the hardware has it, else float32 (default: %(default)s)")
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--heartbeat-interval", type=_positive_int, default=DEFAULT_HEARTBEAT_INTERVAL,
                        help="seconds between a running trial's heartbeats; a trial silent for twice as long "
                             "is marked FAIL and its parameters are tried again (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=_cmd_search)


def _subset(text: str) -> int | str:
    from .cli import _positive_int  # noqa: PLC0415

    return "all" if text == "all" else _positive_int(text)


def _cmd_search(args: argparse.Namespace) -> int:
    from .profiles import get_profile

    budget = get_profile(args.profile).search
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # _log_trial writes the one line per trial
    output = args.output or f"results/{args.profile}/search"
    train_subset = budget.train_subset if args.train_subset is None else args.train_subset
    study = search(
        args.arch, args.dataset,
        n_trials=args.n_trials or budget.n_trials,
        epochs_per_trial=args.epochs_per_trial or budget.epochs_per_trial,
        train_subset=None if train_subset == "all" else train_subset,
        val_size=args.val_size or budget.val_size,
        output=output, storage=args.storage, seed=args.seed, data_dir=args.data_dir,
        pruner=make_pruner(args.pruner), device=args.device, precision=args.precision,
        heartbeat_interval=args.heartbeat_interval, progress=not args.no_progress,
    )
    table = trials_table(study)
    counts = table["state"].value_counts().to_dict() if len(table) else {}
    print(f"study {study.study_name}: " + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    path = best_path(output, args.dataset, args.arch)
    if path.is_file():
        print(f"best trial {study.best_trial.number}: val acc {study.best_value:.4f}, parameters in {path}")
    else:
        print("no trial completed, so no best parameters were written")
    return 0
