"""Gated-minus-base comparison on hand-written run tables."""

import math

import pandas as pd
import pytest

from gresnet.results import describe_gated_minus_base, gated_minus_base, load_runs


def _runs(top1_by_model: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = []
    for (arch, variant), values in top1_by_model.items():
        for seed, top1 in enumerate(values):
            rows.append({"dataset": "cifar10", "arch": arch, "variant": variant, "seed": seed, "top1": top1,
                         "epochs": 10, "train_images": 45000, "val_images": 5000, "test_images": 10000})
    columns = ["dataset", "arch", "variant", "seed", "top1", "epochs", "train_images", "val_images", "test_images"]
    return pd.DataFrame(rows, columns=columns)


def _row(deltas: pd.DataFrame, arch: str, variant: str, dataset: str = "cifar10") -> pd.Series:
    match = deltas[(deltas["dataset"] == dataset) & (deltas["arch"] == arch) & (deltas["variant"] == variant)]
    assert len(match) == 1
    return match.iloc[0]


def test_delta_and_standard_error_from_seeds():
    runs = _runs({("resnet18", "base"): [0.70, 0.72], ("resnet18", "gated1"): [0.75, 0.79],
                  ("resnet34", "base"): [0.60], ("resnet34", "gated2"): [0.61]})
    deltas = gated_minus_base(runs)
    assert len(deltas) == 8, "two gated variants × two networks × two datasets"

    gated1 = _row(deltas, "resnet18", "gated1")
    assert gated1["delta"] == pytest.approx(0.77 - 0.71)
    assert gated1["n"] == 2
    base_var, gated_var = 0.02 ** 2 / 2, 0.04 ** 2 / 2
    assert gated1["std_error"] == pytest.approx(math.sqrt(base_var / 2 + gated_var / 2))
    assert gated1["paper_delta"] == pytest.approx(0.8581 - 0.8647)

    single = _row(deltas, "resnet34", "gated2")
    assert single["delta"] == pytest.approx(0.01)
    assert single["n"] == 1
    assert math.isnan(single["std_error"])

    absent = _row(deltas, "resnet18", "gated2")
    assert absent["n"] == 0
    assert math.isnan(absent["delta"])
    assert _row(deltas, "resnet34", "gated1", "cifar100")["n"] == 0


def test_description_without_error_bars():
    deltas = gated_minus_base(_runs({("resnet18", "base"): [0.70], ("resnet18", "gated1"): [0.69]}))
    text = describe_gated_minus_base(deltas, seeds_in_profile=2)
    assert "In the paper's own tables a gated variant beats the base model in 3 of 8 comparisons" in text
    assert "beats the base model in 0 of 1 comparison, with Δ from -0.0100 to -0.0100" in text
    assert "No comparison has two seeds of both its models yet" in text
    assert "the `cpu` profile trains 2" in text


def test_description_names_single_seeded_comparison():
    deltas = gated_minus_base(_runs({("resnet18", "base"): [0.70, 0.72], ("resnet18", "gated1"): [0.75, 0.79]}))
    text = describe_gated_minus_base(deltas, seeds_in_profile=2)
    assert "One comparison has at least two seeds of both models: ResNet-18 gated1 on CIFAR-10" in text
    assert "|Δ| of 0.0600 is more than twice its standard error of 0.0224" in text
    assert "With 2 seeds per model" in text


def test_description_counts_seeded_comparisons():
    deltas = gated_minus_base(_runs({
        ("resnet18", "base"): [0.70, 0.72, 0.71], ("resnet18", "gated1"): [0.75, 0.79, 0.77],
        ("resnet18", "gated2"): [0.70, 0.73],
    }))
    text = describe_gated_minus_base(deltas, seeds_in_profile=2)
    assert "Of the 2 comparisons with at least two seeds of both models, 1 has |Δ| larger than twice" in text
    assert "With 2 to 3 seeds per model" in text


def test_description_without_runs(tmp_path):
    empty = load_runs(tmp_path)
    text = describe_gated_minus_base(gated_minus_base(empty), seeds_in_profile=2)
    assert "No pair of gated and base runs is in the results" in text
