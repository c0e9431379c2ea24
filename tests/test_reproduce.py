import logging
import os

import pandas as pd
import pytest

from gresnet.data import DatasetCorruptedError
from gresnet.profiles import PROFILES
from gresnet.reproduce import reproduce

from conftest import write_small_cifar100


def test_smoke_profile_end_to_end(cifar10_root, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="gresnet")
    summary = reproduce("smoke", data_dir=cifar10_root, results_root=tmp_path / "results",
                        book_dir=tmp_path / "book", progress=False)

    assert summary.datasets == ["cifar10"]
    assert summary.skipped_datasets == ["cifar100"]
    absent_warnings = [r for r in caplog.records if "cifar100 not found" in r.getMessage()]
    assert len(absent_warnings) == 1

    expected = sorted(config.run_name for config in PROFILES["smoke"].run_configs("cifar10"))
    assert len(expected) == 6
    assert sorted(summary.runs_trained) == expected
    for name in expected:
        history = pd.read_csv(tmp_path / "results" / "smoke" / name / "history.csv")
        assert list(history["epoch"]) == [1]
        assert (tmp_path / "results" / "smoke" / name / "metrics.json").is_file()

    search_dir = tmp_path / "results" / "smoke" / "search"
    assert (search_dir / "best-cifar10-resnet18.json").is_file()
    assert (search_dir / "best-cifar10-resnet34.json").is_file()

    assert summary.html_dir is not None
    for page in ("index.html", "experiments.html", "gates.html", "qualitative.html", "hpo.html", "complexity.html"):
        assert (summary.html_dir / page).is_file(), page
    experiments = (summary.html_dir / "experiments.html").read_text(encoding="utf-8")
    assert "Table I" in experiments and "smoke" in experiments

    caplog.clear()
    again = reproduce("smoke", data_dir=cifar10_root, results_root=tmp_path / "results",
                      book_dir=tmp_path / "book", book=False, progress=False)
    assert again.runs_trained == []
    assert sorted(again.runs_skipped) == expected


def test_corrupted_dataset_is_an_error(cifar10_root, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    os.symlink(cifar10_root / "cifar-10-batches-py", root / "cifar-10-batches-py")
    write_small_cifar100(root)
    train_file = root / "cifar-100-python" / "train"
    train_file.write_bytes(train_file.read_bytes()[:1000])
    with pytest.raises(DatasetCorruptedError, match="cifar-100-python/train"):
        reproduce("smoke", data_dir=root, results_root=tmp_path / "results", book_dir=tmp_path / "book",
                  progress=False)
    assert not (tmp_path / "results").exists()


def test_unknown_profile_lists_choices(tmp_path):
    with pytest.raises(ValueError, match="unknown profile 'huge'; valid choices: smoke, quick, cpu, paper"):
        reproduce("huge", results_root=tmp_path)
