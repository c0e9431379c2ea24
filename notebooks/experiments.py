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
# # Experiments
#
# The paper's section IV trains the three skip connections (base, Gated1,
# Gated2) in ResNet-18 and ResNet-34 on CIFAR-10 and CIFAR-100 and reports
# their accuracy and loss curves (Figs. 5–12), final training and validation
# accuracy (Table I) and test metrics (Tables II and III). This page draws the
# same figures and tables from finished runs and puts every number beside the
# paper's, with the difference ours minus paper.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/experiments.ipynb)

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
results_dir = "results/quick"  # folder of finished run directories
profile_name = None  # budget name stated with the results, e.g. "quick"
data_dir = None  # data root, checked for missing datasets (None: $GRESNET_DATA, else ./data)

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from gresnet import plots
from gresnet.results import (
    ARCH_LABELS, CURVE_FIGURES, DATASET_LABELS, comparison_display, compare_with_paper, describe_budget,
    load_histories, load_runs, missing_results_note,
)

plots.set_style()
runs = load_runs(results_dir)
histories = load_histories(results_dir)
display(Markdown(describe_budget(runs, profile_name)))

# %% [markdown]
# ## Training curves
#
# Each figure shows the three variants of one network on one dataset; solid
# lines are training values (means over the augmented batches of each epoch),
# dashed lines validation values on the 5,000 held-out training images. Where
# several seeds exist, the line is their mean and the band one standard
# deviation.

# %% tags=["hide-input"]
def show_curves(number: int) -> None:
    quantity, arch, dataset = CURVE_FIGURES[number]
    name = "Accuracy" if quantity == "accuracy" else "Loss"
    caption = f"**Fig. {number}.** {name} curve – {ARCH_LABELS[arch]} ({DATASET_LABELS[dataset]})"
    present = histories[(histories["dataset"] == dataset) & (histories["arch"] == arch)]
    if present.empty:
        display(Markdown(missing_results_note(f"Fig. {number}", dataset, results_dir, profile_name, data_dir, arch)))
        return
    figure = plots.plot_curves(histories, dataset, arch, quantity, title=f"Fig. {number}. {name}, "
                               f"{ARCH_LABELS[arch]} ({DATASET_LABELS[dataset]})")
    display(figure)
    plt.close(figure)
    display(Markdown(caption + "; solid: training, dashed: validation."))


# %% [markdown]
# ### Accuracy (Figs. 5–8)

# %% tags=["hide-input"]
for number in (5, 6, 7, 8):
    show_curves(number)

# %% [markdown]
# ### Loss (Figs. 9–12)

# %% tags=["hide-input"]
for number in (9, 10, 11, 12):
    show_curves(number)

# %% [markdown]
# ## Final accuracies (Table I)
#
# "Train Acc" is the accuracy on the augmented training batches of the last
# epoch and "Val Acc" the accuracy on the held-out validation images after it,
# the usual reading of the paper's Table I. Each model has three rows: our
# mean (± the standard deviation over seeds where there are several), the
# paper's value, and the difference Δ = ours − paper; `n` counts seeds.

# %% tags=["hide-input"]
def show_table(table: str, dataset: str, title: str) -> None:
    comparison = compare_with_paper(runs, table)
    part = comparison[comparison["dataset"] == dataset]
    if part["n"].sum() == 0:
        display(Markdown(missing_results_note(title, dataset, results_dir, profile_name, data_dir)))
        return
    display(Markdown(f"**{title}.** Ours (mean ± std over seeds), the paper's value, and Δ = ours − paper."))
    display(comparison_display(comparison, dataset))


show_table("I", "cifar10", "Table I (CIFAR-10 columns)")
show_table("I", "cifar100", "Table I (CIFAR-100 columns)")

# %% [markdown]
# ## Test results (Tables II and III)
#
# Accuracy and macro-averaged precision, recall and F1 on the test images
# (scikit-learn's `precision_recall_fscore_support`). On a balanced test set
# macro recall equals accuracy, as it does in the paper's tables.

# %% tags=["hide-input"]
show_table("II", "cifar10", "Table II. Results on CIFAR-10")

# %% tags=["hide-input"]
show_table("III", "cifar100", "Table III. Results on CIFAR-100")

# %% [markdown]
# ## Runs behind this page
#
# One row per finished run, with its test metrics and training time.

# %% tags=["hide-input"]
columns = ["dataset", "model", "seed", "epochs", "train_images", "test_images", "top1", "top5", "f1", "wall_seconds"]
display(runs[columns].round({"top1": 4, "top5": 4, "f1": 4, "wall_seconds": 0}).set_index(["dataset", "model", "seed"])
        if len(runs) else Markdown("No finished runs."))
