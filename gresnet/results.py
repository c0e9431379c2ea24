"""Finished run directories as tidy tables, and the paper's Tables I-IV as data.

Every loader reads the run directories that ``gresnet.training.train`` writes
(``<results>/<dataset>-<arch>-<variant>-seed<seed>/``) and skips unfinished
ones (no ``metrics.json``). The comparison helpers put our numbers beside the
values printed in Fahad and Ahmed, "Enhancing Image Classification with
Modified ResNet Architectures" (Missouri State University), with the
difference ours minus paper.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from . import files
from .config import RunConfig
from .data import is_present
from .text import plural
from .training import is_finished

PAPER = 'Fahad and Ahmed, "Enhancing Image Classification with Modified ResNet Architectures"'

ARCH_ORDER = ("resnet18", "resnet34")
VARIANT_ORDER = ("base", "gated1", "gated2")
DATASET_ORDER = ("cifar10", "cifar100")
DATASET_LABELS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}
ARCH_LABELS = {"resnet18": "ResNet-18", "resnet34": "ResNet-34"}
METRIC_LABELS = {
    "final_train_acc": "Train Acc", "final_val_acc": "Val Acc", "top1": "Accuracy", "top5": "Top 5 Acc",
    "precision": "Precision", "recall": "Recall", "f1": "F1-Score",
}

# Paper figure number -> (quantity, arch, dataset) of the training-curve figures.
CURVE_FIGURES = {
    5: ("accuracy", "resnet18", "cifar10"), 6: ("accuracy", "resnet18", "cifar100"),
    7: ("accuracy", "resnet34", "cifar10"), 8: ("accuracy", "resnet34", "cifar100"),
    9: ("loss", "resnet18", "cifar10"), 10: ("loss", "resnet18", "cifar100"),
    11: ("loss", "resnet34", "cifar10"), 12: ("loss", "resnet34", "cifar100"),
}
# Paper figure number -> arch of the gated1 λ distributions.
GATE_FIGURES = {13: "resnet18", 14: "resnet34"}
# Paper figure number -> (dataset, whether the examples are classified correctly).
PREDICTION_FIGURES = {15: ("cifar10", True), 16: ("cifar10", False), 17: ("cifar100", True), 18: ("cifar100", False)}

# Budget columns that must agree before runs are averaged over seeds.
BUDGET_COLUMNS = ("epochs", "train_images", "val_images", "test_images")


def model_name(arch: str, variant: str) -> str:
    """The paper's row label, e.g. ``Resnet18_gated1``."""
    return f"Resnet{arch.removeprefix('resnet')}_{variant}"


def _paper_rows(dataset: str, columns: tuple[str, ...], rows: list[tuple[float, ...]]) -> list[dict]:
    models = [(arch, variant) for arch in ARCH_ORDER for variant in VARIANT_ORDER]
    return [
        {"dataset": dataset, "arch": arch, "variant": variant, **dict(zip(columns, values))}
        for (arch, variant), values in zip(models, rows)
    ]


# Table I: final training and validation accuracy (validation: CIFAR-100 top-1).
PAPER_TABLE_I = pd.DataFrame(
    _paper_rows("cifar10", ("final_train_acc", "final_val_acc"), [
        (0.9649, 0.8720), (0.9497, 0.8696), (0.9686, 0.8714),
        (0.9440, 0.8690), (0.9542, 0.8716), (0.9507, 0.8670),
    ])
    + _paper_rows("cifar100", ("final_train_acc", "final_val_acc"), [
        (0.9545, 0.5545), (0.9538, 0.5506), (0.9307, 0.5467),
        (0.9556, 0.5550), (0.9531, 0.5425), (0.8010, 0.5663),
    ])
)

# Table II: CIFAR-10 test accuracy and macro precision, recall, F1.
PAPER_TABLE_II = pd.DataFrame(_paper_rows("cifar10", ("top1", "precision", "recall", "f1"), [
    (0.8647, 0.8647, 0.8647, 0.8645), (0.8581, 0.8586, 0.8581, 0.8583), (0.8612, 0.8613, 0.8612, 0.8611),
    (0.8626, 0.8630, 0.8626, 0.8628), (0.8709, 0.8716, 0.8709, 0.8710), (0.8635, 0.8637, 0.8635, 0.8635),
]))

# Table III: CIFAR-100 test top-1, top-5 and macro precision, recall, F1.
PAPER_TABLE_III = pd.DataFrame(_paper_rows("cifar100", ("top1", "top5", "precision", "recall", "f1"), [
    (0.5560, 0.8134, 0.5567, 0.5560, 0.5549), (0.5531, 0.8143, 0.5540, 0.5531, 0.5523),
    (0.5491, 0.8137, 0.5520, 0.5491, 0.5494), (0.5591, 0.8187, 0.5591, 0.5591, 0.5577),
    (0.5480, 0.8113, 0.5466, 0.5480, 0.5454), (0.5673, 0.8298, 0.5679, 0.5673, 0.5663),
]))

# Table IV: parameters (millions) and FLOPs (G, fvcore) of the 10-class models.
PAPER_TABLE_IV = pd.DataFrame(_paper_rows("cifar10", ("params_m", "gflops"), [
    (11.18, 1.82), (11.18, 1.82), (11.88, 1.92), (21.29, 3.67), (21.29, 3.67), (22.55, 3.88),
]))

PAPER_TABLES = {"I": PAPER_TABLE_I, "II": PAPER_TABLE_II, "III": PAPER_TABLE_III}
TABLE_DATASETS = {"I": DATASET_ORDER, "II": ("cifar10",), "III": ("cifar100",)}
TABLE_METRICS = {
    "I": ("final_train_acc", "final_val_acc"),
    "II": ("top1", "precision", "recall", "f1"),
    "III": ("top1", "top5", "precision", "recall", "f1"),
}


# --- loading run directories ------------------------------------------------


def find_runs(results_dir: str | Path) -> list[Path]:
    """Finished run directories directly under ``results_dir``, sorted by name.

    Raises:
        FileNotFoundError: ``results_dir`` does not exist.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(
            f"results directory {results_dir} not found; train models into it first "
            f"(python -m gresnet train --output {results_dir}) or pass the folder that holds the run directories"
        )
    return sorted(path for path in results_dir.iterdir() if path.is_dir() and is_finished(path))


def _sort_models(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort rows in the paper's order: dataset, arch, variant, then seed."""
    order = {
        "dataset": {name: i for i, name in enumerate(DATASET_ORDER)},
        "arch": {name: i for i, name in enumerate(ARCH_ORDER)},
        "variant": {name: i for i, name in enumerate(VARIANT_ORDER)},
    }
    keys = [column for column in ("dataset", "arch", "variant", "seed", "epoch") if column in frame]

    def sort_key(column: pd.Series) -> pd.Series:
        return column.map(order[column.name]) if column.name in order else column

    return frame.sort_values(keys, key=sort_key, kind="stable").reset_index(drop=True)


def load_runs(results_dir: str | Path) -> pd.DataFrame:
    """One row per finished run: its configuration, test metrics, budget and provenance.

    Columns: ``run``, every RunConfig field, ``model`` (the paper's row label),
    the scalar entries of ``metrics.json`` (top1, top5, precision, recall, f1,
    loss, final_train_acc, final_val_acc, epochs, train_images, val_images,
    test_images), and ``device_name``, ``torch``, ``git_commit``,
    ``wall_seconds`` from ``provenance.json``. An empty results directory
    gives an empty frame with these columns.
    """
    rows = []
    for run_dir in find_runs(results_dir):
        config = RunConfig.from_dict(files.read_json(run_dir / "config.json"))
        metrics = files.read_json(run_dir / "metrics.json")
        provenance_path = run_dir / "provenance.json"
        provenance = files.read_json(provenance_path) if provenance_path.is_file() else {}
        row = {"run": run_dir.name, "run_dir": str(run_dir), **config.to_dict()}
        row["model"] = model_name(config.arch, config.variant)
        row.update({key: value for key, value in metrics.items() if not isinstance(value, (list, dict))})
        # The config's epochs is the request; metrics' epochs is what was trained.
        row["epochs"] = metrics.get("epochs", config.epochs)
        row["device_name"] = provenance.get("device_name")
        row["torch"] = provenance.get("versions", {}).get("torch")
        row["git_commit"] = provenance.get("git_commit")
        row["wall_seconds"] = provenance.get("wall_seconds")
        rows.append(row)
    columns = ["run", "run_dir", *RunConfig().to_dict(), "model", "top1", "top5", "precision", "recall", "f1",
               "loss", "final_train_acc", "final_val_acc", "train_images", "val_images", "test_images",
               "device_name", "torch", "git_commit", "wall_seconds"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return _sort_models(frame)


def load_histories(results_dir: str | Path) -> pd.DataFrame:
    """Per-epoch curves of every finished run in long form.

    Columns: dataset, arch, variant, seed, epoch, split (``train`` or
    ``validation``), accuracy, loss. Training values are the means over the
    augmented batches of the epoch; validation values are measured after it.
    """
    parts = []
    for run_dir in find_runs(results_dir):
        config = files.read_json(run_dir / "config.json")
        history = pd.read_csv(run_dir / "history.csv")
        for split, prefix in (("train", "train"), ("validation", "val")):
            part = pd.DataFrame({
                "epoch": history["epoch"], "split": split,
                "accuracy": history[f"{prefix}_acc"], "loss": history[f"{prefix}_loss"],
            })
            for key in ("dataset", "arch", "variant", "seed"):
                part[key] = config[key]
            parts.append(part)
    columns = ["dataset", "arch", "variant", "seed", "epoch", "split", "accuracy", "loss"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return _sort_models(pd.concat(parts, ignore_index=True)[columns])


def load_gates(results_dir: str | Path) -> pd.DataFrame:
    """Learned gate values of every finished gated run, one row per channel.

    Columns: dataset, arch, variant, seed, block (module name, e.g.
    ``layer3.1``), block_index (0 = first block), stage (1-4), channels,
    channel, quantity and value. ``quantity`` is ``lambda`` for gated1 (the
    learned per-channel scale) and ``mean_gate`` for gated2 (the sigmoid gate
    averaged over a batch of validation images and positions).
    """
    rows = []
    for run_dir in find_runs(results_dir):
        path = run_dir / "gates.json"
        if not path.is_file():
            continue
        config = files.read_json(run_dir / "config.json")
        gates = files.read_json(path)
        for index, block in enumerate(gates.get("blocks", [])):
            if "lambda" in block:
                quantity, values = "lambda", block["lambda"]
            else:
                quantity, values = "mean_gate", block["mean_gate_per_channel"]
            stage = int(block["name"].removeprefix("layer").split(".")[0])
            for channel, value in enumerate(values):
                rows.append({
                    "dataset": config["dataset"], "arch": config["arch"], "variant": config["variant"],
                    "seed": config["seed"], "block": block["name"], "block_index": index, "stage": stage,
                    "channels": block["channels"], "channel": channel, "quantity": quantity, "value": value,
                })
    columns = ["dataset", "arch", "variant", "seed", "block", "block_index", "stage", "channels", "channel",
               "quantity", "value"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return _sort_models(pd.DataFrame(rows, columns=columns))


def load_predictions(run_dir: str | Path) -> pd.DataFrame:
    """Read the run's ``predictions.csv`` and add a ``correct`` column (top-1 class equals the label)."""
    predictions = pd.read_csv(Path(run_dir) / "predictions.csv")
    predictions["correct"] = predictions["top1_class"] == predictions["label"]
    return predictions


def load_classes(run_dir: str | Path) -> list[str]:
    """Class names in label order, as stored in the run's ``metrics.json``."""
    return list(files.read_json(Path(run_dir) / "metrics.json")["classes"])


# --- summaries and comparison with the paper ----------------------------------


def check_one_budget(runs: pd.DataFrame) -> None:
    """Raise ValueError if runs of one model were trained under different budgets."""
    for (dataset, arch, variant), group in runs.groupby(["dataset", "arch", "variant"], sort=False):
        for column in BUDGET_COLUMNS:
            if group[column].nunique() > 1:
                raise ValueError(
                    f"runs of {dataset} {arch} {variant} differ in {column} "
                    f"({sorted(group[column].unique().tolist())}); averaging them over seeds would mix budgets. "
                    f"Put runs of each budget in their own results directory."
                )


def summarise(runs: pd.DataFrame, metrics: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """Mean, standard deviation (ddof 1; NaN for one seed) and seed count per model.

    Returns one row per (dataset, arch, variant, metric) with columns
    ``mean``, ``std``, ``n`` and ``seeds``.
    """
    check_one_budget(runs)
    rows = []
    for (dataset, arch, variant), group in runs.groupby(["dataset", "arch", "variant"], sort=False):
        for metric in metrics:
            values = group[metric].astype(float)
            rows.append({
                "dataset": dataset, "arch": arch, "variant": variant, "model": model_name(arch, variant),
                "metric": metric, "mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else math.nan,
                "n": len(values), "seeds": ", ".join(str(seed) for seed in sorted(group["seed"])),
            })
    columns = ["dataset", "arch", "variant", "model", "metric", "mean", "std", "n", "seeds"]
    return _sort_models(pd.DataFrame(rows, columns=columns))


def compare_with_paper(runs: pd.DataFrame, table: str) -> pd.DataFrame:
    """Put our mean ± std beside the paper's value for one of Tables I-III.

    Args:
        runs: ``load_runs`` output.
        table: ``"I"``, ``"II"`` or ``"III"``.

    Returns:
        One row per (dataset, model, metric) that the paper reports, with
        ``paper``, ``mean``, ``std``, ``n`` and ``difference`` (mean - paper);
        our columns are NaN (and n 0) where no run exists.
    """
    if table not in PAPER_TABLES:
        raise ValueError(f"invalid table {table!r}; valid choices: {', '.join(PAPER_TABLES)}")
    metrics = TABLE_METRICS[table]
    paper = PAPER_TABLES[table].melt(
        id_vars=["dataset", "arch", "variant"], value_vars=list(metrics), var_name="metric", value_name="paper"
    )
    ours = summarise(runs, metrics)
    merged = paper.merge(ours.drop(columns="model"), on=["dataset", "arch", "variant", "metric"], how="left")
    merged["n"] = merged["n"].fillna(0).astype(int)
    merged["model"] = [model_name(a, v) for a, v in zip(merged["arch"], merged["variant"])]
    merged["difference"] = merged["mean"] - merged["paper"]
    columns = ["dataset", "arch", "variant", "model", "metric", "paper", "mean", "std", "n", "seeds", "difference"]
    return _sort_models(merged[columns])


def format_mean_std(mean: float, std: float, digits: int = 4) -> str:
    """``0.8647 ± 0.0012``; the mean alone for a single seed; an en dash for no value."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    if std is None or (isinstance(std, float) and math.isnan(std)):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def comparison_display(comparison: pd.DataFrame, dataset: str, digits: int = 4) -> pd.DataFrame:
    """Format one dataset's comparison: per model three rows (ours, paper, Δ), one column per metric.

    The ``n`` column (seeds behind our value) is filled on the ``ours`` rows.
    Stacking the three rows keeps the table narrow enough for a book page.

    Raises:
        ValueError: the comparison has no rows for ``dataset``.
    """
    part = comparison[comparison["dataset"] == dataset]
    if part.empty:
        raise ValueError(f"the comparison has no rows for dataset {dataset!r}; valid datasets: {sorted(set(comparison['dataset']))}")
    models = list(dict.fromkeys(part["model"]))
    metrics = list(dict.fromkeys(part["metric"]))
    rows = {}
    for model in models:
        by_metric = part[part["model"] == model].set_index("metric")
        ours, paper, delta = {}, {}, {}
        for metric in metrics:
            entry = by_metric.loc[metric]
            label = METRIC_LABELS.get(metric, metric)
            ours[label] = format_mean_std(entry["mean"], entry["std"], digits)
            paper[label] = f"{entry['paper']:.{digits}f}"
            delta[label] = "–" if math.isnan(entry["difference"]) else f"{entry['difference']:+.{digits}f}"
        ours["n"], paper["n"], delta["n"] = str(int(by_metric["n"].iloc[0])), "", ""
        rows[(model, "ours")], rows[(model, "paper")], rows[(model, "Δ")] = ours, paper, delta
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["model", ""])
    return table


# --- gated minus base ---------------------------------------------------------


def gated_minus_base(runs: pd.DataFrame) -> pd.DataFrame:
    """Compute test top-1 of each gated variant minus its base model, from the paper and from ``runs``.

    Returns one row per (dataset, arch, gated variant) of Tables II and III.
    ``paper_delta`` is the paper's difference and ``delta`` the difference of
    our seed means. ``std_error`` is sqrt(s_gated²/n_gated + s_base²/n_base),
    NaN unless both models have two seeds or more. ``n`` is the smaller seed
    count of the two models, 0 when either model has no run.
    """
    paper = pd.concat([PAPER_TABLE_II, PAPER_TABLE_III])
    ours = summarise(runs, ["top1"]).set_index(["dataset", "arch", "variant"])
    rows = []
    for (dataset, arch), group in paper.groupby(["dataset", "arch"], sort=False):
        paper_top1 = group.set_index("variant")["top1"]
        base_key = (dataset, arch, "base")
        for variant in VARIANT_ORDER[1:]:
            row = {"dataset": dataset, "arch": arch, "variant": variant,
                   "paper_delta": paper_top1[variant] - paper_top1["base"],
                   "delta": math.nan, "std_error": math.nan, "n": 0}
            key = (dataset, arch, variant)
            if key in ours.index and base_key in ours.index:
                gated, base = ours.loc[key], ours.loc[base_key]
                row["delta"] = gated["mean"] - base["mean"]
                row["n"] = int(min(gated["n"], base["n"]))
                if row["n"] >= 2:
                    row["std_error"] = math.sqrt(gated["std"] ** 2 / gated["n"] + base["std"] ** 2 / base["n"])
            rows.append(row)
    return pd.DataFrame(rows)


def _span(values: pd.Series, pattern: str) -> str:
    low, high = pattern.format(values.min()), pattern.format(values.max())
    return low if low == high else f"{low} to {high}"


def describe_gated_minus_base(deltas: pd.DataFrame, seeds_in_profile: int) -> str:
    """Write the Markdown paragraphs that read ``gated_minus_base`` output for the conclusions page.

    Args:
        deltas: ``gated_minus_base`` output.
        seeds_in_profile: how many seeds the ``cpu`` profile trains, named where no comparison has two.
    """
    paper_wins = int((deltas["paper_delta"] > 0).sum())
    paper_losses = int((deltas["paper_delta"] < 0).sum())
    lines = [
        f"In the paper's own tables a gated variant beats the base model in {paper_wins} of {len(deltas)} "
        f"comparisons and trails it in {paper_losses}; the largest gain is {deltas['paper_delta'].max():+.4f} and "
        f"the largest loss {deltas['paper_delta'].min():+.4f} in test accuracy. The paper reports one run per "
        f"model, so it gives no measure of how much of that is seed noise.",
    ]
    measured = deltas.dropna(subset=["delta"])
    if measured.empty:
        lines.append("No pair of gated and base runs is in the results, so this book has no Δ of its own yet.")
        return "\n\n".join(lines)
    wins = int((measured["delta"] > 0).sum())
    lines.append(
        f"In our runs a gated variant beats the base model in {wins} of {plural(len(measured), 'comparison')}, "
        f"with Δ from {measured['delta'].min():+.4f} to {measured['delta'].max():+.4f}."
    )
    seeded = measured.dropna(subset=["std_error"])
    if seeded.empty:
        lines.append(
            f"No comparison has two seeds of both its models yet, so these differences come without an error bar; "
            f"runs with several seeds (the `cpu` profile trains {seeds_in_profile}) are needed to tell them from "
            f"seed noise."
        )
        return "\n\n".join(lines)
    beyond = seeded["delta"].abs() > 2 * seeded["std_error"]
    if len(seeded) == 1:
        row = seeded.iloc[0]
        name = f"{ARCH_LABELS[row['arch']]} {row['variant']} on {DATASET_LABELS[row['dataset']]}"
        relation = "more" if beyond.iloc[0] else "less"
        finding = (
            f"One comparison has at least two seeds of both models: {name}, whose |Δ| of {abs(row['delta']):.4f} "
            f"is {relation} than twice its standard error of {row['std_error']:.4f}."
        )
    else:
        count = int(beyond.sum())
        finding = (
            f"Of the {len(seeded)} comparisons with at least two seeds of both models, {count} "
            f"{'has' if count == 1 else 'have'} |Δ| larger than twice its standard error (standard errors "
            f"{_span(seeded['std_error'], '{:.4f}')})."
        )
    lines.append(
        f"{finding} With {_span(seeded['n'], '{:.0f}')} seeds per model the standard error is itself uncertain, "
        f"so this separates Δ from seed noise only coarsely and is not a significance test."
    )
    return "\n\n".join(lines)


# --- the budget behind a set of results ---------------------------------------


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe_budget(runs: pd.DataFrame, profile_name: str | None = None) -> str:
    """Describe the budget behind ``runs`` in a Markdown paragraph.

    It names the profile, the models, epochs, training, validation and test
    image counts, seeds, the hardware and torch version from
    ``provenance.json``, and the summed training time.
    """
    if runs.empty:
        return "No finished runs were found, so this page shows no results of its own."
    check_one_budget(runs)
    source = f"the `{profile_name}` profile" if profile_name else "these runs"
    parts = []
    for dataset, group in runs.groupby("dataset", sort=False):
        def values(column: str) -> str:
            return _join([f"{int(value):,}" for value in sorted(group[column].unique())])

        seeds = sorted(group["seed"].unique())
        models = group.groupby(["arch", "variant"]).ngroups
        per_model = group.groupby(["arch", "variant"])["seed"].nunique()
        seeds_per_model = _join([str(n) for n in sorted(per_model.unique())])
        epochs = values("epochs")
        parts.append(
            f"{DATASET_LABELS.get(dataset, dataset)}: {plural(models, 'model')}, "
            f"{epochs} epoch{'' if epochs == '1' else 's'} on "
            f"{values('train_images')} training images, validation on {values('val_images')} held-out "
            f"training images, test on {values('test_images')} test images, "
            f"seed{'s' if len(seeds) > 1 else ''} {_join([str(s) for s in seeds])} "
            f"({seeds_per_model} seed{'' if seeds_per_model == '1' else 's'} per model)"
        )
    devices = _join(sorted({str(name) for name in runs["device_name"].dropna()})) or "unrecorded hardware"
    versions = _join(sorted({str(v) for v in runs["torch"].dropna()}))
    seconds = runs["wall_seconds"].fillna(0).sum()
    duration = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
    return (
        f"**Budget.** Results from {source}, {plural(len(runs), 'run')}. "
        + "; ".join(parts) + ". "
        f"Hardware: {devices}" + (f", torch {versions}" if versions else "") + ". "
        f"Total training time {duration}. The paper trained every model for 100 epochs on the "
        f"CIFAR training set, so differences from the paper reflect this budget as much as the models."
    )


def missing_results_note(item: str, dataset: str, results_dir: str | Path, profile_name: str | None = None,
                         data_dir: str | Path | None = None, arch: str | None = None,
                         variant: str | None = None) -> str:
    """Write the Markdown placeholder for a figure or table whose runs are missing, with the command that fills it.

    Args:
        item: what is missing, with the paper's number (e.g. ``"Fig. 6"``).
        dataset: the dataset the item needs.
        results_dir: where the runs were looked for.
        profile_name: the profile to name in the command (default ``cpu``).
        data_dir: the data root checked for the dataset's files.
        arch: the network the item needs, if only one.
        variant: the skip connection the item needs, if only one (e.g. ``gated1``).
    """
    label = DATASET_LABELS.get(dataset, dataset)
    needed = [ARCH_LABELS.get(arch, arch)] if arch else []
    if variant:
        needed.append(variant.capitalize())
    runs = " ".join([*needed, label])
    folder = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}.get(dataset, dataset)
    command = f"python -m gresnet reproduce --profile {profile_name or 'cpu'}"
    if is_present(dataset, data_dir):
        return (
            f"**{item}** is not reproduced here yet: no finished {runs} runs are in `{results_dir}`. To fill it "
            f"in, run `{command}`, which resumes the training grid and skips the runs already finished."
        )
    return (
        f"**{item}** is not reproduced here: no finished {runs} runs are in `{results_dir}`, and the {label} "
        f"files were not under the data root of the machine that rendered this page. To fill it in, place "
        f"`{folder}/` under the data root and run `{command}`."
    )
