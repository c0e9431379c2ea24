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
# # What the gates learn
#
# The paper's section IV-B looks at the learned λ of Gated1 in every block
# (Figs. 13 and 14): values stay near their starting point 1, several blocks
# fall below 1, deeper blocks of ResNet-34 spread more, and none approach 0.
# This page draws the same distributions from finished runs, adds the mean
# gate of Gated2 per block, and checks each of the paper's statements against
# the numbers.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/gates.ipynb)

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
near_zero = 0.1  # a gate below this counts as closing the shortcut

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from gresnet import plots
from gresnet.results import ARCH_LABELS, GATE_FIGURES, describe_budget, load_gates, load_runs, missing_results_note

plots.set_style()
runs = load_runs(results_dir)
gates = load_gates(results_dir)
display(Markdown(describe_budget(runs, profile_name)))

# %% [markdown]
# ## Gated1: distribution of λ per block (Figs. 13 and 14)
#
# Each box collects the per-channel λ of one block (all seeds together);
# blocks are named stage.index in forward order. The dotted line is λ = 1,
# where the block is the plain ResNet block.

# %% tags=["hide-input"]
for number, arch in GATE_FIGURES.items():
    lambdas = gates[(gates["arch"] == arch) & (gates["quantity"] == "lambda")]
    if lambdas.empty:
        display(Markdown(missing_results_note(f"Fig. {number}", "cifar10", results_dir, profile_name, data_dir, arch,
                                             variant="gated1")))
        continue
    figure = plots.plot_gate_distribution(gates, arch, "lambda", title=f"Fig. {number}. Learned λ, {ARCH_LABELS[arch]} Gated1")
    display(figure)
    plt.close(figure)
    display(Markdown(f"**Fig. {number}.** Distribution of learned λ values for {ARCH_LABELS[arch]} (Gated1), per block."))

# %% [markdown]
# ### The paper's statements, checked
#
# Per network: the λ range, the blocks whose median λ is below 1, and the
# spread (interquartile range) of the first and the last stage.

# %% tags=["hide-input"]
lambdas = gates[gates["quantity"] == "lambda"]
rows = []
for (dataset, arch), group in lambdas.groupby(["dataset", "arch"], sort=False):
    medians = group.groupby("block", sort=False)["value"].median()
    spread = group.groupby("stage")["value"].quantile([0.25, 0.75]).unstack()
    iqr = spread[0.75] - spread[0.25]
    rows.append({
        "network": f"{ARCH_LABELS[arch]}, {dataset}",
        "min λ": group["value"].min(), "median λ": group["value"].median(), "max λ": group["value"].max(),
        "blocks with median λ < 1": f"{int((medians < 1).sum())} of {len(medians)}",
        "IQR stage 1": iqr.iloc[0], "IQR stage 4": iqr.iloc[-1],
        f"channels with λ < {near_zero}": int((group["value"] < near_zero).sum()),
    })
if rows:
    display(pd.DataFrame(rows).set_index("network").round(4))
else:
    display(Markdown("No Gated1 runs, so there is nothing to check."))

# %% [markdown]
# ## Gated2: mean gate per block
#
# Gated2's gate σ(W_g ∗ s(x) + b_g) depends on the input, so it is measured:
# the mean over a batch of 256 validation images and all positions, per
# channel. A value of 0.5 halves the shortcut; the paper shows no such figure.

# %% tags=["hide-input"]
for arch in ARCH_LABELS:
    means = gates[(gates["arch"] == arch) & (gates["quantity"] == "mean_gate")]
    if means.empty:
        display(Markdown(f"No {ARCH_LABELS[arch]} Gated2 runs in `{results_dir}`."))
        continue
    figure = plots.plot_gate_distribution(gates, arch, "mean_gate", title=f"Mean gate, {ARCH_LABELS[arch]} Gated2")
    display(figure)
    plt.close(figure)
    per_block = means.groupby("block", sort=False)["value"].mean()
    display(Markdown(
        f"Mean Gated2 gate per channel and block, {ARCH_LABELS[arch]} (an addition; the paper has no such "
        f"figure). Block means range from {per_block.min():.3f} ({per_block.idxmin()}) to "
        f"{per_block.max():.3f} ({per_block.idxmax()})."
    ))
