# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Hyper-parameter search
#
# Fahad and Ahmed tune each depth with Optuna before training (section III-D): every
# trial trains the network for 20 epochs and returns its validation accuracy,
# which Optuna maximises, and unpromising trials are pruned. The search space is
# the learning rate (log-uniform in [1e-5, 1e-1]), the weight decay (log-uniform
# in [1e-6, 1e-2]), the optimiser (SGD, Adam, AdamW), the batch size (64, 128,
# 256), the augmentation (none, standard, heavy) and, for SGD only, the momentum
# (in [0.7, 0.99]). This page reads the stored studies (running them first if
# `run_search` is set) and draws the paper's Figs. 1–4: which parameters
# mattered, and how every trial's validation accuracy evolved. It ends with the
# best parameters found beside the paper's.
#
# ```
# papermill notebooks/hpo.ipynb hpo.ipynb -p results_dir results/cpu
# ```

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/hpo.ipynb)

# %% tags=["colab-setup", "remove-cell"]
# In Colab only: install gresnet from its repository and let torchvision download CIFAR.
import os
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
if IN_COLAB:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "gresnet @ git+https://github.com/gresnet/gresnet@main"], check=True)
    os.environ.setdefault("GRESNET_DATA", "/content/data")

# %% tags=["parameters"]
archs = ["resnet18", "resnet34"]  # depths shown: Figs. 1 and 3 are ResNet-18, Figs. 2 and 4 ResNet-34
dataset = "cifar10"  # cifar10 or cifar100
results_dir = "results/cpu"  # the studies are read from <results_dir>/search/
storage = None  # Optuna storage URL holding the studies (None: sqlite:///<results_dir>/search/<dataset>-<arch>.db)

# Search budget, used only when run_search is True (the cpu profile's defaults)
run_search = False  # run or resume the search of each arch before reading it
n_trials = 20  # complete plus pruned trials per arch, counting those already stored
epochs_per_trial = 5  # the paper uses 20
train_subset = 5000  # training images per trial (None: the whole 45,000-image split)
val_size = 5000  # validation images held out of the training set
seed = 0  # seed of the TPE sampler and of every trial's training
data_dir = None  # folder holding cifar-10-batches-py/ (None: $GRESNET_DATA, else ./data)

# %% tags=["hide-input"]
import logging
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import matplotlib.pyplot as plt
import optuna
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from gresnet import search as hpo

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", force=True)
optuna.logging.set_verbosity(optuna.logging.WARNING)
sns.set_theme(style="whitegrid", context="notebook")

if isinstance(archs, str):
    archs = [archs]
FIGURES = {"resnet18": (1, 3), "resnet34": (2, 4)}  # (importance figure, learning-curve figure) of the paper
LABELS = {"resnet18": "ResNet-18", "resnet34": "ResNet-34"}
search_dir = f"{results_dir}/search"

# %% [markdown]
# ## The studies
#
# Each study is kept in an SQLite file beside the results, so an interrupted
# search resumes where it stopped. With `run_search` set, the cell below runs
# the missing trials first (one log line per trial). The paragraph under it
# states the budget each study actually ran with, read from the study itself.

# %% tags=["hide-input"]
if run_search:
    for arch in archs:
        hpo.search(
            arch, dataset, n_trials=n_trials, epochs_per_trial=epochs_per_trial, train_subset=train_subset,
            val_size=val_size, output=search_dir, storage=storage, seed=seed, data_dir=data_dir, progress=False,
        )

studies = {}
for arch in archs:
    try:
        studies[arch] = hpo.load_study(search_dir, dataset, arch, storage)
    except FileNotFoundError as error:
        display(Markdown(f"NOTE: no {LABELS[arch]} study yet ({error}). Its figures are left out below."))
for arch, study in studies.items():
    display(Markdown(hpo.describe_study(study)))

# %% [markdown]
# ## Which parameters matter (Figs. 1 and 2)
#
# Importances are computed with Optuna's fANOVA evaluator
# (`FanovaImportanceEvaluator`, a random forest fitted to the complete trials,
# seed 0), the default evaluator of Optuna 3 and 4; Optuna 5 defaults to
# PED-ANOVA instead. fANOVA only assesses parameters present in every complete
# trial, so the SGD-only momentum is left out whenever a complete trial used
# Adam or AdamW. The paper
# finds the learning rate dominant for both depths, batch size and weight decay
# moderate for ResNet-18, and optimiser and augmentation of little influence.

# %% tags=["hide-input"]
importances = {}
for arch, study in studies.items():
    figure_number = FIGURES[arch][0]
    try:
        importances[arch] = hpo.param_importances(study)
    except ValueError as error:
        display(Markdown(f"NOTE: Fig. {figure_number} cannot be drawn: {error}."))
        continue
    complete = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    ax = hpo.plot_importances(importances[arch])
    ax.set_title(f"Fig. {figure_number}. Hyper-parameter importance for {LABELS[arch]}")
    plt.show()
    display(Markdown(
        f"**Fig. {figure_number}.** Hyper-parameter importance for {LABELS[arch]}: fANOVA over the "
        f"{complete} complete trials of {study.study_name}, normalised to sum to 1."
    ))

# %% [markdown]
# ## Every trial's learning curve (Figs. 3 and 4)
#
# Each line is one trial's validation accuracy after each epoch, the value
# the pruner compares. Pruned trials stop early and are drawn grey and dashed, with
# a cross at their last epoch; complete trials are coloured by their final
# rank, and the best one is drawn thick.

# %% tags=["hide-input"]
for arch, study in studies.items():
    figure_number = FIGURES[arch][1]
    curves = hpo.learning_curves(study)
    if curves.empty:
        display(Markdown(f"NOTE: Fig. {figure_number} cannot be drawn: {study.study_name} has no finished trial."))
        continue
    ax = hpo.plot_learning_curves(curves)
    ax.set_title(f"Fig. {figure_number}. {LABELS[arch]} trial-wise learning curves")
    plt.show()
    finished = curves.groupby("trial")["state"].first().value_counts()
    display(Markdown(
        f"**Fig. {figure_number}.** {LABELS[arch]} trial-wise validation accuracy by epoch: "
        f"{finished.get('complete', 0)} complete and {finished.get('pruned', 0)} pruned trials of {study.study_name}."
    ))

# %% [markdown]
# ## Best parameters beside the paper's
#
# The best trial is the complete trial with the highest final validation
# accuracy. Its parameters are written to
# `<results_dir>/search/best-<dataset>-<arch>.json`, from which the training grid
# can take them instead of the paper's (`gresnet.search.load_hyperparameters`).

# %% tags=["hide-input"]
tables = {}
for arch, study in studies.items():
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    best = hpo.best_hyperparameters(study.best_trial) if complete else None
    table = hpo.compare_with_paper(arch, best)
    table.loc["validation accuracy"] = ["not stated", f"{study.best_value:.4f}" if complete else "—"]
    tables[LABELS[arch]] = table
if tables:
    display(pd.concat(tables, axis=1).map(lambda value: f"{value:.4g}" if isinstance(value, float) else str(value)))
    display(Markdown("**Best hyper-parameters**, the paper's (Fahad and Ahmed, section III-D) beside this search's."))

# %% [markdown]
# All trials, with their state, the epochs they ran, their final validation
# accuracy, their wall time and their parameters. A trial whose process was
# killed is marked `fail`; a later trial with `retry_of` set re-ran its
# parameters.

# %% tags=["hide-input"]
for arch, study in studies.items():
    display(Markdown(f"**{LABELS[arch]}** ({study.study_name})"))
    display(hpo.trials_table(study).set_index("trial").round({"val_acc": 4, "seconds": 0}))

# %% [markdown]
# ## Summary

# %% tags=["hide-input"]
lines = []
for arch, study in studies.items():
    table = hpo.trials_table(study)
    complete = table[table["state"] == "complete"]
    if complete.empty:
        lines.append(f"- {LABELS[arch]}: no trial completed yet.")
        continue
    best = complete.loc[complete["val_acc"].idxmax()]
    line = (f"- {LABELS[arch]}: the best of {len(table)} trials reached validation accuracy {best['val_acc']:.4f} "
            f"with {best['optimizer']}, learning rate {best['lr']:.3g}, batch size {best['batch_size']}, "
            f"augmentation '{best['augmentation']}' and weight decay {best['weight_decay']:.3g}")
    if arch in importances:
        top = next(iter(importances[arch]))
        line += f"; the most important parameter was {top} ({importances[arch][top]:.2f})"
    lines.append(line + ".")
display(Markdown("\n".join(lines) if lines else "No study was found."))
