"""Shared fixtures: the real CIFAR-10 copy and small official-format datasets."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent


def real_data_root() -> Path:
    """CIFAR-10 root: $GRESNET_DATA, else ../shared/data beside the repository."""
    env = os.environ.get("GRESNET_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def cifar10_root() -> Path:
    root = real_data_root()
    if not (root / "cifar-10-batches-py").is_dir():
        pytest.fail(f"real CIFAR-10 not found under {root}; set GRESNET_DATA to the folder holding cifar-10-batches-py/")
    return root


@pytest.fixture(scope="session")
def cifar10(cifar10_root):
    from gresnet.data import load_cifar

    return load_cifar("cifar10", cifar10_root)


def _dump(path: Path, obj) -> None:
    with path.open("wb") as f:
        pickle.dump(obj, f)


def write_small_cifar10(root: Path, per_class_train: int = 6, per_class_test: int = 2, seed: int = 0) -> Path:
    """Write a tiny CIFAR-10 in the official layout (5 data batches, test batch, meta)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    labels = np.repeat(np.arange(10), per_class_train)
    rng.shuffle(labels)
    data = rng.integers(0, 256, size=(labels.size, 3072), dtype=np.uint8)
    for i, (chunk_data, chunk_labels) in enumerate(zip(np.array_split(data, 5), np.array_split(labels, 5)), start=1):
        _dump(folder / f"data_batch_{i}", {"batch_label": f"training batch {i} of 5", "data": chunk_data,
                                            "labels": chunk_labels.tolist(), "filenames": []})
    test_labels = np.repeat(np.arange(10), per_class_test)
    _dump(folder / "test_batch", {"batch_label": "testing batch 1 of 1",
                                  "data": rng.integers(0, 256, size=(test_labels.size, 3072), dtype=np.uint8),
                                  "labels": test_labels.tolist(), "filenames": []})
    _dump(folder / "batches.meta", {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": 10,
                                    "num_vis": 3072})
    return root


def write_small_cifar100(root: Path, per_class_train: int = 2, per_class_test: int = 1, seed: int = 0) -> Path:
    """Write a tiny CIFAR-100 in the official layout (train, test, meta)."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, per_class in (("train", per_class_train), ("test", per_class_test)):
        fine = np.repeat(np.arange(100), per_class)
        _dump(folder / name, {"data": rng.integers(0, 256, size=(fine.size, 3072), dtype=np.uint8),
                              "fine_labels": fine.tolist(), "coarse_labels": (fine // 5).tolist(),
                              "filenames": [], "batch_label": name})
    _dump(folder / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)],
                            "coarse_label_names": [f"coarse{i}" for i in range(20)]})
    return root


def notebook_output_text(path: Path) -> str:
    """Join the text, Markdown, HTML and plain-text outputs of an executed notebook."""
    import nbformat

    parts = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            for kind in ("text/markdown", "text/html", "text/plain"):
                parts.append(output.get("data", {}).get(kind, ""))
    return "\n".join(parts)
