"""Figures of the book: training curves, gate distributions, top-5 predictions.

Every function takes the tidy tables of ``gresnet.results`` and returns a
matplotlib Figure sized for a book page about 8 inches wide.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from .results import ARCH_LABELS, DATASET_LABELS, VARIANT_ORDER

PAGE_WIDTH = 8.0  # inches; about the text width of a Jupyter Book page at 100 dpi
VARIANT_COLORS = dict(zip(VARIANT_ORDER, sns.color_palette("colorblind", 3)))
SPLIT_STYLES = {"train": "", "validation": (4, 2)}
QUANTITY_LABELS = {"accuracy": "accuracy", "loss": "cross-entropy loss", "lambda": "learned λ",
                   "mean_gate": "mean gate σ(W s + b)"}


def set_style() -> None:
    """Seaborn's whitegrid theme with fonts readable at book width."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.autolayout": False})


def plot_curves(histories: pd.DataFrame, dataset: str, arch: str, quantity: str = "accuracy",
                title: str | None = None) -> Figure:
    """Training and validation ``quantity`` by epoch for every variant of one model.

    Args:
        histories: ``gresnet.results.load_histories`` output.
        dataset, arch: which runs to draw.
        quantity: ``"accuracy"`` or ``"loss"``.
        title: figure title; default names the model and dataset.

    Solid lines are training values, dashed lines validation values; with
    several seeds the line is the mean and the band one standard deviation.
    """
    if quantity not in ("accuracy", "loss"):
        raise ValueError(f"invalid quantity {quantity!r}; valid choices: accuracy, loss")
    data = histories[(histories["dataset"] == dataset) & (histories["arch"] == arch)]
    if data.empty:
        raise ValueError(f"no training history for {dataset} {arch}")
    variants = [v for v in VARIANT_ORDER if v in set(data["variant"])]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.6), layout="constrained")
    sns.lineplot(
        data=data, x="epoch", y=quantity, hue="variant", hue_order=variants, palette=VARIANT_COLORS,
        style="split", style_order=list(SPLIT_STYLES), dashes=SPLIT_STYLES, markers=True,
        errorbar="sd", ax=ax,
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel(QUANTITY_LABELS[quantity])
    epochs = sorted(data["epoch"].unique())
    if len(epochs) <= 20:
        ax.set_xticks(epochs)
    ax.set_title(title or f"{ARCH_LABELS.get(arch, arch)}, {DATASET_LABELS.get(dataset, dataset)}")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def plot_gate_distribution(gates: pd.DataFrame, arch: str, quantity: str = "lambda",
                           title: str | None = None) -> Figure:
    """Per-block distribution of learned gate values over channels (and seeds).

    Args:
        gates: ``gresnet.results.load_gates`` output.
        arch: which network to draw.
        quantity: ``"lambda"`` (gated1) or ``"mean_gate"`` (gated2).
        title: figure title; default names the network.

    One box per block in forward order, split by dataset where several are
    present. A dotted line marks λ = 1 (the plain ResNet block) for gated1.
    """
    if quantity not in ("lambda", "mean_gate"):
        raise ValueError(f"invalid quantity {quantity!r}; valid choices: lambda, mean_gate")
    data = gates[(gates["arch"] == arch) & (gates["quantity"] == quantity)].copy()
    if data.empty:
        raise ValueError(f"no {quantity} gates for {arch}")
    data["dataset"] = data["dataset"].map(lambda name: DATASET_LABELS.get(name, name))
    blocks = list(data.sort_values("block_index")["block"].unique())
    datasets = list(dict.fromkeys(data["dataset"]))
    height = 3.4 if len(blocks) <= 8 else 3.8
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, height), layout="constrained")
    sns.boxplot(
        data=data, x="block", y="value", order=blocks, hue="dataset" if len(datasets) > 1 else None,
        color=sns.color_palette("colorblind")[0], fliersize=2, linewidth=0.8, ax=ax,
    )
    if quantity == "lambda":
        ax.axhline(1.0, color="0.3", linestyle=":", linewidth=1)
    ax.set_xlabel("block (stage.index)")
    ax.set_ylabel(QUANTITY_LABELS[quantity])
    ax.set_xticks(range(len(blocks)))
    ax.set_xticklabels([block.removeprefix("layer") for block in blocks], rotation=0)
    ax.set_title(title or ARCH_LABELS.get(arch, arch))
    return fig


def _to_hwc(image) -> np.ndarray:
    array = np.asarray(image)
    return array.transpose(1, 2, 0) if array.shape[0] == 3 else array


def plot_predictions(images, predictions: pd.DataFrame, classes: list[str], title: str | None = None,
                     columns: int = 2) -> Figure:
    """Test images beside bars of their top-5 predicted probabilities.

    Args:
        images: uint8 images (N, 3, H, W) in the order of ``predictions``' rows.
        predictions: rows of ``gresnet.results.load_predictions`` (label,
            top1_class..top5_class, top1_prob..top5_prob).
        classes: class names in label order.
        title: figure title.
        columns: examples per row.

    The true class's bar is green; a wrong top-1 prediction's bar is red.
    """
    count = len(predictions)
    if count == 0:
        raise ValueError("no predictions to draw")
    if len(images) != count:
        raise ValueError(f"got {len(images)} images for {count} predictions")
    rows = int(np.ceil(count / columns))
    fig = plt.figure(figsize=(PAGE_WIDTH, 1.45 * rows + (0.4 if title else 0)), layout="constrained")
    grid = fig.add_gridspec(rows, 2 * columns, width_ratios=[1, 2.4] * columns)
    palette = sns.color_palette("colorblind")
    for position, (image, (_, row)) in enumerate(zip(images, predictions.iterrows())):
        r, c = divmod(position, columns)
        image_ax = fig.add_subplot(grid[r, 2 * c])
        image_ax.imshow(_to_hwc(image), interpolation="nearest")
        image_ax.set_axis_off()
        image_ax.set_title(f"true: {classes[int(row['label'])]}", fontsize=8)

        bar_ax = fig.add_subplot(grid[r, 2 * c + 1])
        ranks = [k for k in range(1, 6) if f"top{k}_class" in row]
        names = [classes[int(row[f"top{k}_class"])] for k in ranks]
        probabilities = [float(row[f"top{k}_prob"]) for k in ranks]
        colors = []
        for k in ranks:
            predicted = int(row[f"top{k}_class"])
            if predicted == int(row["label"]):
                colors.append(palette[2])
            elif k == 1:
                colors.append(palette[3])
            else:
                colors.append("0.7")
        positions = np.arange(len(ranks))
        bar_ax.barh(positions, probabilities, color=colors)
        bar_ax.set_yticks(positions)
        bar_ax.set_yticklabels(names, fontsize=8)
        bar_ax.invert_yaxis()
        bar_ax.set_xlim(0, 1)
        bar_ax.tick_params(axis="x", labelsize=7)
        bar_ax.grid(axis="y", visible=False)
    if title:
        fig.suptitle(title)
    return fig
