"""The training-speed benchmark: a tiny real run of its command line, and the plain loop's data path.

No test asserts a speed: timings on a shared machine vary too much. The
tests check that every table row is there, and that the numbers are
positive and in range.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "train_speed.py"
LOOPS = ("gresnet", "plain")

# A few steps of every measurement; one thread keeps it quick on a machine shared with other work.
TINY_RUN = [
    "--archs", "resnet18", "--variants", "base", "gated2",
    "--batch-size", "16", "--steps", "2", "--warmup", "1", "--repeats", "2",
    "--eval-images", "40", "--eval-batch-size", "20", "--workers", "1", "--threads", "1",
    "--peak-size", "256",
    "--accuracy-epochs", "1", "--accuracy-images", "48", "--accuracy-val-images", "20", "--accuracy-seeds", "2",
]


def _run_script(*args: str, data_root: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), *args]
    if data_root is not None:
        command += ["--data-dir", str(data_root)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def tiny_run_dir(cifar10_root, tmp_path_factory) -> Path:
    results_dir = tmp_path_factory.mktemp("benchmark")
    finished = _run_script(*TINY_RUN, "--results-dir", str(results_dir), data_root=cifar10_root)
    assert finished.returncode == 0, finished.stderr[-3000:]
    return results_dir


@pytest.fixture(scope="module")
def tiny_results(tiny_run_dir) -> tuple[dict, str]:
    result = json.loads((tiny_run_dir / "latest.json").read_text())
    markdown = (tiny_run_dir / "latest.md").read_text()
    return result, markdown


def test_json_has_one_row_per_model(tiny_results):
    result, _ = tiny_results
    rows = [(model["arch"], model["variant"], model["threads"]) for model in result["models"]]
    assert rows == [("resnet18", "base", 1), ("resnet18", "gated2", 1)]


def test_json_speeds_are_positive(tiny_results):
    result, _ = tiny_results
    for model in result["models"]:
        assert model["forward_flops"] > 0
        assert model["speedup"]["train"] > 0
        assert model["speedup"]["eval"] > 0
        for loop in LOOPS:
            entry = model["loops"][loop]
            assert len(entry["train_images_per_second"]["values"]) == 2
            assert all(rate > 0 for rate in entry["train_images_per_second"]["values"])
            assert all(rate > 0 for rate in entry["eval_images_per_second"]["values"])
            assert entry["mfu"] > 0


def test_json_flops_follow_fvcore_count(tiny_results):
    result, _ = tiny_results
    flops = {model["variant"]: model["forward_flops"] for model in result["models"]}
    # fvcore at 32×32, one multiply-add per FLOP: the gate convolutions add Σ C² · H · W.
    assert flops["base"] == 37_118_464
    assert flops["gated2"] == 39_215_616
    for model in result["models"]:
        assert model["train_flops_per_image"] == 6 * model["forward_flops"]


def test_json_records_precision_and_peaks(tiny_results):
    result, _ = tiny_results
    model = result["models"][0]
    assert model["loops"]["plain"]["precision"] == "float32"
    assert model["loops"]["gresnet"]["precision"] == result["gresnet_precision"]
    peaks = result["peak"]["flops_per_second"]["1"]
    assert peaks["float32"] > 0
    assert peaks["bfloat16"] > 0
    assert result["settings"]["threads"] == [1]
    assert result["device"] == "cpu"


def test_json_accuracy_comparison(tiny_results):
    result, _ = tiny_results
    accuracy = result["accuracy"]
    assert accuracy["seeds"] == [0, 1]
    for loop in LOOPS:
        values = [run["val_acc"] for run in accuracy["runs"][loop]]
        assert len(values) == 2
        assert all(0.0 <= value <= 1.0 for value in values)
        assert all(run["train_images_per_second"] > 0 for run in accuracy["runs"][loop])
    assert accuracy["noise"] >= 0
    assert isinstance(accuracy["within_noise"], bool)
    expected = np.mean([r["val_acc"] for r in accuracy["runs"]["gresnet"]]) - np.mean(
        [r["val_acc"] for r in accuracy["runs"]["plain"]])
    assert accuracy["difference"] == pytest.approx(expected)


def test_markdown_has_table_rows(tiny_results):
    _, markdown = tiny_results
    assert "| model | threads | loop | precision | train images/s | train speed-up |" in markdown
    for variant in ("base", "gated2"):
        assert f"| ResNet-18 {variant} | 1 | gresnet | " in markdown
        assert f"| ResNet-18 {variant} | 1 | plain PyTorch | float32 |" in markdown
    assert "Each segment times 2 training steps after 1 untimed ones." in markdown
    assert "fvcore counts one multiply-add as one FLOP" in markdown
    assert "| gresnet | " in markdown
    assert "| plain PyTorch | " in markdown
    assert "Within noise" in markdown


def test_report_renders_markdown_again(tiny_run_dir, tiny_results):
    _, markdown = tiny_results
    (tiny_run_dir / "latest.md").unlink()
    finished = subprocess.run([sys.executable, str(REPO / "benchmarks" / "report.py"), "--results-dir",
                               str(tiny_run_dir)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert (tiny_run_dir / "latest.md").read_text() == markdown


def test_profile_lists_phases(cifar10_root, tmp_path):
    finished = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "profile_epoch.py"), "--steps", "3", "--threads", "1",
         "--device", "cpu", "--data-dir", str(cifar10_root), "--results-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    text = (tmp_path / "profile-resnet18-base.md").read_text()
    assert "192 images in batches of 64" in text
    for phase in ("augmentation", "forward", "backward", "optimizer", "other (loop, loss, bookkeeping)"):
        assert f"| {phase} | " in text
    assert "| `aten::convolution_backward` | 60 | " in text


def test_cli_rejects_zero_steps():
    finished = _run_script("--steps", "0")
    assert finished.returncode == 2
    assert "--steps" in finished.stderr
    assert "must be >= 1, got 0" in finished.stderr


def test_cli_help_lists_options():
    finished = _run_script("--help")
    assert finished.returncode == 0
    for option in ("--archs", "--variants", "--batch-size", "--steps", "--repeats", "--quick", "--device", "--threads"):
        assert option in finished.stdout


def test_plain_dataset_returns_same_pixels(cifar10):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import plain_loop

    images, labels = cifar10.train.images[:8], cifar10.train.labels[:8]
    dataset = plain_loop.ArrayCifar(images, labels)
    for index in range(8):
        image, label = dataset[index]
        assert image.size == (32, 32)
        assert np.array_equal(np.asarray(image), images[index].permute(1, 2, 0).numpy())
        assert label == int(labels[index])


def test_plain_eval_transform_matches_batch_transform(cifar10):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import plain_loop
    from gresnet.augment import BatchTransform
    from gresnet.data import channel_stats

    images, labels = cifar10.train.images[:8], cifar10.train.labels[:8]
    mean, std = channel_stats(cifar10.train.images[:1000])
    dataset = plain_loop.ArrayCifar(images, labels, plain_loop.eval_transform(mean, std))
    plain = torch.stack([dataset[index][0] for index in range(8)])
    batched = BatchTransform("standard", mean, std)(images, train=False)
    torch.testing.assert_close(plain, batched, rtol=0, atol=1e-5)
