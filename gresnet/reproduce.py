"""One command for the whole reproduction at a named budget.

``python -m gresnet reproduce --profile NAME`` runs, in order:

1. the hyper-parameter search for each architecture and present dataset;
2. the training grid (ResNet-18/34 × base, gated1, gated2 × datasets × seeds);
3. the analysis notebooks, executed with papermill into the book's pages;
4. the book build.

Every step skips what is finished and resumes what was interrupted, so a
long profile completes over several sittings. Results go to
``<results-root>/<profile>/`` (``<profile>-searched`` when the grid uses the
hyper-parameters found by the search instead of the paper's).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from .data import Cifar, DatasetNotFoundError, dataset_folder, is_present, load_cifar, resolve_root
from .profiles import PROFILES, Profile, get_profile

log = logging.getLogger("gresnet")

REPOSITORY = Path(__file__).resolve().parent.parent
HYPERPARAMETER_SOURCES = ("paper", "search")


@dataclass
class ReproduceSummary:
    """What a reproduce call did."""

    profile: str
    results_dir: Path
    datasets: list[str]
    skipped_datasets: list[str]
    runs_trained: list[str]
    runs_skipped: list[str]
    pages: list[Path]
    html_dir: Path | None


def results_dir_for(profile: Profile, results_root: str | os.PathLike, hyperparameters: str) -> Path:
    suffix = "" if hyperparameters == "paper" else "-searched"
    return Path(results_root) / f"{profile.name}{suffix}"


def present_datasets(profile: Profile, data_dir) -> tuple[dict[str, Cifar], list[str]]:
    """Load every dataset of the profile that is present; list the absent ones.

    A present dataset with a missing, truncated or corrupted file raises.
    """
    loaded, absent = {}, []
    for name in profile.datasets:
        if is_present(name, data_dir):
            loaded[name] = load_cifar(name, data_dir)
        else:
            absent.append(name)
            log.warning(
                "%s not found (%s); skipping its search and training, and its book sections say so",
                name, dataset_folder(name, data_dir),
            )
    if not loaded:
        raise DatasetNotFoundError(
            f"none of {', '.join(profile.datasets)} found under {resolve_root(data_dir)}; "
            f"pass --data-dir or set GRESNET_DATA to the folder holding cifar-10-batches-py/"
        )
    return loaded, absent


def _done_epochs(run_dir: Path) -> int:
    history = run_dir / "history.csv"
    if not history.is_file():
        return 0
    return len(pd.read_csv(history))


def run_grid(configs, results_dir: Path, datasets: dict[str, Cifar], progress: bool = True) -> tuple[list[str], list[str]]:
    """Train every config in order, skipping finished runs; return (trained, skipped) run names.

    One progress bar counts epochs over the whole grid, so its estimate of the
    time left covers every remaining run.
    """
    from .training import is_finished, train

    total = sum(config.epochs for config in configs)
    done = sum(min(_done_epochs(results_dir / config.run_name), config.epochs) for config in configs)
    trained, skipped = [], []
    bar = tqdm(total=total, initial=done, desc="training grid", unit="epoch", disable=not progress)
    try:
        for number, config in enumerate(configs, start=1):
            run_dir = results_dir / config.run_name
            label = f"run {number}/{len(configs)} {config.run_name}"
            if is_finished(run_dir):
                log.info("%s: finished, skipping", label)
                skipped.append(config.run_name)
                continue
            log.info("%s: %d of %d epochs done", label, _done_epochs(run_dir), config.epochs)
            bar.set_postfix_str(label)

            def advance(row: dict) -> None:
                bar.update(1)

            train(config, results_dir, data=datasets[config.dataset], progress=False, on_epoch_end=advance)
            trained.append(config.run_name)
    finally:
        bar.close()
    return trained, skipped


def prepare_book_dir(book_dir: Path) -> Path:
    """Make ``book_dir`` a buildable copy of the repository's book, unless it is that book.

    The copy takes the written pages, ``_static/``, ``_config.yml`` and
    ``_toc.yml``; the executed pages are rendered into it afterwards.
    """
    source = REPOSITORY / "book"
    if book_dir.resolve() == source.resolve():
        return book_dir
    book_dir.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name in ("_build", "_toc.yml"):
            continue
        target = book_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        elif not target.exists():
            shutil.copy2(item, target)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(REPOSITORY / name, book_dir / name)
    return book_dir


def reproduce(
    profile_name: str,
    data_dir: str | os.PathLike | None = None,
    results_root: str | os.PathLike = "results",
    book_dir: str | os.PathLike = "book",
    hyperparameters: str = "paper",
    search: bool = True,
    book: bool = True,
    progress: bool = True,
) -> ReproduceSummary:
    """Run the search, the training grid, the analysis notebooks and the book build for a profile.

    Args:
        profile_name: a key of ``gresnet.profiles.PROFILES``.
        data_dir: data root (default ``$GRESNET_DATA``, else ``./data``).
        results_root: parent of the profile's results folder.
        book_dir: the book's source folder; any other folder than the
            repository's ``book/`` receives a copy of its pages first.
        hyperparameters: ``paper`` trains with the paper's published best
            settings; ``search`` with the best found by this profile's search.
        search: run the hyper-parameter search step.
        book: render the notebooks and build the book.
        progress: show progress bars.
    """
    from . import search as hpo

    profile = get_profile(profile_name)
    if hyperparameters not in HYPERPARAMETER_SOURCES:
        raise ValueError(
            f"invalid hyperparameters {hyperparameters!r}; valid choices: {', '.join(HYPERPARAMETER_SOURCES)}"
        )
    if hyperparameters == "search" and not search:
        raise ValueError("hyperparameters='search' needs the search step; drop --skip-search")
    started = time.perf_counter()
    results_dir = results_dir_for(profile, results_root, hyperparameters)
    search_dir = results_dir_for(profile, results_root, "paper") / "search"
    datasets, absent = present_datasets(profile, data_dir)
    log.info("profile %s: %s. Results in %s; estimate %s", profile.name, profile.description, results_dir,
             profile.estimate)

    if search:
        budget = profile.search
        for number, (dataset, arch) in enumerate([(d, a) for d in datasets for a in profile.archs], start=1):
            log.info("search %d/%d: %s on %s", number, len(datasets) * len(profile.archs), arch, dataset)
            hpo.search(
                arch, dataset, n_trials=budget.n_trials, epochs_per_trial=budget.epochs_per_trial,
                train_subset=budget.train_subset, val_size=budget.val_size, output=search_dir,
                data=datasets[dataset], progress=progress,
            )

    configs = []
    for dataset in datasets:
        chosen = hpo.load_hyperparameters(search_dir, dataset, profile.archs) if hyperparameters == "search" else None
        configs += profile.run_configs(dataset, chosen)
    trained, skipped = run_grid(configs, results_dir, datasets, progress)

    pages, html = [], None
    if book:
        from .book import build_book, render_book_notebooks

        book_path = prepare_book_dir(Path(book_dir))
        pages = render_book_notebooks(
            results_dir, book_path, profile.name, notebooks_dir=REPOSITORY / "notebooks", data_dir=data_dir,
        )
        html = build_book(book_path)
        log.info("book built in %s", html)

    log.info("profile %s done in %.1f minutes: %d runs trained, %d already finished", profile.name,
             (time.perf_counter() - started) / 60, len(trained), len(skipped))
    return ReproduceSummary(profile.name, results_dir, list(datasets), absent, trained, skipped, pages, html)


def add_reproduce_command(commands: argparse._SubParsersAction) -> None:
    profiles = "; ".join(f"{p.name}: {p.description} ({p.estimate})" for p in PROFILES.values())
    parser = commands.add_parser(
        "reproduce", help="run search, training grid, notebooks and book build at a named budget",
        description=f"Profiles: {profiles}.",
    )
    parser.add_argument("--profile", required=True, choices=tuple(PROFILES), help="budget to run")
    parser.add_argument("--data-dir", default=None, help="data root (default: $GRESNET_DATA, else ./data)")
    parser.add_argument("--results-dir", default="results", help="parent of the profile's results folder (default: %(default)s)")
    parser.add_argument("--book-dir", default="book", help="the book's source folder (default: %(default)s)")
    parser.add_argument("--hyperparameters", choices=HYPERPARAMETER_SOURCES, default="paper",
                        help="train with the paper's best settings or with those the search found (default: %(default)s)")
    parser.add_argument("--skip-search", action="store_true", help="do not run the hyper-parameter search")
    parser.add_argument("--skip-book", action="store_true", help="do not render the notebooks or build the book")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(handler=_cmd_reproduce)


def _cmd_reproduce(args: argparse.Namespace) -> int:
    summary = reproduce(
        args.profile, data_dir=args.data_dir, results_root=args.results_dir, book_dir=args.book_dir,
        hyperparameters=args.hyperparameters, search=not args.skip_search, book=not args.skip_book,
        progress=not args.no_progress,
    )
    print(f"profile {summary.profile}: {len(summary.runs_trained)} runs trained, "
          f"{len(summary.runs_skipped)} already finished, results in {summary.results_dir}")
    if summary.skipped_datasets:
        print(f"not found, skipped: {', '.join(summary.skipped_datasets)}")
    if summary.html_dir is not None:
        print(f"book: {summary.html_dir / 'index.html'}")
    return 0
