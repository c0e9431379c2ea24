"""Optuna search on real CIFAR-10 subsets with SQLite storage: trials, pruning, resume, best parameters, notebook."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import optuna
import papermill
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState

from conftest import notebook_output_text
from gresnet import search as hpo
from gresnet.cli import build_parser
from gresnet.config import PAPER_BEST
from gresnet.profiles import get_profile

REPO = Path(__file__).resolve().parent.parent
TINY = {"epochs_per_trial": 2, "train_subset": 128, "val_size": 100}
SPACE = {
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
    "optimizer": CategoricalDistribution(["sgd", "adam", "adamw"]),
    "batch_size": CategoricalDistribution([64, 128, 256]),
    "augmentation": CategoricalDistribution(["none", "standard", "heavy"]),
    "momentum": FloatDistribution(0.7, 0.99),
}


@pytest.fixture(scope="module")
def results_dir(cifar10, tmp_path_factory) -> Path:
    """Return a results folder whose study has 3 complete trials (the first with SGD), then 1 pruned trial."""
    results = tmp_path_factory.mktemp("results")
    search_dir = results / "search"
    search_dir.mkdir()
    study = optuna.create_study(storage=hpo.default_storage(search_dir, "cifar10", "resnet18"),
                                study_name="cifar10-resnet18", direction="maximize")
    study.enqueue_trial({"optimizer": "sgd"})

    hpo.search("resnet18", n_trials=3, output=search_dir, data=cifar10, progress=False, **TINY)
    hpo.search("resnet18", n_trials=4, output=search_dir, data=cifar10, progress=False,
               pruner=optuna.pruners.ThresholdPruner(lower=1.01), **TINY)
    return results


def _study(results: Path) -> optuna.Study:
    return hpo.load_study(results / "search", "cifar10", "resnet18")


def test_trials_use_paper_space_and_report_each_epoch(results_dir):
    assert (results_dir / "search" / "cifar10-resnet18.db").is_file()
    trials = _study(results_dir).get_trials()
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]

    assert [trial.number for trial in complete] == [0, 1, 2]
    assert complete[0].params["optimizer"] == "sgd"
    for trial in complete:
        expected = {"lr", "weight_decay", "optimizer", "batch_size", "augmentation"}
        if trial.params["optimizer"] == "sgd":
            expected.add("momentum")
        assert set(trial.params) == expected
        for name in expected:
            assert trial.distributions[name] == SPACE[name], name
        assert sorted(trial.intermediate_values) == [1, 2]
        assert 0.0 <= trial.value <= 1.0
        assert trial.value == trial.intermediate_values[2]
        assert [row["epoch"] for row in trial.user_attrs["history"]] == [1, 2]
        assert "logical CPUs" in trial.user_attrs["device_name"]


def test_pruned_trial_stops_after_first_epoch(results_dir):
    study = _study(results_dir)
    pruned = study.get_trials(states=(TrialState.PRUNED,))

    assert [trial.number for trial in pruned] == [3]
    assert list(pruned[0].intermediate_values) == [1]
    assert pruned[0].user_attrs["pruner"] == "ThresholdPruner"
    assert study.user_attrs["budget"] == {
        "arch": "resnet18", "variant": "base", "dataset": "cifar10", "epochs_per_trial": 2,
        "train_subset": 128, "val_size": 100, "seed": 0,
    }


def test_reached_target_runs_no_trial(results_dir):
    before = len(_study(results_dir).get_trials())

    study = hpo.search("resnet18", n_trials=4, output=results_dir / "search", progress=False, **TINY)

    assert len(study.get_trials()) == before == 4


def test_changed_budget_is_rejected(results_dir):
    with pytest.raises(ValueError, match=r"another budget .*'epochs_per_trial': \(2, 3\)"):
        hpo.search("resnet18", n_trials=5, output=results_dir / "search", progress=False,
                   epochs_per_trial=3, train_subset=128, val_size=100)


def test_best_json_matches_best_trial(results_dir):
    study = _study(results_dir)
    best = hpo.load_best(hpo.best_path(results_dir / "search", "cifar10", "resnet18"))

    assert best == hpo.best_hyperparameters(study.best_trial)
    assert study.best_trial.state == TrialState.COMPLETE
    assert set(best) - {"momentum"} == set(PAPER_BEST["resnet18"])
    assert ("momentum" in best) == (best["optimizer"] == "sgd")

    found = hpo.load_hyperparameters(results_dir / "search", "cifar10", ("resnet18",))
    configs = get_profile("smoke").run_configs("cifar10", {**PAPER_BEST, **found})
    resnet18 = [config for config in configs if config.arch == "resnet18"]
    assert {config.lr for config in resnet18} == {best["lr"]}
    assert {config.optimizer for config in resnet18} == {best["optimizer"]}


def test_best_is_not_written_without_complete_trial(tmp_path):
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, params={"lr": 0.01},
                                        distributions={"lr": SPACE["lr"]}, intermediate_values={1: 0.1}))

    assert hpo.write_best(study, tmp_path / "best.json") is None
    assert not (tmp_path / "best.json").exists()


def test_load_best_rejects_wrong_keys(tmp_path):
    path = tmp_path / "best.json"
    path.write_text('{"optimizer": "adamw", "lr": 0.001}')

    with pytest.raises(ValueError, match=r"has keys \['lr', 'optimizer'\], expected"):
        hpo.load_best(path)


def test_search_cli_parses_budget_options():
    args = build_parser().parse_args(["search", "--arch", "resnet34", "--train-subset", "all", "--n-trials", "7"])

    assert args.train_subset == "all"
    assert args.n_trials == 7
    assert args.profile == "cpu"
    assert args.pruner == "median"


def _trial_states(db: Path) -> dict[int, str]:
    """Read each trial's state from Optuna's SQLite schema.

    A running trial is listed only once it has a heartbeat and its five parameters, because its training
    starts then."""
    query = """
        SELECT trials.number, trials.state,
               trial_heartbeats.heartbeat IS NOT NULL
               AND (SELECT COUNT(*) FROM trial_params WHERE trial_params.trial_id = trials.trial_id) >= 5
        FROM trials LEFT JOIN trial_heartbeats ON trial_heartbeats.trial_id = trials.trial_id
    """
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as connection:
            rows = connection.execute(query).fetchall()
    except sqlite3.OperationalError:  # the file or its tables are not created yet
        return {}
    return {number: state for number, state, started in rows if state != "RUNNING" or started}


def test_resume_after_kill_keeps_finished_trials(cifar10_root, cifar10, tmp_path):
    search_dir = tmp_path / "search"
    db = search_dir / "cifar10-resnet18.db"
    command = [
        sys.executable, "-m", "gresnet", "search", "--arch", "resnet18", "--n-trials", "3",
        "--epochs-per-trial", "1", "--train-subset", "128", "--val-size", "100", "--output", str(search_dir),
        "--data-dir", str(cifar10_root), "--heartbeat-interval", "1", "--no-progress",
    ]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 300
    states: dict[int, str] = {}
    while time.monotonic() < deadline and process.poll() is None:
        states = _trial_states(db) if db.exists() else {}
        if states.get(0) == "COMPLETE" and states.get(1) == "RUNNING":
            break
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)
    output = process.communicate()[0]
    assert states.get(0) == "COMPLETE", f"states {states}, output:\n{output}"
    assert states.get(1) == "RUNNING", f"states {states}, output:\n{output}"
    assert "trial 0 complete" in output

    before = optuna.load_study(study_name="cifar10-resnet18", storage=f"sqlite:///{db}").get_trials()
    assert before[1].state == TrialState.RUNNING
    # Wait past the grace period (twice the 1 s heartbeat interval; SQLite timestamps have 1 s resolution).
    time.sleep(3.5)

    study = hpo.search("resnet18", n_trials=3, epochs_per_trial=1, train_subset=128, val_size=100,
                       output=search_dir, data=cifar10, heartbeat_interval=1, progress=False)

    trials = study.get_trials()
    assert trials[0].state == TrialState.COMPLETE
    assert trials[0].value == before[0].value
    assert trials[0].params == before[0].params
    assert trials[1].state == TrialState.FAIL
    retries = [trial for trial in trials if trial.system_attrs.get("failed_trial") == 1]
    assert len(retries) == 1
    assert retries[0].params == before[1].params
    assert retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    done = [trial for trial in trials if trial.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(done) == 3
    assert not [trial for trial in trials if trial.state in (TrialState.RUNNING, TrialState.WAITING)]


def test_hpo_notebook_draws_figures_from_study(results_dir, cifar10_root, tmp_path):
    executed = tmp_path / "hpo.ipynb"

    papermill.execute_notebook(
        str(REPO / "notebooks" / "hpo.ipynb"), str(executed), cwd=str(REPO), progress_bar=False,
        parameters={"archs": ["resnet18"], "results_dir": str(results_dir), "run_search": True, "n_trials": 4,
                    "epochs_per_trial": 2, "train_subset": 128, "val_size": 100, "data_dir": str(cifar10_root)},
    )

    notebook = nbformat.read(executed, as_version=4)
    images = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    text = notebook_output_text(executed)
    assert len(images) == 2
    assert "**Fig. 1.** Hyper-parameter importance for ResNet-18: fANOVA over the 3 complete trials" in text
    assert "**Fig. 3.** ResNet-18 trial-wise validation accuracy by epoch: 3 complete and 1 pruned trials" in text
    assert "4 trials (3 complete, 1 pruned) of 2 epochs each" in text
    assert "on 128 training images and validating on 100 images" in text
    assert "logical CPUs" in text
    assert "paper (Fahad and Ahmed)" in text
    assert "0.001055" in text
    study = _study(results_dir)
    assert f"{study.best_value:.4f}" in text
    assert not math.isnan(study.best_value)

