# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Conclusions
#
# The paper concludes that both gated skip connections improve classification
# on CIFAR at almost no extra cost. This page sets that claim against the
# paper's own tables and against the runs behind this book, gated minus base,
# per network and dataset.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/conclusions.ipynb)

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

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import pandas as pd
from IPython.display import Markdown, display

from gresnet.profiles import PROFILES
from gresnet.results import (
    ARCH_LABELS, DATASET_LABELS, PAPER_TABLE_II, PAPER_TABLE_III, describe_budget, format_mean_std, load_runs,
    summarise,
)

runs = load_runs(results_dir)
display(Markdown(describe_budget(runs, profile_name)))

# %% [markdown]
# ## Gated minus base
#
# Test accuracy of each gated variant minus that of the base model of the same
# depth: the paper's values (Tables II and III) and ours, with the standard
# deviation of our base model over seeds where there are several.

# %% tags=["hide-input"]
paper = pd.concat([PAPER_TABLE_II, PAPER_TABLE_III])[["dataset", "arch", "variant", "top1"]]
ours = summarise(runs, ["top1"]) if len(runs) else pd.DataFrame(columns=["dataset", "arch", "variant", "mean", "std", "n"])
rows = []
for (dataset, arch), group in paper.groupby(["dataset", "arch"], sort=False):
    paper_acc = group.set_index("variant")["top1"]
    mine = ours[(ours["dataset"] == dataset) & (ours["arch"] == arch)].set_index("variant")
    for variant in ("gated1", "gated2"):
        row = {"dataset": DATASET_LABELS[dataset], "network": ARCH_LABELS[arch], "variant": variant,
               "paper Δ": paper_acc[variant] - paper_acc["base"]}
        if {"base", variant} <= set(mine.index):
            row["ours Δ"] = mine.loc[variant, "mean"] - mine.loc["base", "mean"]
            row["our base std"] = mine.loc["base", "std"]
            row["n"] = int(min(mine.loc[variant, "n"], mine.loc["base", "n"]))
        rows.append(row)
deltas = pd.DataFrame(rows)
for column in ("ours Δ", "our base std", "n"):
    if column not in deltas:
        deltas[column] = float("nan")
display(deltas.set_index(["dataset", "network", "variant"]).style.format(
    {"paper Δ": "{:+.4f}", "ours Δ": "{:+.4f}", "our base std": "{:.4f}", "n": "{:.0f}"}, na_rep="–"
).set_table_attributes('class="dataframe"'))

# %% tags=["hide-input"]
paper_wins = deltas[deltas["paper Δ"] > 0]
paper_losses = deltas[deltas["paper Δ"] < 0]
lines = [
    f"In the paper's own tables a gated variant beats the base model in {len(paper_wins)} of {len(deltas)} "
    f"comparisons and trails it in {len(paper_losses)}; the largest gain is "
    f"{deltas['paper Δ'].max():+.4f} and the largest loss {deltas['paper Δ'].min():+.4f} in test accuracy. "
    f"The paper reports one run per model, so it gives no measure of how much of that is seed noise.",
]
measured = deltas.dropna(subset=["ours Δ"])
if measured.empty:
    lines.append("No pair of gated and base runs is in the results, so this book has no Δ of its own yet.")
else:
    wins = int((measured["ours Δ"] > 0).sum())
    lines.append(
        f"In our runs a gated variant beats the base model in {wins} of {len(measured)} comparisons, with Δ from "
        f"{measured['ours Δ'].min():+.4f} to {measured['ours Δ'].max():+.4f}."
    )
    if measured["n"].max() < 2:
        lines.append(f"No comparison has two seeds of both its models yet, so these differences come without an error bar; runs with "
                     f"several seeds (the `cpu` profile trains {len(PROFILES['cpu'].seeds)}) are needed to tell "
                     f"them from seed noise.")
    else:
        spread = measured["our base std"].max()
        beyond = int((measured["ours Δ"].abs() > measured["our base std"]).sum())
        lines.append(f"{beyond} of these differences exceed the base model's seed standard deviation "
                     f"(at most {format_mean_std(spread, float('nan'))}).")
display(Markdown("\n\n".join(lines)))

# %% [markdown]
# ## What this reproduction settles
#
# - **The models are fully determined.** Table IV's parameter counts fix the
#   backbone (torchvision's ImageNet-style ResNet at 32×32 input) and place the
#   Gated2 convolution on the shortcut output (see *The models*).
# - **The protocol needs decisions** the paper does not state: a stratified
#   45,000 / 5,000 validation split, the contents of the augmentation policies,
#   a constant learning rate, per-channel normalisation (see *Training
#   pipeline*).
# - **The size of the effect is the open question.** The paper's differences
#   between variants are a fraction of a percentage point, from one run each.
#   Whether gating helps can only be settled with several seeds per model at
#   the paper's budget (`python -m gresnet reproduce --profile paper` on a GPU).
# - **CIFAR-100** (Figs. 6, 8, 10, 12, 17, 18 and Table III) needs the dataset
#   under the data root; the pages show where those results will appear.
