# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Computational complexity
#
# Fahad and Ahmed (section V) count the parameters and FLOPs of the six models with
# fvcore (Table IV) and find that the gates cost little: Gated1 adds one
# scalar per channel, and Gated2 adds a 1×1 convolution per block, under one
# million parameters. This page repeats the count, puts it beside Table IV, and
# adds what the table leaves out: the cost at the 32×32 inputs that CIFAR
# training actually uses, and measured latency and throughput on the machine
# that ran this page.
#
# ```
# papermill notebooks/complexity.ipynb complexity.ipynb -p results_dir results/cpu
# ```

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/complexity.ipynb)

# %% tags=["colab-setup", "remove-cell"]
# In Colab only: install gresnet from its repository and let torchvision download CIFAR.
import os
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
if IN_COLAB:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "gresnet @ git+https://github.com/gresnet/gresnet@main"], check=True)
    os.environ.setdefault("GRESNET_DATA", "/content/data")

# %% tags=["parameters"]
results_dir = "results/cpu"  # the measurements are read from, or written to, <results_dir>/complexity.json
remeasure = False  # measure again even if complexity.json exists
timing = True  # measure speed as well as counting parameters and FLOPs
seconds = 2.0  # time budget of each speed measurement (three per model), in seconds
batch_size = 128  # the larger inference batch
train_batch_size = 64  # images per training step
device = "auto"  # auto (CUDA, then Apple MPS, then CPU), cpu, cuda or mps
precision = "auto"  # autocast precision of the speed measurements: auto, float32 or bfloat16
benchmark_table = "benchmarks/results/latest.md"  # Markdown table written by benchmarks/train_speed.py

# %% tags=["hide-input"]
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

from IPython.display import Markdown, display

from gresnet import complexity, files

report_path = Path(results_dir) / "complexity.json"
if remeasure or not report_path.is_file():
    report = complexity.measure(seconds=seconds, batch_size=batch_size, train_batch_size=train_batch_size,
                                device=device, precision=precision, timing=timing)
    files.write_json(report_path, report)
    display(Markdown(f"Measured now and written to `{report_path}`."))
else:
    report = complexity.load_report(report_path)
    display(Markdown(f"Read from `{report_path}`, measured with gresnet {report['provenance']['git_commit']}."))

# %% [markdown]
# ## Parameters and FLOPs (Table IV)
#
# fvcore counts one fused multiply-add as one FLOP and does not count
# element-wise operations, so the gates' multiplications and sigmoids and the
# residual additions are free in this count; Gated2's extra FLOPs are its 1×1
# convolutions. The paper's numbers are those of a 224×224 input, which is the
# count that matches them (the stem and the stages are unchanged by the input
# side). "diff" is ours minus the paper's, both rounded to two decimals.

# %% tags=["hide-input"]
table = complexity.table_iv(report)
display(table.style.format("{:.2f}").format("{:+.2f}", subset=[c for c in table.columns if c[1] == "diff"])
        .format("{:.3f}", subset=[("FLOPs (G), 32×32", "ours")]).format("{:,}", subset=[("exact", "params")]))
display(Markdown(
    "**Table IV.** Parameter count and FLOPs of the six models with 10 classes: ours (fvcore "
    f"{report['provenance']['versions'].get('fvcore')}) beside the paper's (Fahad and Ahmed, Table IV). "
    "The last FLOPs column is the count at the 32×32 CIFAR input."
))

# %% [markdown]
# ## Speed on this machine
#
# Inference latency at batch size 1 and at a larger batch, and training
# throughput (forward, backward and AdamW step on random 32×32 inputs, without
# data loading or augmentation). Each number is the median over repeated calls
# after a warm-up call. Other processes running on the machine at the same
# time slow these numbers down, so the load average at the start of the
# measurement is stated with them.

# %% tags=["hide-input"]
if report["timing"] is None:
    display(Markdown("NOTE: speed was not measured for this report (`timing` was off)."))
else:
    timing_settings = report["timing"]
    display(complexity.speed_table(report))
    load = timing_settings["load_average_1min"]
    display(Markdown(
        f"**Speed** at {timing_settings['resolution']}×{timing_settings['resolution']} on "
        f"{timing_settings['device_name']} ({timing_settings['device']}), {timing_settings['precision']}, "
        f"about {timing_settings['seconds_per_measurement']:g} s per measurement"
        + (f"; 1-minute load average {load:.2f} when it started" if load is not None else "") + "."
    ))

# %% [markdown]
# ## Training benchmark
#
# The table below is the latest output of `python benchmarks/train_speed.py`:
# the gresnet training loop against a plain PyTorch loop (PIL transforms in a
# DataLoader) with the same model, optimiser, batch and augmentation,
# measured in alternating segments of one process, with model FLOPs
# utilisation against the measured matrix-multiply peak. It states its own
# machine, load and command.

# %% tags=["hide-input"]
benchmark = Path(benchmark_table)
if benchmark.is_file():
    display(Markdown(benchmark.read_text(encoding="utf-8").replace("### ", "#### ", 1)))
else:
    display(Markdown(f"NOTE: {benchmark} not found; run `python benchmarks/train_speed.py` to measure it."))

# %% [markdown]
# ## Summary

# %% tags=["hide-input"]
rows = {(row["arch"], row["variant"]): row for row in report["models"]}
lines = []
for arch in ("resnet18", "resnet34"):
    if (arch, "base") not in rows:
        continue
    base, gated2 = rows[(arch, "base")], rows[(arch, "gated2")]
    lines.append(
        f"- {arch}: Gated1 adds {rows[(arch, 'gated1')]['params'] - base['params']:,} parameters and no FLOPs; "
        f"Gated2 adds {(gated2['params'] - base['params']) / 1e6:.2f} M parameters "
        f"({100 * (gated2['params'] / base['params'] - 1):.1f} %) and "
        f"{100 * (gated2['flops_224'] / base['flops_224'] - 1):.1f} % FLOPs."
    )
matches = (table.xs("diff", axis=1, level=1) == 0).all().all()
lines.append(f"- All counts {'match' if matches else 'do NOT match'} Table IV to two decimals.")
display(Markdown("\n".join(lines)))
