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
# # Training pipeline
#
# The paper states the loss (cross-entropy), the optimisers (SGD, Adam,
# AdamW), 100 epochs, the augmentations by name (random crop, horizontal flip,
# colour jitter, rotation) and the best hyper-parameters of its search. It
# leaves open how validation data is split off, what "standard" and "heavy"
# augmentation contain, the learning-rate schedule, the normalisation and the
# numeric precision. This page states each decision and computes what it
# implies from the code and the data.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/pipeline.ipynb)

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
data_dir = None  # folder holding cifar-10-batches-py/ (None: $GRESNET_DATA, else ./data)
examples = 6  # training images shown per augmentation policy

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import Markdown, display

from gresnet import augment, plots
from gresnet.config import PAPER_BEST, RunConfig
from gresnet.data import DEFAULT_VAL_SIZE, channel_stats, is_present, load_cifar, stratified_split
from gresnet.profiles import PROFILES
from gresnet.runtime import cpu_has_bf16

plots.set_style()
data = load_cifar("cifar10", data_dir, download=IN_COLAB) if is_present("cifar10", data_dir) or IN_COLAB else None
if data is None:
    display(Markdown("**Note.** CIFAR-10 was not found under the data root, so the sections below that "
                     "need the images show no numbers; place `cifar-10-batches-py/` there and render again."))

# %% [markdown]
# ## Validation split
#
# Table I reports a validation accuracy that differs from the test accuracy of
# Table II, so validation images come out of the 50,000 training images and the
# official 10,000 test images stay untouched. gresnet holds out a stratified
# 5,000 (500 per class) with a fixed seed 0, the same split for every run and
# seed. The remaining 45,000 are the training split. A run's seed only picks
# the subset when a budget trains on fewer images (`train_subset`).

# %% tags=["hide-input"]
if data is not None:
    train_idx, val_idx = stratified_split(data.train.labels, DEFAULT_VAL_SIZE, seed=0)
    split = pd.DataFrame({
        "training": torch.bincount(data.train.labels[train_idx], minlength=10).numpy(),
        "validation": torch.bincount(data.train.labels[val_idx], minlength=10).numpy(),
        "test": torch.bincount(data.test.labels, minlength=10).numpy(),
    }, index=data.classes)
    split.loc["total"] = split.sum()
    display(split)

# %% [markdown]
# ## Normalisation
#
# Images are scaled to [0, 1] and normalised per channel with the mean and
# standard deviation of the images the run trains on, computed once from the
# uint8 pixels. For the whole 45,000-image split:

# %% tags=["hide-input"]
if data is not None:
    mean, std = channel_stats(data.train.images[train_idx])
    display(pd.DataFrame({"mean": mean, "std": std}, index=["red", "green", "blue"]).round(4))

# %% [markdown]
# ## Augmentation
#
# The search space names three policies. Their contents, read from
# `gresnet.augment`:

# %% tags=["hide-input"]
policies = pd.DataFrame({
    "operations": [
        "no change",
        f"random 32×32 crop from the image zero-padded by {augment.CROP_PADDING} pixels, then horizontal flip "
        f"with probability 0.5",
        f"standard, then brightness, contrast and saturation factors each uniform in "
        f"[{1 - augment.JITTER:g}, {1 + augment.JITTER:g}], then rotation by an angle uniform in "
        f"[−{augment.MAX_ROTATION:g}°, {augment.MAX_ROTATION:g}°] (bilinear, zero fill)",
    ]
}, index=pd.Index(augment.AUGMENTATIONS, name="policy"))
policies.style.set_table_attributes('class="dataframe"')

# %% [markdown]
# Every random parameter (crop offset, flip, jitter factors, angle) is drawn
# per image, although the work runs on whole batches on the training device.
# The paper's best settings use "standard" for both networks.

# %% tags=["hide-input"]
if data is not None:
    images = data.train.images[train_idx[:examples]]
    identity = augment.BatchTransform("none", [0, 0, 0], [1, 1, 1])
    rows = {"original": identity(images, train=False)}
    for policy in ("standard", "heavy"):
        transform = augment.BatchTransform(policy, [0, 0, 0], [1, 1, 1])
        rows[policy] = transform(images, torch.Generator().manual_seed(0), train=True)
    figure, axes = plt.subplots(len(rows), examples, figsize=(plots.PAGE_WIDTH, 1.5 * len(rows)), layout="constrained")
    for r, (policy, batch) in enumerate(rows.items()):
        for c in range(examples):
            axes[r, c].imshow(batch[c].clamp(0, 1).permute(1, 2, 0).numpy())
            axes[r, c].set_axis_off()
        axes[r, 0].set_title(policy, loc="left", fontsize=9)
    display(figure)
    plt.close(figure)
    display(Markdown("Augmentation policies on the first training images, seed 0 (an illustration; "
                     "the paper has no such figure)."))

# %% [markdown]
# ## Optimisation
#
# Cross-entropy loss; the optimiser, learning rate, batch size, weight decay and
# augmentation come from the paper's search (section III-D):

# %% tags=["hide-input"]
pd.DataFrame(PAPER_BEST).T.style.format({"lr": "{:g}", "weight_decay": "{:g}"}).set_table_attributes('class="dataframe"')

# %% [markdown]
# The paper gives no learning-rate schedule, so the literal reading, a
# constant rate, is the default (`schedule="constant"`). Cosine decay to zero
# over the epochs is available as `schedule="cosine"`. "Train Acc" (Table I)
# is the accuracy on the augmented training batches of the last epoch, the
# usual reading; validation runs after each epoch, without augmentation.

# %% [markdown]
# ## Precision and hardware

# %% tags=["hide-input"]
cuda = torch.cuda.is_available()
display(Markdown(
    f"`precision=\"auto\"` trains under bfloat16 autocast on CUDA devices that support it and on CPUs with "
    f"native bfloat16 instructions (AVX512-BF16 or AMX), where it is faster than float32; elsewhere in "
    f"float32. Loss and softmax are computed in float32. On the machine that rendered this page: "
    f"{'a CUDA device' if cuda else 'no CUDA device'}, CPU bfloat16 instructions "
    f"{'present' if cpu_has_bf16() else 'absent'}."
))

# %% [markdown]
# ## Budgets
#
# A full reproduction trains 12 models for 100 epochs. The profiles of
# `python -m gresnet reproduce` scale the same protocol down; every results
# page states which one produced its numbers.

# %% tags=["hide-input"]
budgets = pd.DataFrame([
    {"profile": p.name, "epochs": p.epochs,
     "training images": "45,000" if p.train_subset is None else f"{p.train_subset:,}",
     "validation images": f"{p.val_size:,}",
     "test images": "10,000" if p.test_subset is None else f"{p.test_subset:,}",
     "seeds": len(p.seeds), "estimate": p.estimate}
    for p in PROFILES.values()
]).set_index("profile")
display(budgets.style.set_table_attributes('class="dataframe"'))
defaults = RunConfig()
display(Markdown(f"A single run's defaults (`RunConfig()`) are the paper's: {defaults.epochs} epochs, "
                 f"{defaults.optimizer}, learning rate {defaults.lr}, batch {defaults.batch_size}."))
