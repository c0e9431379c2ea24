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
# # Qualitative analysis of predictions
#
# The paper's section VI shows correctly and incorrectly classified test
# images with the model's five most probable classes (Figs. 15–18): correct
# predictions come with a clear margin, and many errors are between similar
# classes, with the true class still among the top five. This page draws the
# same panels from the saved test predictions of one model per dataset and
# counts how often the true class of a misclassified image is in its top five.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/qualitative.ipynb)

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
data_dir = None  # data root holding the test images (None: $GRESNET_DATA, else ./data)
run = None  # run directory name to show, e.g. "cifar10-resnet34-gated1-seed0" (None: best test accuracy per dataset)
examples = 10  # images per figure
sample_seed = 0  # seed of the random choice of images

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from gresnet import plots
from gresnet.data import is_present, load_cifar
from gresnet.results import (
    DATASET_LABELS, PREDICTION_FIGURES, describe_budget, load_classes, load_predictions, load_runs,
    missing_results_note,
)

plots.set_style()
runs = load_runs(results_dir)
display(Markdown(describe_budget(runs, profile_name)))

# %% [markdown]
# ## Which model
#
# Unless a run is named, each dataset's panels come from the model with the
# highest test accuracy in the results.

# %% tags=["hide-input"]
chosen = {}
for dataset in DATASET_LABELS:
    candidates = runs[runs["dataset"] == dataset]
    if run is not None:
        candidates = candidates[candidates["run"] == run]
    if not candidates.empty:
        chosen[dataset] = candidates.sort_values("top1", ascending=False).iloc[0]
if run is not None and not chosen:
    raise ValueError(f"run {run!r} is not a finished run in {results_dir}; "
                     f"valid choices: {', '.join(runs['run']) or 'none'}")
display(pd.DataFrame([
    {"dataset": DATASET_LABELS[d], "model": r["model"], "seed": r["seed"], "test accuracy": round(r["top1"], 4),
     "test images": r["test_images"]}
    for d, r in chosen.items()
]).set_index("dataset") if chosen else Markdown("No finished runs."))

# %% [markdown]
# ## Correct and incorrect predictions (Figs. 15–18)
#
# Each image stands beside its five most probable classes; the true class's
# bar is green and a wrong first choice red. For correct predictions one image
# per class is drawn at random (as many classes as fit); incorrect ones are a
# random sample of all errors.

# %% tags=["hide-input"]
def pick(predictions: pd.DataFrame, correct: bool) -> pd.DataFrame:
    pool = predictions[predictions["correct"] == correct]
    if correct:
        pool = pool.groupby("label", group_keys=False).sample(n=1, random_state=sample_seed)
    return pool.sample(n=min(examples, len(pool)), random_state=sample_seed).sort_values("label")


def show_predictions(number: int) -> None:
    dataset, correct = PREDICTION_FIGURES[number]
    kind = "Correctly" if correct else "Incorrectly"
    item = f"Fig. {number}"
    if dataset not in chosen:
        display(Markdown(missing_results_note(item, dataset, results_dir, profile_name, data_dir)))
        return
    if not (is_present(dataset, data_dir) or IN_COLAB):
        display(Markdown(f"**{item}** needs the {DATASET_LABELS[dataset]} test images, which were not under the "
                         f"data root when this page was rendered; place them there and render again."))
        return
    row = chosen[dataset]
    test = load_cifar(dataset, data_dir, download=IN_COLAB).test
    predictions = pick(load_predictions(row["run_dir"]), correct)
    title = f"Fig. {number}. {kind} classified, {DATASET_LABELS[dataset]} ({row['model']})"
    figure = plots.plot_predictions(test.images[predictions["index"].tolist()], predictions,
                                    load_classes(row["run_dir"]), title=title)
    display(figure)
    plt.close(figure)
    display(Markdown(f"**{item}.** {kind} classified examples on {DATASET_LABELS[dataset]}, "
                     f"{row['model']} seed {row['seed']}, with the top-5 probabilities."))


for number in PREDICTION_FIGURES:
    show_predictions(number)

# %% [markdown]
# ## How far off are the errors?
#
# For each shown model: the share of misclassified test images whose true
# class is still among the five most probable, the mean top-1 probability of
# correct and of incorrect predictions, and the most frequent confusions.

# %% tags=["hide-input"]
for dataset, row in chosen.items():
    predictions = load_predictions(row["run_dir"])
    classes = load_classes(row["run_dir"])
    wrong = predictions[~predictions["correct"]]
    in_top5 = (wrong[[f"top{k}_class" for k in range(2, 6)]].eq(wrong["label"], axis=0)).any(axis=1)
    display(Markdown(
        f"**{DATASET_LABELS[dataset]}, {row['model']}:** {len(wrong):,} of {len(predictions):,} test images "
        f"misclassified; the true class is in the top five for {in_top5.mean():.1%} of them. Mean top-1 "
        f"probability: {predictions.loc[predictions['correct'], 'top1_prob'].mean():.3f} when correct, "
        f"{wrong['top1_prob'].mean():.3f} when wrong."
    ))
    confusions = (wrong.assign(true=wrong["label"].map(lambda i: classes[i]),
                               predicted=wrong["top1_class"].map(lambda i: classes[i]))
                  .groupby(["true", "predicted"]).size().sort_values(ascending=False).head(8)
                  .rename("test images").to_frame())
    display(confusions)
