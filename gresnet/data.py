"""CIFAR-10/100 from the official Python layout, held as uint8 tensors.

The whole dataset fits in memory (150 MB for 50,000 training images), so it
is loaded once into a uint8 tensor on the training device. Augmentation then
runs on whole batches there (see ``gresnet.augment``), with no PIL and no
worker processes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

DATASETS = ("cifar10", "cifar100")

_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}
_TRAIN_FILES = {"cifar10": [f"data_batch_{i}" for i in range(1, 6)], "cifar100": ["train"]}
_TEST_FILES = {"cifar10": ["test_batch"], "cifar100": ["test"]}
_META_FILES = {"cifar10": "batches.meta", "cifar100": "meta"}
_LABEL_KEYS = {"cifar10": "labels", "cifar100": "fine_labels"}
_NAME_KEYS = {"cifar10": "label_names", "cifar100": "fine_label_names"}
_NUM_CLASSES = {"cifar10": 10, "cifar100": 100}

# SHA-256 of the raw pixel bytes (uint8, N×3072, official order) and of the
# labels (as uint8), for the official CIFAR-10 release. They identify the
# content independently of how the pickles were written.
CONTENT_DIGESTS = {
    "cifar10": {
        "train_data": "9d5c2eddadb0deff02c14c350c0385aab7b1d5ff1edfeb4997c8dc8644960111",
        "train_labels": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
        "test_data": "177777c33ba79825320efa646ad04a94bdc3c80e4ebe3bd21724f8cdfd4b9d56",
        "test_labels": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
    },
    # NOTE: no reference digests for CIFAR-100 are recorded: no copy of the
    # official files could be read on the machines this was written on.
    "cifar100": {},
}

DEFAULT_VAL_SIZE = 5000
"""Images held out of the training set for validation (500 per CIFAR-10 class)."""


class DatasetNotFoundError(FileNotFoundError):
    """The dataset folder or one of its files is missing."""


class DatasetCorruptedError(ValueError):
    """A dataset file exists but cannot be read or has the wrong content."""


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """Return the data root: the argument, else ``$GRESNET_DATA``, else ``./data``."""
    if root is not None:
        return Path(root)
    env = os.environ.get("GRESNET_DATA")
    return Path(env) if env else Path("data")


def check_dataset_name(name: str) -> str:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid choices: {', '.join(DATASETS)}")
    return name


def num_classes(name: str) -> int:
    return _NUM_CLASSES[check_dataset_name(name)]


def dataset_folder(name: str, root: str | os.PathLike | None = None) -> Path:
    return resolve_root(root) / _FOLDERS[check_dataset_name(name)]


def is_present(name: str, root: str | os.PathLike | None = None) -> bool:
    """Whether the dataset's folder exists under the root (content not checked)."""
    return dataset_folder(name, root).is_dir()


@dataclass(frozen=True)
class Split:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64, on the CPU."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.numel())


@dataclass(frozen=True)
class Cifar:
    """One CIFAR dataset: official train and test splits and class names."""

    name: str
    train: Split
    test: Split
    classes: list[str]

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _missing_message(name: str, path: Path) -> str:
    return (
        f"{name} not found: {path} does not exist. Put the official Python release "
        f"({_FOLDERS[name]}/) under the data root, set GRESNET_DATA or pass --data-dir "
        f"to point at its parent folder, or enable download on a machine with internet."
    )


def _load_pickle(path: Path, name: str) -> dict:
    if not path.is_file():
        raise DatasetNotFoundError(_missing_message(name, path))
    try:
        with path.open("rb") as f:
            return pickle.load(f, encoding="latin1")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DatasetCorruptedError(
            f"{path} is truncated or corrupted ({type(error).__name__}: {error}); "
            f"delete {path.parent} and download {name} again"
        ) from error


def _read_split(name: str, folder: Path, files: list[str]) -> Split:
    images, labels = [], []
    for file_name in files:
        path = folder / file_name
        entry = _load_pickle(path, name)
        try:
            data = np.asarray(entry["data"], dtype=np.uint8)
            targets = np.asarray(entry[_LABEL_KEYS[name]], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as error:
            raise DatasetCorruptedError(f"{path} lacks the expected 'data'/'{_LABEL_KEYS[name]}' entries: {error}") from error
        if data.ndim != 2 or data.shape[1] != 3072 or data.shape[0] != targets.shape[0]:
            raise DatasetCorruptedError(
                f"{path} is corrupted: data has shape {data.shape} for {targets.shape[0]} labels, expected (N, 3072)"
            )
        if targets.size and (targets.min() < 0 or targets.max() >= _NUM_CLASSES[name]):
            raise DatasetCorruptedError(f"{path} is corrupted: labels outside 0..{_NUM_CLASSES[name] - 1}")
        images.append(data)
        labels.append(targets)
    data = np.concatenate(images).reshape(-1, 3, 32, 32)
    return Split(torch.from_numpy(data), torch.from_numpy(np.concatenate(labels)))


def load_cifar(name: str, root: str | os.PathLike | None = None, download: bool = False) -> Cifar:
    """Load CIFAR-10 or CIFAR-100 from ``<root>/cifar-10-batches-py`` or ``<root>/cifar-100-python``.

    Args:
        name: ``"cifar10"`` or ``"cifar100"``.
        root: data root; defaults to ``$GRESNET_DATA``, else ``./data``.
        download: fetch the official archive with torchvision when the folder
            is missing (needs internet).

    Raises:
        DatasetNotFoundError: the folder or a file is missing.
        DatasetCorruptedError: a file is truncated, unreadable or malformed.
    """
    check_dataset_name(name)
    folder = dataset_folder(name, root)
    if not folder.is_dir() and download:
        _download(name, resolve_root(root))
    if not folder.is_dir():
        raise DatasetNotFoundError(_missing_message(name, folder))

    meta = _load_pickle(folder / _META_FILES[name], name)
    try:
        classes = list(meta[_NAME_KEYS[name]])
    except KeyError as error:
        raise DatasetCorruptedError(f"{folder / _META_FILES[name]} lacks '{_NAME_KEYS[name]}'") from error
    if len(classes) != _NUM_CLASSES[name]:
        raise DatasetCorruptedError(
            f"{folder / _META_FILES[name]} lists {len(classes)} classes, expected {_NUM_CLASSES[name]}"
        )
    train = _read_split(name, folder, _TRAIN_FILES[name])
    test = _read_split(name, folder, _TEST_FILES[name])
    return Cifar(name=name, train=train, test=test, classes=classes)


def _download(name: str, root: Path) -> None:
    from torchvision import datasets

    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    root.mkdir(parents=True, exist_ok=True)
    cls(root=str(root), train=True, download=True)
    cls(root=str(root), train=False, download=True)


def content_digests(data: Cifar) -> dict[str, str]:
    """SHA-256 of the raw pixel and label bytes of both splits (see CONTENT_DIGESTS)."""

    def sha(tensor: Tensor) -> str:
        return hashlib.sha256(np.ascontiguousarray(tensor.numpy()).tobytes()).hexdigest()

    return {
        "train_data": sha(data.train.images.reshape(len(data.train), -1)),
        "train_labels": sha(data.train.labels.to(torch.uint8)),
        "test_data": sha(data.test.images.reshape(len(data.test), -1)),
        "test_labels": sha(data.test.labels.to(torch.uint8)),
    }


def check_dataset(name: str, root: str | os.PathLike | None = None) -> dict:
    """Report whether a dataset is present, readable, and matches the reference digests.

    Returns a dict with ``present``, ``status`` (``"ok"``, ``"missing"``,
    ``"corrupted"``, ``"digest mismatch"`` or ``"no reference digests"``), the
    folder, the image counts, and per-array digest results.
    """
    folder = dataset_folder(name, root)
    report: dict = {"dataset": name, "folder": str(folder), "present": folder.is_dir()}
    if not folder.is_dir():
        report["status"] = "missing"
        return report
    try:
        data = load_cifar(name, root)
    except (DatasetNotFoundError, DatasetCorruptedError) as error:
        report["status"] = "corrupted"
        report["error"] = str(error)
        return report
    report["train_images"] = len(data.train)
    report["test_images"] = len(data.test)
    digests = content_digests(data)
    reference = CONTENT_DIGESTS[name]
    report["digests"] = {
        key: {"sha256": value, "matches": reference.get(key) == value if reference else None}
        for key, value in digests.items()
    }
    if not reference:
        report["status"] = "no reference digests"
    elif all(item["matches"] for item in report["digests"].values()):
        report["status"] = "ok"
    else:
        report["status"] = "digest mismatch"
    return report


def stratified_split(labels: Tensor, val_size: int, seed: int) -> tuple[Tensor, Tensor]:
    """Split indices into (train, validation) with every class in equal proportion.

    Each class contributes ``round(val_size * class_share)`` images to the
    validation set (adjusted so the total is exactly ``val_size``). The split
    depends only on ``labels``, ``val_size`` and ``seed``.
    """
    n = int(labels.numel())
    if not 0 <= val_size < n:
        raise ValueError(f"val_size must be in [0, {n - 1}] for {n} training images, got {val_size}")
    generator = torch.Generator().manual_seed(seed)
    classes, counts = torch.unique(labels, return_counts=True)
    quotas = torch.floor(counts.double() * val_size / n).long()
    # Hand the remainder to the classes with the largest fractional parts.
    remainder = val_size - int(quotas.sum())
    if remainder:
        fractions = counts.double() * val_size / n - quotas.double()
        quotas[torch.argsort(fractions, descending=True)[:remainder]] += 1
    val_parts, train_parts = [], []
    for cls, quota in zip(classes.tolist(), quotas.tolist()):
        idx = torch.nonzero(labels == cls).flatten()
        idx = idx[torch.randperm(idx.numel(), generator=generator)]
        val_parts.append(idx[:quota])
        train_parts.append(idx[quota:])
    train_idx = torch.sort(torch.cat(train_parts)).values
    val_idx = torch.sort(torch.cat(val_parts)).values
    return train_idx, val_idx


def stratified_subset(indices: Tensor, labels: Tensor, size: int, seed: int) -> Tensor:
    """Pick ``size`` of ``indices`` with classes in the same proportions as ``labels[indices]``."""
    if size >= indices.numel():
        return indices
    keep, _ = stratified_split(labels[indices], indices.numel() - size, seed)
    return indices[keep]


def channel_stats(images: Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and standard deviation of uint8 images, pixels scaled to [0, 1]."""
    x = images.double() / 255.0
    mean = x.mean(dim=(0, 2, 3))
    std = x.std(dim=(0, 2, 3), unbiased=False)
    return mean.tolist(), std.tolist()
