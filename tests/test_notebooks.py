"""Notebook templates: pairing, Colab cells, parameters, and real papermill runs.

The training runs use the real CIFAR-10 files (data root: $GRESNET_DATA,
else ../shared/data beside the repository) at a tiny budget: 256 training,
500 validation and 500 test images, one epoch.
"""

from __future__ import annotations

import ast
import base64
import os
import re
from pathlib import Path

import jupytext
import nbformat
import papermill
import pandas as pd
import pytest

from gresnet import files, train
from gresnet.book import (
    BADGE_TAG, COLAB_BADGE_IMAGE, LOCAL_BADGE_IMAGE, SETUP_TAG, notebook_content, render_book_notebooks,
    repository_address, sync_notebooks,
)
from gresnet.config import RunConfig
from gresnet.data import is_present, load_cifar
from gresnet.results import (
    PAPER_TABLE_I, PAPER_TABLE_II, PAPER_TABLE_III, compare_with_paper, comparison_display, load_gates,
    load_histories, load_runs, summarise,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DATA = Path(os.environ.get("GRESNET_DATA") or REPO.parent / "shared" / "data")
ANALYSIS_PAGES = ("models", "pipeline", "experiments", "gates", "qualitative", "conclusions")
TINY = {"train_subset": 256, "val_size": 500, "test_subset": 500, "epochs": 1}
VARIANTS = ("base", "gated1", "gated2")

needs_cifar10 = pytest.mark.skipif(
    not is_present("cifar10", DATA), reason=f"CIFAR-10 not found under {DATA}; set GRESNET_DATA to its parent folder"
)


def _templates() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.py"))


def _outputs(notebook) -> list[dict]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]


def _markdown_outputs(notebook) -> str:
    return "\n".join(output["data"]["text/markdown"] for output in _outputs(notebook)
                     if "text/markdown" in output.get("data", {}))


def _html_outputs(notebook) -> str:
    return "\n".join(output["data"]["text/html"] for output in _outputs(notebook) if "text/html" in output.get("data", {}))


def _png_count(notebook) -> int:
    return sum("image/png" in output.get("data", {}) for output in _outputs(notebook))


# --- templates ---------------------------------------------------------------


def test_templates_exist():
    names = {path.stem for path in _templates()}
    assert {"train", *ANALYSIS_PAGES} <= names


@pytest.mark.parametrize("source", _templates(), ids=lambda path: path.stem)
def test_ipynb_in_sync_with_py(source):
    paired = source.with_suffix(".ipynb")
    assert paired.is_file(), f"{paired} missing: run python -m gresnet book sync"
    expected = notebook_content(jupytext.read(source))
    actual = notebook_content(nbformat.read(paired, as_version=4))
    assert actual == expected, f"{paired} differs from {source}: run python -m gresnet book sync"


def test_colab_cells_match_config():
    assert sync_notebooks(NOTEBOOKS, REPO / "_config.yml", check=True) == []


@pytest.mark.parametrize("source", _templates(), ids=lambda path: path.stem)
def test_colab_cells_point_at_repository(source):
    url, branch = repository_address(REPO / "_config.yml")
    notebook = jupytext.read(source)
    badge = [c for c in notebook.cells if BADGE_TAG in c.metadata.get("tags", [])]
    setup = [c for c in notebook.cells if SETUP_TAG in c.metadata.get("tags", [])]
    assert len(badge) == 1
    assert len(setup) == 1
    github = url.removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{github}/blob/{branch}/notebooks/{source.stem}.ipynb" in badge[0].source
    assert f"git+{url}@{branch}" in setup[0].source
    assert 'IN_COLAB = "google.colab" in sys.modules' in setup[0].source
    assert notebook.cells.index(setup[0]) < min(
        i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])
    )


def test_train_parameters_are_run_config_fields():
    declared = papermill.inspect_notebook(str(NOTEBOOKS / "train.ipynb"))
    fields = set(RunConfig().to_dict())
    assert set(declared) == fields | {"data_dir", "output_dir", "download"}


def test_train_defaults_are_run_config_defaults():
    declared = papermill.inspect_notebook(str(NOTEBOOKS / "train.ipynb"))
    for name, value in RunConfig().to_dict().items():
        assert ast.literal_eval(declared[name]["default"]) == value, name
    assert ast.literal_eval(declared["data_dir"]["default"]) is None
    assert ast.literal_eval(declared["download"]["default"]) is False


def test_analysis_parameters():
    for page in ("experiments", "gates", "qualitative", "conclusions"):
        declared = papermill.inspect_notebook(str(NOTEBOOKS / f"{page}.ipynb"))
        assert {"results_dir", "profile_name"} <= set(declared), page


def test_train_rejects_invalid_variant(tmp_path):
    output = tmp_path / "runs"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(NOTEBOOKS / "train.ipynb"), str(tmp_path / "out.ipynb"),
            parameters={"variant": "gated3", "output_dir": str(output)}, cwd=str(REPO), progress_bar=False,
        )
    error = caught.value
    assert error.ename == "ValueError"
    assert "invalid variant 'gated3'; valid choices: base, gated1, gated2" in error.evalue
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    code_cells = [i for i, c in enumerate(executed.cells) if c.cell_type == "code"]
    assert error.cell_index <= code_cells[3], "the check must fail in the first code cells, before any data is read"
    assert not output.exists()


# --- real runs ---------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Three ResNet-18 variants on real CIFAR-10 at a tiny budget; gated2 trained through papermill.

    Base and gated1 are trained in-process with ``gresnet.train``, the call the
    notebook makes, to keep the suite fast.
    """
    if not is_present("cifar10", DATA):
        pytest.skip(f"CIFAR-10 not found under {DATA}; set GRESNET_DATA to its parent folder")
    root = tmp_path_factory.mktemp("train")
    results = root / "results"
    executed = root / "train-gated2.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "train.ipynb"), str(executed),
        parameters={"variant": "gated2", "data_dir": str(DATA), "output_dir": str(results), **TINY},
        cwd=str(REPO), progress_bar=False,
    )
    data = load_cifar("cifar10", DATA)
    for variant in ("base", "gated1"):
        train(RunConfig(variant=variant, **TINY), results, data=data, progress=False)
    return results, nbformat.read(executed, as_version=4)


@needs_cifar10
def test_train_notebook_writes_finished_run(trained):
    results, notebook = trained
    for variant in VARIANTS:
        metrics = files.read_json(results / f"cifar10-resnet18-{variant}-seed0" / "metrics.json")
        assert metrics["epochs"] == 1
        assert metrics["train_images"] == 256
        assert metrics["val_images"] == 500
        assert metrics["test_images"] == 500
        assert 0.0 < metrics["top1"] <= 1.0
    metrics = files.read_json(results / "cifar10-resnet18-gated2-seed0" / "metrics.json")
    assert _png_count(notebook) == 2, "accuracy and loss curves"
    assert f"{metrics['top1']:.4f}" in _html_outputs(notebook)
    assert "cifar10-resnet18-gated2-seed0" in _markdown_outputs(notebook)


@needs_cifar10
def test_tables_agree_with_run_files(trained):
    results, _ = trained
    runs = load_runs(results)
    assert list(runs["model"]) == ["Resnet18_base", "Resnet18_gated1", "Resnet18_gated2"]
    comparison = compare_with_paper(runs, "II")
    base = comparison[(comparison["model"] == "Resnet18_base") & (comparison["metric"] == "top1")].iloc[0]
    metrics = files.read_json(results / "cifar10-resnet18-base-seed0" / "metrics.json")
    assert base["mean"] == pytest.approx(metrics["top1"])
    assert base["paper"] == 0.8647
    assert base["difference"] == pytest.approx(metrics["top1"] - 0.8647)
    assert base["n"] == 1
    missing = comparison[comparison["arch"] == "resnet34"]
    assert (missing["n"] == 0).all()
    assert missing["mean"].isna().all()
    table = comparison_display(comparison, "cifar10")
    assert table.loc[("Resnet18_base", "ours"), "Accuracy"] == f"{metrics['top1']:.4f}"
    assert table.loc[("Resnet18_base", "paper"), "Accuracy"] == "0.8647"
    assert table.loc[("Resnet34_base", "ours"), "n"] == "0"


@needs_cifar10
def test_seed_summary_and_budget_check(trained):
    results, _ = trained
    runs = load_runs(results)
    second = runs.assign(seed=1, top1=runs["top1"] + 0.01)
    summary = summarise(pd.concat([runs, second]), ["top1"])
    row = summary[summary["model"] == "Resnet18_base"].iloc[0]
    assert row["n"] == 2
    assert row["mean"] == pytest.approx(runs.loc[0, "top1"] + 0.005)
    assert row["std"] == pytest.approx(0.01 / 2 ** 0.5)
    mixed = pd.concat([runs, runs.assign(seed=1, epochs=2)])
    with pytest.raises(ValueError, match="differ in epochs"):
        summarise(mixed, ["top1"])


@needs_cifar10
def test_history_and_gate_tables(trained):
    results, _ = trained
    histories = load_histories(results)
    assert len(histories) == 3 * 2, "three runs, one epoch, training and validation"
    gates = load_gates(results)
    lambdas = gates[gates["quantity"] == "lambda"]
    assert lambdas["block"].nunique() == 8
    assert len(lambdas) == 2 * (64 + 128 + 256 + 512), "one λ per channel of every ResNet-18 block"
    means = gates[gates["quantity"] == "mean_gate"]
    assert means["value"].between(0, 1).all()


def test_paper_tables_as_printed():
    assert len(PAPER_TABLE_I) == 12
    assert len(PAPER_TABLE_II) == 6
    assert len(PAPER_TABLE_III) == 6
    row = PAPER_TABLE_II[(PAPER_TABLE_II["arch"] == "resnet34") & (PAPER_TABLE_II["variant"] == "gated1")].iloc[0]
    assert row["top1"] == 0.8709
    row = PAPER_TABLE_III[(PAPER_TABLE_III["arch"] == "resnet34") & (PAPER_TABLE_III["variant"] == "gated2")].iloc[0]
    assert row["top5"] == 0.8298
    row = PAPER_TABLE_I[(PAPER_TABLE_I["dataset"] == "cifar100") & (PAPER_TABLE_I["variant"] == "gated2")]
    assert list(row["final_train_acc"]) == [0.9307, 0.8010]


@pytest.fixture(scope="module")
def rendered(trained, tmp_path_factory):
    """The analysis notebooks executed on the tiny runs, as the book's pages."""
    results, _ = trained
    book = tmp_path_factory.mktemp("book")
    written = render_book_notebooks(results, book, "tiny", notebooks_dir=NOTEBOOKS, pages=ANALYSIS_PAGES,
                                    data_dir=DATA, cwd=REPO)
    assert [path.name for path in written] == [f"{page}.ipynb" for page in ANALYSIS_PAGES]
    return results, {page: nbformat.read(book / f"{page}.ipynb", as_version=4) for page in ANALYSIS_PAGES}, book


@needs_cifar10
def test_rendered_pages_state_budget(rendered):
    _, pages, _ = rendered
    for page in ("experiments", "gates", "qualitative", "conclusions"):
        text = _markdown_outputs(pages[page])
        assert "**Budget.** Results from the `tiny` profile, 3 runs." in text, page
        assert "1 epoch on 256 training images" in text, page
        assert "test on 500 test images" in text, page


@needs_cifar10
def test_experiments_page(rendered):
    results, pages, _ = rendered
    page = pages["experiments"]
    text = _markdown_outputs(page)
    assert _png_count(page) == 2, "Figs. 5 and 9: ResNet-18 on CIFAR-10"
    for number in (5, 9):
        assert re.search(rf"\*\*Fig\. {number}\.\*\* (Accuracy|Loss) curve – ResNet-18 \(CIFAR-10\)", text)
    for number in (6, 8, 10, 12):
        assert f"**Fig. {number}** is not reproduced here: no finished ResNet-" in text
    assert "place `cifar-100-python/` under the data root and run `python -m gresnet reproduce --profile tiny`" in text
    assert "**Fig. 7** is not reproduced here yet: no finished ResNet-34 CIFAR-10 runs" in text
    assert "run `python -m gresnet reproduce --profile tiny`, which resumes the training grid" in text
    assert "**Table I (CIFAR-10 columns).**" in text
    assert "**Table I (CIFAR-100 columns)** is not reproduced here" in text
    assert "**Table II. Results on CIFAR-10.**" in text
    assert "**Table III. Results on CIFAR-100** is not reproduced here" in text
    top1 = files.read_json(results / "cifar10-resnet18-gated2-seed0" / "metrics.json")["top1"]
    html = _html_outputs(page)
    assert f"{top1:.4f}" in html
    assert f"{top1 - 0.8612:+.4f}" in html, "Δ against the paper's Resnet18_gated2 accuracy"


@needs_cifar10
def test_gates_page(rendered):
    _, pages, _ = rendered
    page = pages["gates"]
    text = _markdown_outputs(page)
    assert "**Fig. 13.** Distribution of learned λ values for ResNet-18 (Gated1), per block." in text
    assert "**Fig. 14** is not reproduced here yet: no finished ResNet-34 Gated1 CIFAR-10 runs" in text
    assert "Mean Gated2 gate per channel and block, ResNet-18" in text
    assert _png_count(page) == 2, "Fig. 13 and the Gated2 mean gates"
    assert "blocks with median λ &lt; 1" in _html_outputs(page) or "blocks with median λ < 1" in _html_outputs(page)


@needs_cifar10
def test_qualitative_page(rendered):
    _, pages, _ = rendered
    page = pages["qualitative"]
    text = _markdown_outputs(page)
    assert "**Fig. 15.** Correctly classified examples on CIFAR-10" in text
    assert "**Fig. 16.** Incorrectly classified examples on CIFAR-10" in text
    assert "**Fig. 17** is not reproduced here" in text
    assert "**Fig. 18** is not reproduced here" in text
    assert _png_count(page) == 2
    assert re.search(r"the true class is in the top five for \d+\.\d% of them", text)


@needs_cifar10
def test_models_and_pipeline_pages(rendered):
    _, pages, _ = rendered
    models = _markdown_outputs(pages["models"])
    assert "So the convolution acts on s(x)" in models
    counts = _html_outputs(pages["models"])
    for count in ("11,181,642", "11,183,562", "11,879,882", "21,289,802", "22,551,050", "22,597,220"):
        assert count in counts
    pipeline = _html_outputs(pages["pipeline"])
    assert "4500" in pipeline, "4,500 training images per class in the 45,000 / 5,000 split"
    assert "45000" in pipeline, "training split total"
    assert "0.4914" in pipeline or "0.4915" in pipeline, "red channel mean of the training split"
    assert _png_count(pages["pipeline"]) == 1, "augmentation illustration"


@needs_cifar10
def test_conclusions_page(rendered):
    _, pages, _ = rendered
    text = _markdown_outputs(pages["conclusions"])
    assert "In the paper's own tables a gated variant beats the base model in 3 of 8 comparisons" in text
    assert re.search(r"In our runs a gated variant beats the base model in \d of 2 comparisons", text)
    assert "No comparison has two seeds of both its models yet" in text


@needs_cifar10
def test_rendered_pages_are_offline_ready(rendered):
    _, pages, book = rendered
    badge = book / LOCAL_BADGE_IMAGE
    assert badge.read_text(encoding="utf-8").startswith("<svg")
    for page, notebook in pages.items():
        sources = "\n".join(cell.source for cell in notebook.cells)
        assert COLAB_BADGE_IMAGE not in sources, page
        assert LOCAL_BADGE_IMAGE in sources, page
        assert str(REPO) not in sources, f"{page} shows a local folder"
        errors = [o for o in _outputs(notebook) if o.get("output_type") == "error"]
        assert errors == [], page
        streams = "".join(o.get("text", "") for o in _outputs(notebook) if o.get("output_type") == "stream")
        assert "Warning" not in streams, f"{page} prints a warning: {streams[:300]}"


def test_committed_pages_hold_valid_pngs():
    count = 0
    for path in sorted((REPO / "book").glob("*.ipynb")):
        for output in _outputs(nbformat.read(path, as_version=4)):
            data = output.get("data", {}).get("image/png")
            if data:
                assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n", path.name
                count += 1
    assert count >= 8, "curves, gate distributions, predictions and augmentation figures"
