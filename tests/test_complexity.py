"""Parameter and FLOP counts against Table IV of Fahad and Ahmed, speed measurement, CLI and notebook."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import papermill
import pytest

from gresnet import complexity
from conftest import notebook_output_text
from gresnet.cli import main

REPO = Path(__file__).resolve().parent.parent

# Exact parameter counts of the 10-class models: torchvision's ResNet plus the gates.
EXACT_PARAMS = {
    ("resnet18", "base"): 11_181_642,
    ("resnet18", "gated1"): 11_183_562,
    ("resnet18", "gated2"): 11_879_882,
    ("resnet34", "base"): 21_289_802,
    ("resnet34", "gated1"): 21_293_578,
    ("resnet34", "gated2"): 22_551_050,
}


@pytest.mark.parametrize("arch,variant", complexity.models())
def test_count_at_224_matches_table_iv(arch, variant):
    counted = complexity.count(arch, variant, resolution=224)
    paper_params, paper_flops = complexity.PAPER_TABLE_IV[(arch, variant)]

    assert counted["params"] == EXACT_PARAMS[(arch, variant)]
    assert round(counted["params"] / 1e6, 2) == paper_params
    assert round(counted["flops"] / 1e9, 2) == paper_flops


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"seconds": 0}, "seconds must be > 0, got 0"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"archs": ("resnet50",)}, "invalid arch 'resnet50'; valid choices: resnet18, resnet34"),
    ],
)
def test_measure_rejects_invalid_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        complexity.measure(**settings)


@pytest.fixture(scope="module")
def resnet18_report(tmp_path_factory) -> Path:
    """A report of the three ResNet-18 models with a few milliseconds of timing, written by the CLI."""
    output = tmp_path_factory.mktemp("cli") / "complexity.json"
    code = main(["complexity", "--arch", "resnet18", "--seconds", "0.01", "--batch-size", "4",
                 "--train-batch-size", "4", "--device", "cpu", "--output", str(output)])
    assert code == 0
    return output


def test_cli_report_counts_and_times_models(resnet18_report):
    report = json.loads(resnet18_report.read_text())

    assert [(row["arch"], row["variant"]) for row in report["models"]] == complexity.models(("resnet18",))
    base = report["models"][0]
    assert base["params"] == EXACT_PARAMS[("resnet18", "base")]
    assert round(base["flops_32"] / 1e9, 3) == 0.037
    assert report["timing"]["device"] == "cpu"
    assert report["timing"]["batch_size"] == 4
    for row in report["models"]:
        assert row["latency_ms_batch1"] > 0
        assert row["inference_images_per_second"] == pytest.approx(4 / (row["latency_ms_batch"] / 1000))
        assert row["train_images_per_second"] > 0


def test_cli_rejects_non_positive_seconds(capsys):
    with pytest.raises(SystemExit) as error:
        main(["complexity", "--seconds", "0"])

    assert error.value.code == 2
    assert "must be a finite number > 0, got '0'" in capsys.readouterr().err


def test_notebook_measures_and_writes_table_iv(tmp_path):
    results_dir = tmp_path / "results"

    text = _run_notebook(tmp_path, {"results_dir": str(results_dir), "timing": False})

    report = json.loads((results_dir / "complexity.json").read_text())
    assert len(report["models"]) == 6
    for row in report["models"]:
        paper_params, paper_flops = complexity.PAPER_TABLE_IV[(row["arch"], row["variant"])]
        assert round(row["flops_224"] / 1e9, 2) == paper_flops
        assert round(row["params"] / 1e6, 2) == paper_params
    assert report["timing"] is None
    assert "Measured now and written to" in text
    assert "**Table IV.**" in text
    assert "All counts match Table IV to two decimals." in text
    assert "speed was not measured" in text


def test_notebook_shows_speed_of_stored_report(resnet18_report, tmp_path):
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    shutil.copy(resnet18_report, results_dir / "complexity.json")

    text = _run_notebook(tmp_path, {"results_dir": str(results_dir)})

    report = json.loads(resnet18_report.read_text())
    assert "Read from" in text
    assert "latency, batch 1 (ms)" in text
    assert "training, batch 4 (images/s)" in text
    assert report["timing"]["device_name"] in text
    assert "All counts match Table IV to two decimals." in text


def _run_notebook(tmp_path: Path, parameters: dict) -> str:
    executed = tmp_path / "complexity.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / "complexity.ipynb"), str(executed), cwd=str(REPO),
                               progress_bar=False, parameters=parameters)
    return notebook_output_text(executed)

