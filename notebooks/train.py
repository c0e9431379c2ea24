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
# # Train one model
#
# Trains one ResNet on CIFAR with the skip connection chosen by `variant`,
# evaluates it on the test set and writes its run directory
# (`<output_dir>/<dataset>-<arch>-<variant>-seed<seed>/`). The defaults are the
# ResNet-18 protocol of Fahad and Ahmed, "Enhancing Image Classification with
# Modified ResNet Architectures": AdamW, learning rate 0.001055, batch 64, weight
# decay 4.65e-5, standard augmentation, 100 epochs. A finished run is read back
# instead of retrained; an interrupted one resumes from its last epoch.
#
# ```
# papermill notebooks/train.ipynb out.ipynb -p variant gated2 -p epochs 10
# ```

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/train.ipynb)

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
# Model
arch = "resnet18"  # resnet18 or resnet34
variant = "base"  # base, gated1 (learnable λ per channel) or gated2 (sigmoid 1×1-conv gate)
dataset = "cifar10"  # cifar10 or cifar100

# Optimisation
epochs = 100
batch_size = 64
optimizer = "adamw"  # sgd, adam or adamw
lr = 0.001055
weight_decay = 4.65e-5
momentum = 0.9  # SGD only
schedule = "constant"  # constant, or cosine decay to 0 over the epochs
augmentation = "standard"  # none, standard (crop + flip) or heavy (+ colour jitter + rotation)
seed = 0

# Data budget
train_subset = None  # training images per epoch, stratified (None: the whole 45,000-image split)
val_size = 5000  # images held out of the official training set for validation
test_subset = None  # test images evaluated, stratified (None: the official 10,000)

# Hardware
device = "auto"  # auto (CUDA, then Apple MPS, then CPU), cpu, cuda or mps
precision = "auto"  # auto (bfloat16 autocast where the hardware has it), float32 or bfloat16

# Files
data_dir = None  # folder holding cifar-10-batches-py/ (None: $GRESNET_DATA, else ./data)
output_dir = "runs"  # parent folder of the run directory
download = False  # fetch the dataset with torchvision if it is missing (needs internet; always on in Colab)

# %% [markdown]
# The configuration is checked before any data is read: an invalid value stops
# here with a message naming the value and the valid choices.

# %%
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

from gresnet import RunConfig

config = RunConfig(
    arch=arch, variant=variant, dataset=dataset, epochs=epochs, batch_size=batch_size, optimizer=optimizer,
    lr=lr, weight_decay=weight_decay, momentum=momentum, schedule=schedule, augmentation=augmentation,
    seed=seed, train_subset=train_subset, val_size=val_size, test_subset=test_subset, device=device,
    precision=precision,
)
config

# %%
import logging

import pandas as pd
from IPython.display import Markdown, display

from gresnet import plots, train
from gresnet.data import resolve_root
from gresnet.results import load_histories, model_name

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", force=True)
plots.set_style()
print(f"data root: {resolve_root(data_dir).resolve()}")

# %% [markdown]
# ## Training
#
# One log line per epoch: learning rate, training and validation loss and
# accuracy, seconds, and training images per second.

# %%
result = train(config, output_dir, data_dir=data_dir, download=download or IN_COLAB, progress=False)
result.run_dir

# %% [markdown]
# ## Curves
#
# Training values are means over the augmented batches of each epoch;
# validation values are measured on the held-out images after it.

# %%
histories = load_histories(output_dir)
histories = histories[
    (histories["dataset"] == dataset) & (histories["arch"] == arch)
    & (histories["variant"] == variant) & (histories["seed"] == seed)
]
for quantity in ("accuracy", "loss"):
    plots.plot_curves(histories, dataset, arch, quantity, title=f"{model_name(arch, variant)}, {quantity}")

# %% [markdown]
# ## Test metrics
#
# Accuracy and macro precision, recall and F1 on the test images, as in the
# paper's Tables II and III, and the final training and validation accuracy of
# Table I.

# %%
scores = ["top1", "top5", "precision", "recall", "f1", "loss", "final_train_acc", "final_val_acc"]
budget = ["epochs", "train_images", "val_images", "test_images"]
name = model_name(arch, variant)
display(pd.Series({key: f"{result.metrics[key]:.4f}" for key in scores}, name=name).to_frame())
display(pd.Series({key: result.metrics[key] for key in budget}, name=name).to_frame())
display(Markdown(f"Run directory: `{result.run_dir}`" + ("" if result.trained else " (finished earlier, read back)")))
