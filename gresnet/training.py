"""Training loop with per-epoch checkpoints, exact resume and a run directory.

A run directory ``<output>/<dataset>-<arch>-<variant>-seed<seed>/`` holds:

* ``config.json``      the resolved RunConfig
* ``history.csv``      one row per finished epoch
* ``checkpoint.pt``    model, optimiser and schedule state after the last epoch
* ``metrics.json``     test metrics (written last: its presence marks a finished run)
* ``gates.json``       the learned gates (``gresnet.models.read_gates``)
* ``predictions.csv``  top-5 classes and probabilities per test image
* ``provenance.json``  package versions, device, git commit, wall time

Randomness is drawn from generators seeded by (seed, epoch), so a run resumed
from the checkpoint of epoch k replays epochs k+1... exactly as an
uninterrupted run would.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from . import files
from .augment import BatchTransform
from .config import RunConfig
from .data import Cifar, channel_stats, load_cifar, stratified_split, stratified_subset
from .evaluation import autocast_context, classification_metrics, predict, prediction_table, accuracy
from .models import build_model, read_gates
from .provenance import provenance
from .runtime import resolve_device, resolve_precision

log = logging.getLogger("gresnet")

HISTORY_COLUMNS = [
    "epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds", "train_images_per_second",
]
GATE_BATCH = 256  # validation images used to measure input-dependent gates
_LOSS_CHECK_INTERVAL = 20  # steps between host syncs that check the loss is finite


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite."""

    def __init__(self, epoch: int, step: int, value: float, run_dir: Path | None) -> None:
        kept = f"; the checkpoint of the last finished epoch is kept in {run_dir}" if run_dir is not None else ""
        super().__init__(
            f"training loss became {value} at epoch {epoch}, step {step}{kept}. "
            f"Lower the learning rate or use --precision float32."
        )
        self.epoch, self.step, self.value = epoch, step, value


class RunConfigMismatchError(ValueError):
    """A run directory already holds a run with a different configuration."""


@dataclass
class RunResult:
    run_dir: Path
    config: RunConfig
    history: pd.DataFrame
    metrics: dict
    trained: bool  # False when the finished run was only read back from disk


def _epoch_seed(seed: int, epoch: int) -> int:
    return seed * 1_000_003 + epoch


def _make_optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)


def _make_schedule(config: RunConfig, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LRScheduler:
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)


def load_result(run_dir: str | Path) -> RunResult:
    """Read a finished run directory back."""
    run_dir = Path(run_dir)
    config = RunConfig.from_dict(files.read_json(run_dir / "config.json"))
    history = pd.read_csv(run_dir / "history.csv")
    metrics = files.read_json(run_dir / "metrics.json")
    return RunResult(run_dir, config, history, metrics, trained=False)


def is_finished(run_dir: str | Path) -> bool:
    return (Path(run_dir) / "metrics.json").is_file()


def _check_existing(run_dir: Path, config: RunConfig) -> None:
    path = run_dir / "config.json"
    if not path.is_file():
        return
    saved = files.read_json(path)
    if saved != config.to_dict():
        diff = {k: (saved.get(k), v) for k, v in config.to_dict().items() if saved.get(k) != v}
        raise RunConfigMismatchError(
            f"{run_dir} already holds a run with a different configuration (field: (saved, requested)) {diff}; "
            f"choose another output directory or delete {run_dir}"
        )


@dataclass
class _Setup:
    device: torch.device
    autocast_dtype: torch.dtype | None
    data: Cifar
    train_idx: Tensor
    val_idx: Tensor
    test_idx: Tensor
    transform: BatchTransform
    train_images: Tensor  # uint8 images of the official training split, on the device where batches are gathered
    train_labels: Tensor


def _prepare(config: RunConfig, data_dir, data: Cifar | None, download: bool) -> _Setup:
    device = resolve_device(config.device)
    autocast_dtype = resolve_precision(config.precision, device)
    if data is None:
        data = load_cifar(config.dataset, data_dir, download=download)
    elif data.name != config.dataset:
        raise ValueError(f"data holds {data.name}, but the config asks for {config.dataset}")
    train_idx, val_idx = stratified_split(data.train.labels, config.val_size, seed=0)
    if config.train_subset is not None:
        train_idx = stratified_subset(train_idx, data.train.labels, config.train_subset, seed=config.seed)
    test_idx = torch.arange(len(data.test))
    if config.test_subset is not None:
        test_idx = stratified_subset(test_idx, data.test.labels, config.test_subset, seed=0)
    mean, std = channel_stats(data.train.images[train_idx])
    transform = BatchTransform(config.augmentation, mean, std, channels_last=True)
    return _Setup(device, autocast_dtype, data, train_idx, val_idx, test_idx, transform,
                  data.train.images.to(device), data.train.labels.to(device))


def _build(config: RunConfig, setup: _Setup) -> tuple[nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    torch.manual_seed(config.seed)
    model = build_model(config.arch, config.variant, setup.data.num_classes)
    model = model.to(setup.device, memory_format=torch.channels_last)
    optimizer = _make_optimizer(config, model)
    return model, optimizer, _make_schedule(config, optimizer)


def train(
    config: RunConfig,
    output_dir: str | Path,
    data_dir: str | Path | None = None,
    data: Cifar | None = None,
    download: bool = False,
    progress: bool = True,
    on_epoch_end: Callable[[dict], None] | None = None,
) -> RunResult:
    """Train one model, evaluate it on the test set and write its run directory.

    A finished run in ``output_dir`` is returned without training; an
    unfinished one resumes from its last checkpoint.

    Args:
        config: the run configuration.
        output_dir: parent folder of the run directory.
        data_dir: data root (default ``$GRESNET_DATA``, else ``./data``).
        data: an already loaded dataset, to skip reading it again.
        download: fetch the dataset with torchvision if it is missing.
        progress: show a tqdm bar per epoch.
        on_epoch_end: called with each new history row after its checkpoint is written.
    """
    run_dir = Path(output_dir) / config.run_name
    _check_existing(run_dir, config)
    if is_finished(run_dir):
        log.info("%s is finished; reading its results", run_dir)
        return load_result(run_dir)

    setup = _prepare(config, data_dir, data, download)
    device = setup.device
    files.write_json(run_dir / "config.json", config.to_dict())

    model, optimizer, schedule = _build(config, setup)
    history: list[dict] = []
    wall_seconds = 0.0

    checkpoint_path = run_dir / "checkpoint.pt"
    if checkpoint_path.is_file():
        state = torch.load(checkpoint_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        history = state["history"]
        wall_seconds = state["wall_seconds"]
        log.info("%s: resuming after epoch %d of %d", config.run_name, len(history), config.epochs)

    for epoch in range(len(history) + 1, config.epochs + 1):
        row = _run_epoch(model, optimizer, schedule, setup, config, epoch, run_dir, progress)
        wall_seconds += row["epoch_seconds"]
        history.append(row)
        files.save_torch(checkpoint_path, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
            "history": history, "wall_seconds": wall_seconds, "config": config.to_dict(),
        })
        files.write_text(run_dir / "history.csv", pd.DataFrame(history, columns=HISTORY_COLUMNS).to_csv(index=False))
        if on_epoch_end is not None:
            on_epoch_end(row)
        log.info(
            "%s epoch %d/%d lr %.3g train loss %.4f acc %.4f val loss %.4f acc %.4f %.0fs %.0f img/s",
            config.run_name, epoch, config.epochs, row["lr"], row["train_loss"], row["train_acc"], row["val_loss"],
            row["val_acc"], row["epoch_seconds"], row["train_images_per_second"],
        )

    return _finish(model, config, setup, run_dir, history, wall_seconds)


def train_epochs(
    config: RunConfig,
    data_dir: str | Path | None = None,
    data: Cifar | None = None,
    progress: bool = False,
) -> Iterator[dict]:
    """Train a model from scratch in memory and yield each epoch's history row.

    The epochs are the same as ``train``'s, but nothing is written to disk and
    the test set is not evaluated, so a caller (the hyper-parameter search) can
    stop after any epoch.

    Args:
        config: the run configuration; ``config.epochs`` rows are yielded.
        data_dir: data root (default ``$GRESNET_DATA``, else ``./data``).
        data: an already loaded dataset, to skip reading it again.
        progress: show a tqdm bar per epoch.

    Raises:
        NonFiniteLossError: the training loss became NaN or infinite.
    """
    setup = _prepare(config, data_dir, data, download=False)
    model, optimizer, schedule = _build(config, setup)
    for epoch in range(1, config.epochs + 1):
        yield _run_epoch(model, optimizer, schedule, setup, config, epoch, None, progress)


def _run_epoch(model, optimizer, schedule, setup: _Setup, config: RunConfig, epoch: int,
               run_dir: Path | None, progress: bool) -> dict:
    """Train one epoch, step the schedule and evaluate on the validation split; return the history row."""
    started = time.perf_counter()
    lr = optimizer.param_groups[0]["lr"]
    train_loss, train_acc = _train_epoch(model, optimizer, setup, config, epoch, run_dir, progress)
    train_seconds = time.perf_counter() - started
    schedule.step()

    val = predict(model, setup.data.train.images[setup.val_idx], setup.data.train.labels[setup.val_idx],
                  setup.transform, setup.device, setup.autocast_dtype)
    return {
        "epoch": epoch, "lr": lr, "train_loss": train_loss, "train_acc": train_acc,
        "val_loss": val.loss, "val_acc": accuracy(val), "epoch_seconds": time.perf_counter() - started,
        "train_images_per_second": len(setup.train_idx) / train_seconds,
    }


def _train_epoch(model, optimizer, setup: _Setup, config: RunConfig, epoch: int, run_dir: Path | None,
                 progress: bool) -> tuple[float, float]:
    """Train one epoch; return mean loss and accuracy on the augmented batches."""
    device = setup.device
    images, labels = setup.train_images, setup.train_labels
    train_idx = setup.train_idx.to(device)
    seed = _epoch_seed(config.seed, epoch)
    order = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(seed)).to(device)]
    augment_rng = torch.Generator(device=device).manual_seed(seed)
    model.train()

    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    pending: list[Tensor] = []
    steps = math.ceil(len(order) / config.batch_size)
    bar = tqdm(total=steps, desc=f"{config.run_name} epoch {epoch}/{config.epochs}", unit="batch",
               disable=not progress, leave=False)
    for step in range(steps):
        batch = order[step * config.batch_size : (step + 1) * config.batch_size]
        x = setup.transform(images[batch], augment_rng, train=True)
        y = labels[batch]

        with autocast_context(device, setup.autocast_dtype):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)

        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

        loss_sum += loss.detach().double() * len(batch)
        correct += (logits.detach().argmax(1) == y).sum()
        pending.append(loss.detach())
        if len(pending) == _LOSS_CHECK_INTERVAL or step == steps - 1:
            _check_finite(pending, step + 1 - len(pending), epoch, run_dir)
            pending.clear()
            bar.set_postfix(loss=f"{float(loss_sum) / ((step + 1) * config.batch_size):.3f}", refresh=False)
        bar.update(1)
    bar.close()
    return float(loss_sum) / len(order), int(correct) / len(order)


def _check_finite(losses: list[Tensor], first_step: int, epoch: int, run_dir: Path | None) -> None:
    values = torch.stack(losses)
    bad = torch.nonzero(~torch.isfinite(values)).flatten()
    if bad.numel():
        index = int(bad[0])
        raise NonFiniteLossError(epoch, first_step + index + 1, float(values[index]), run_dir)


def _finish(model, config: RunConfig, setup: _Setup, run_dir: Path, history: list[dict], wall_seconds: float) -> RunResult:
    device = setup.device
    test = predict(model, setup.data.test.images[setup.test_idx], setup.data.test.labels[setup.test_idx],
                   setup.transform, device, setup.autocast_dtype)
    metrics = classification_metrics(test, setup.data.classes)
    last = history[-1]
    metrics["final_train_acc"] = last["train_acc"]
    metrics["final_val_acc"] = last["val_acc"]
    metrics["epochs"] = len(history)
    metrics["train_images"] = int(len(setup.train_idx))
    metrics["val_images"] = int(len(setup.val_idx))
    metrics["test_images"] = int(len(setup.test_idx))

    gate_images = setup.transform(setup.data.train.images[setup.val_idx[:GATE_BATCH]].to(device), train=False)
    gates = read_gates(model, config.variant, gate_images)

    files.write_json(run_dir / "gates.json", gates)
    predictions = prediction_table(test)
    predictions["index"] = setup.test_idx.numpy()
    files.write_text(run_dir / "predictions.csv", predictions.to_csv(index=False))
    files.write_json(run_dir / "provenance.json", provenance(device, wall_seconds))
    files.write_json(run_dir / "metrics.json", metrics)
    log.info("%s test top-1 %.4f top-5 %.4f F1 %.4f", config.run_name, metrics["top1"], metrics["top5"], metrics["f1"])
    return RunResult(run_dir, config, pd.DataFrame(history, columns=HISTORY_COLUMNS), metrics, trained=True)
