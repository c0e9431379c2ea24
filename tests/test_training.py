import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from gresnet.config import RunConfig
from gresnet.provenance import device_description
from gresnet.training import NonFiniteLossError, RunConfigMismatchError, train

REPO = Path(__file__).resolve().parent.parent
# A few hundred real images keep each epoch to a few seconds on 2 CPU cores.
TINY = dict(train_subset=320, val_size=200, test_subset=200, batch_size=64)
COMPARED_COLUMNS = ["epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc"]


def test_short_run_lowers_loss_and_writes_run_dir(cifar10, tmp_path):
    config = RunConfig(arch="resnet18", variant="gated2", epochs=3, augmentation="none", **TINY)
    result = train(config, tmp_path, data=cifar10, progress=False)
    history = result.history
    assert list(history["epoch"]) == [1, 2, 3]
    assert history["train_loss"].iloc[-1] < 0.8 * history["train_loss"].iloc[0]
    assert history["train_images_per_second"].min() > 0

    run_dir = tmp_path / "cifar10-resnet18-gated2-seed0"
    assert result.run_dir == run_dir
    for name in ("config.json", "history.csv", "metrics.json", "gates.json", "predictions.csv",
                 "provenance.json", "checkpoint.pt"):
        assert (run_dir / name).is_file(), name

    metrics = result.metrics
    assert metrics["test_images"] == 200 and metrics["train_images"] == 320
    assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0
    assert len(metrics["confusion_matrix"]) == 10
    assert sum(map(sum, metrics["confusion_matrix"])) == 200
    assert metrics["final_train_acc"] == pytest.approx(history["train_acc"].iloc[-1])

    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert len(predictions) == 200
    assert (predictions["top1_prob"] >= predictions["top5_prob"]).all()
    assert (predictions["top1_class"] == predictions["top1_class"].astype(int)).all()
    top1 = (predictions["top1_class"] == predictions["label"]).mean()
    assert top1 == pytest.approx(metrics["top1"])
    # Row "index" is the image's position in the official test set.
    assert torch.equal(torch.tensor(predictions["label"].to_numpy(copy=True)), cifar10.test.labels[predictions["index"].to_numpy(copy=True)])

    gates = (run_dir / "gates.json").read_text()
    assert '"mean_gate"' in gates

    again = train(config, tmp_path, data=cifar10, progress=False)
    assert again.trained is False
    assert again.metrics == metrics


def test_finished_run_with_other_config_is_rejected(cifar10, tmp_path):
    config = RunConfig(epochs=1, **TINY)
    train(config, tmp_path, data=cifar10, progress=False)
    with pytest.raises(RunConfigMismatchError, match=r"'epochs': \(1, 2\)"):
        train(config.replace(epochs=2), tmp_path, data=cifar10, progress=False)


def _start_cli_run(output: Path, data_root: Path, epochs: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gresnet", "train", "--epochs", str(epochs), "--augmentation", "heavy",
               "--precision", "float32", "--no-progress", "--data-dir", str(data_root), "--output", str(output)]
    for key, value in TINY.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _kill_after_epochs(process: subprocess.Popen, history: Path, epochs: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if history.is_file() and len(history.read_text().splitlines()) > epochs:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail(f"training exited before it was killed:\n{process.stdout.read()}")
        time.sleep(0.05)
    process.kill()
    pytest.fail("training did not reach the epoch to kill it at")


def test_killed_run_resumes_to_same_weights(cifar10_root, tmp_path):
    run_name = "cifar10-resnet18-base-seed0"
    straight = _start_cli_run(tmp_path / "straight", cifar10_root, epochs=3)
    assert straight.wait(timeout=600) == 0, straight.stdout.read()

    killed = _start_cli_run(tmp_path / "resumed", cifar10_root, epochs=3)
    _kill_after_epochs(killed, tmp_path / "resumed" / run_name / "history.csv", epochs=1)
    assert not (tmp_path / "resumed" / run_name / "metrics.json").exists()
    resumed = _start_cli_run(tmp_path / "resumed", cifar10_root, epochs=3)
    output, _ = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output
    assert "resuming after epoch" in output

    a = torch.load(tmp_path / "straight" / run_name / "checkpoint.pt", weights_only=False)
    b = torch.load(tmp_path / "resumed" / run_name / "checkpoint.pt", weights_only=False)
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    history_a = pd.read_csv(tmp_path / "straight" / run_name / "history.csv")[COMPARED_COLUMNS]
    history_b = pd.read_csv(tmp_path / "resumed" / run_name / "history.csv")[COMPARED_COLUMNS]
    pd.testing.assert_frame_equal(history_a, history_b)


def test_non_finite_loss_names_epoch_and_keeps_progress(cifar10_root, cifar10, tmp_path):
    run_dir = tmp_path / "cifar10-resnet18-base-seed0"
    process = _start_cli_run(tmp_path, cifar10_root, epochs=3)
    _kill_after_epochs(process, run_dir / "history.csv", epochs=1)

    # Poison one weight of the saved epoch-1 state so epoch 2 diverges at its first step.
    state = torch.load(run_dir / "checkpoint.pt", weights_only=False)
    state["model"]["fc.bias"][0] = math.nan
    torch.save(state, run_dir / "checkpoint.pt")

    config = RunConfig(epochs=3, augmentation="heavy", precision="float32", **TINY)
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, step 1\b") as error:
        train(config, tmp_path, data=cifar10, progress=False)
    assert str(run_dir) in str(error.value)
    assert len(pd.read_csv(run_dir / "history.csv")) == 1
    assert len(torch.load(run_dir / "checkpoint.pt", weights_only=False)["history"]) == 1


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("variant", "gated9", "invalid variant 'gated9'; valid choices: base, gated1, gated2"),
        ("epochs", -1, "epochs must be >= 1, got -1"),
        ("lr", float("nan"), "lr must be a finite number"),
        ("lr", "0.1", "lr must be a finite number, got '0.1'"),
        ("optimizer", "rmsprop", "invalid optimizer 'rmsprop'; valid choices: sgd, adam, adamw"),
        ("momentum", 1.0, r"momentum must be in \[0, 1\)"),
        ("train_subset", 0, "train_subset must be >= 1"),
    ],
)
def test_config_rejects_invalid(field, value, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**{field: value})


@pytest.mark.parametrize(
    "args,message",
    [
        (["--variant", "gated9"], "argument --variant: invalid choice: 'gated9'"),
        (["--arch", "resnet50"], "argument --arch: invalid choice: 'resnet50'"),
        (["--epochs", "-3"], "argument --epochs: must be >= 1, got -3"),
        (["--lr", "fast"], "argument --lr: invalid number 'fast'"),
    ],
)
def test_cli_rejects_invalid_with_one_line(args, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "gresnet", "train", *args, "--output", str(tmp_path)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not any(tmp_path.iterdir()), "an invalid command must not create a run directory"


def test_cli_missing_data_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gresnet", "train", "--data-dir", str(tmp_path / "nowhere"),
                             "--output", str(tmp_path / "runs")], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "cifar-10-batches-py does not exist" in result.stderr and "GRESNET_DATA" in result.stderr


def test_cli_help_lists_units_and_defaults():
    result = subprocess.run([sys.executable, "-m", "gresnet", "train", "--help"], cwd=REPO, capture_output=True,
                            text=True)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for fragment in ("--batch-size", "images per training step (default: 64)", "learning rate (default: 0.001055)",
                     "training epochs (default: 100)", "--train-subset", "--precision"):
        assert fragment in text, fragment


def test_cli_data_check_reports_both_datasets(cifar10_root):
    result = subprocess.run([sys.executable, "-m", "gresnet", "data", "check", "--data-dir", str(cifar10_root)],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "cifar10: ok" in result.stdout
    assert result.stdout.count("matches") == 4
    assert "cifar100: missing" in result.stdout


@pytest.mark.parametrize("threads, expected", [(1, "1 torch thread"), (2, "2 torch threads")])
def test_cpu_description_counts_threads(threads, expected):
    default_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        description = device_description(torch.device("cpu"))
    finally:
        torch.set_num_threads(default_threads)
    assert description.endswith(f", {expected}")
    assert f"{os.cpu_count()} logical CPUs" in description
