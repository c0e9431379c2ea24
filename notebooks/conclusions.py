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

from IPython.display import Markdown, display

from gresnet.profiles import PROFILES
from gresnet.results import (
    ARCH_LABELS, DATASET_LABELS, describe_budget, describe_gated_minus_base, gated_minus_base, load_runs,
)

runs = load_runs(results_dir)
display(Markdown(describe_budget(runs, profile_name)))

# %% [markdown]
# ## Gated minus base
#
# Test accuracy of each gated variant minus that of the base model of the same
# depth: the paper's values (Tables II and III) and ours (difference of the
# seed means), with its standard error where both models have two seeds or
# more, and n, the smaller seed count of the two.

# %% tags=["hide-input"]
deltas = gated_minus_base(runs)
table = deltas.assign(
    dataset=deltas["dataset"].map(DATASET_LABELS), network=deltas["arch"].map(ARCH_LABELS),
    n=deltas["n"].where(deltas["n"] > 0),
).rename(columns={"paper_delta": "paper Δ", "delta": "ours Δ", "std_error": "standard error of ours"})
display(table.set_index(["dataset", "network", "variant"])[["paper Δ", "ours Δ", "standard error of ours", "n"]].style.format(
    {"paper Δ": "{:+.4f}", "ours Δ": "{:+.4f}", "standard error of ours": "{:.4f}", "n": "{:.0f}"}, na_rep="–"
).set_table_attributes('class="dataframe"'))

# %% tags=["hide-input"]
display(Markdown(describe_gated_minus_base(deltas, len(PROFILES["cpu"].seeds))))

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
