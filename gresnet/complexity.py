"""Parameters, FLOPs and speed of the six models (Table IV of Fahad and Ahmed).

    python -m gresnet complexity --output results/cpu/complexity.json

Counts come from fvcore, which counts one fused multiply-add as one FLOP and
skips element-wise operations (the gates' multiplications and sigmoids, the
residual additions, ReLU). At a 224×224 input this convention reproduces the
paper's Table IV. Training on CIFAR uses 32×32 inputs, where the same networks
cost about 49 times less.

Speed is measured on the current machine at 32×32: inference latency at batch
size 1 and at a larger batch, and training throughput (forward, backward and
AdamW step on random inputs, without data loading or augmentation), each as
the median over repeated calls within a time budget per measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
import torch.nn.functional as F

from . import files
from .evaluation import autocast_context
from .models import ARCHS, GATES, build_model
from .provenance import device_description, provenance
from .runtime import resolve_device, resolve_precision

# Fahad and Ahmed, Table IV: parameters (millions) and FLOPs (billions) of the 10-class models.
PAPER_TABLE_IV: dict[tuple[str, str], tuple[float, float]] = {
    ("resnet18", "base"): (11.18, 1.82),
    ("resnet18", "gated1"): (11.18, 1.82),
    ("resnet18", "gated2"): (11.88, 1.92),
    ("resnet34", "base"): (21.29, 3.67),
    ("resnet34", "gated1"): (21.29, 3.67),
    ("resnet34", "gated2"): (22.55, 3.88),
}
PAPER_RESOLUTION = 224  # input side at which fvcore's count matches Table IV
TRAIN_RESOLUTION = 32  # CIFAR image side
NUM_CLASSES = 10

DEFAULT_SECONDS = 2.0  # time budget of one measurement
DEFAULT_BATCH_SIZE = 128  # the larger inference batch
DEFAULT_TRAIN_BATCH_SIZE = 64  # the best batch size of Fahad and Ahmed's search, for both depths
_WARMUP_CALLS = 1
_MIN_CALLS = 3


def models(archs: tuple[str, ...] = tuple(ARCHS)) -> list[tuple[str, str]]:
    """(arch, variant) pairs in Table IV's order."""
    return [(arch, variant) for arch in archs for variant in GATES]


def count(arch: str, variant: str, resolution: int = PAPER_RESOLUTION, num_classes: int = NUM_CLASSES) -> dict:
    """Parameters and fvcore FLOPs of one model at a square input of side ``resolution``."""
    with warnings.catch_warnings():
        # fvcore 0.1.5 calls torch.jit.script at import, which torch 2.10+ marks as deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        from fvcore.nn import FlopCountAnalysis, parameter_count

    model = build_model(arch, variant, num_classes).eval()
    flops = FlopCountAnalysis(model, torch.zeros(1, 3, resolution, resolution))
    flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return {"params": int(parameter_count(model)[""]), "flops": int(flops.total())}


def _time_calls(step: Callable[[], None], device: torch.device, seconds: float) -> float:
    """Median seconds per call of ``step`` over at least a few calls and about ``seconds`` of calls."""
    def synchronize() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(_WARMUP_CALLS):
        step()
    synchronize()
    durations: list[float] = []
    budget_end = time.perf_counter() + seconds
    while len(durations) < _MIN_CALLS or time.perf_counter() < budget_end:
        started = time.perf_counter()
        step()
        synchronize()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def time_model(
    arch: str,
    variant: str,
    device: torch.device,
    autocast_dtype: torch.dtype | None,
    seconds: float = DEFAULT_SECONDS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    train_batch_size: int = DEFAULT_TRAIN_BATCH_SIZE,
    num_classes: int = NUM_CLASSES,
) -> dict:
    """Inference latency at batch 1 and ``batch_size``, and training images per second, at 32×32."""
    torch.manual_seed(0)
    model = build_model(arch, variant, num_classes).to(device, memory_format=torch.channels_last)

    def inputs(n: int) -> torch.Tensor:
        shape = (n, 3, TRAIN_RESOLUTION, TRAIN_RESOLUTION)
        return torch.randn(shape, device=device).contiguous(memory_format=torch.channels_last)

    model.eval()
    latency = {}
    for n in (1, batch_size):
        x = inputs(n)

        @torch.no_grad()
        def infer() -> None:
            with autocast_context(device, autocast_dtype):
                model(x)

        latency[n] = _time_calls(infer, device, seconds)

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = inputs(train_batch_size)
    y = torch.randint(0, num_classes, (train_batch_size,), device=device)

    def train_step() -> None:
        with autocast_context(device, autocast_dtype):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step_seconds = _time_calls(train_step, device, seconds)
    return {
        "latency_ms_batch1": 1000 * latency[1],
        "latency_ms_batch": 1000 * latency[batch_size],
        "inference_images_per_second": batch_size / latency[batch_size],
        "train_images_per_second": train_batch_size / step_seconds,
    }


def measure(
    seconds: float = DEFAULT_SECONDS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    train_batch_size: int = DEFAULT_TRAIN_BATCH_SIZE,
    device: str = "auto",
    precision: str = "auto",
    timing: bool = True,
    archs: tuple[str, ...] = tuple(ARCHS),
) -> dict:
    """Count and (unless ``timing`` is False) time every model; return a JSON-ready report.

    Args:
        seconds: time budget of each speed measurement (three per model).
        batch_size: the larger inference batch.
        train_batch_size: images per training step.
        device, precision: as in RunConfig; precision applies to the speed measurements only.
        timing: measure speed as well as counting.
        archs: depths to include.
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}")
    for name, value in (("batch_size", batch_size), ("train_batch_size", train_batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    unknown = [arch for arch in archs if arch not in ARCHS]
    if unknown:
        raise ValueError(f"invalid arch {unknown[0]!r}; valid choices: {', '.join(ARCHS)}")

    torch_device = resolve_device(device)
    autocast_dtype = resolve_precision(precision, torch_device)
    started = time.perf_counter()
    rows = []
    for arch, variant in models(archs):
        row = {"arch": arch, "variant": variant, "num_classes": NUM_CLASSES}
        at_224 = count(arch, variant, PAPER_RESOLUTION)
        row["params"] = at_224["params"]
        row["flops_224"] = at_224["flops"]
        row["flops_32"] = count(arch, variant, TRAIN_RESOLUTION)["flops"]
        if timing:
            row.update(time_model(arch, variant, torch_device, autocast_dtype, seconds, batch_size, train_batch_size))
        rows.append(row)

    return {
        "flop_convention": "fvcore: one fused multiply-add counts as one FLOP; element-wise operations are not counted",
        "paper": "Fahad and Ahmed, Table IV",
        "timing": None if not timing else {
            "device": torch_device.type,
            "device_name": device_description(torch_device),
            "precision": str(autocast_dtype).removeprefix("torch.") if autocast_dtype else "float32",
            "resolution": TRAIN_RESOLUTION,
            "seconds_per_measurement": seconds,
            "batch_size": batch_size,
            "train_batch_size": train_batch_size,
            "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        },
        "models": rows,
        "provenance": provenance(torch_device, time.perf_counter() - started),
    }


def table_iv(report: dict) -> pd.DataFrame:
    """Our counts beside Table IV's, in millions of parameters and GFLOPs, with the differences."""
    rows = []
    for row in report["models"]:
        paper_params, paper_flops = PAPER_TABLE_IV[(row["arch"], row["variant"])]
        params, flops = row["params"] / 1e6, row["flops_224"] / 1e9
        rows.append({
            "model": f"{row['arch']} {row['variant']}",
            ("Params (M)", "ours"): round(params, 2), ("Params (M)", "paper"): paper_params,
            ("Params (M)", "diff"): round(round(params, 2) - paper_params, 2),
            ("FLOPs (G), 224×224", "ours"): round(flops, 2), ("FLOPs (G), 224×224", "paper"): paper_flops,
            ("FLOPs (G), 224×224", "diff"): round(round(flops, 2) - paper_flops, 2),
            ("FLOPs (G), 32×32", "ours"): round(row["flops_32"] / 1e9, 3),
            ("exact", "params"): row["params"],
        })
    table = pd.DataFrame(rows).set_index("model")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    return table


def speed_table(report: dict) -> pd.DataFrame:
    """Latency and throughput per model, as measured."""
    if report["timing"] is None:
        raise ValueError("the report has no speed measurements; run measure(timing=True)")
    batch = report["timing"]["batch_size"]
    train_batch = report["timing"]["train_batch_size"]
    return pd.DataFrame([
        {
            "model": f"{row['arch']} {row['variant']}",
            "latency, batch 1 (ms)": round(row["latency_ms_batch1"], 2),
            f"latency, batch {batch} (ms)": round(row["latency_ms_batch"], 1),
            f"inference, batch {batch} (images/s)": round(row["inference_images_per_second"]),
            f"training, batch {train_batch} (images/s)": round(row["train_images_per_second"]),
        }
        for row in report["models"]
    ]).set_index("model")


def load_report(path: str | os.PathLike) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run `python -m gresnet complexity --output {path}` first")
    return files.read_json(path)


# --- command line -------------------------------------------------------------


def add_complexity_command(commands: argparse._SubParsersAction) -> None:
    """Add ``python -m gresnet complexity`` to the CLI's subcommands."""
    from .cli import _positive_int  # noqa: PLC0415 (cli imports this module)
    from .config import DEVICES, PRECISIONS

    parser = commands.add_parser(
        "complexity", help="parameters, fvcore FLOPs and speed of the six models (Table IV)",
        description="Count parameters and FLOPs with fvcore at 224×224 (Table IV's convention) and 32×32, "
                    "and measure inference latency and training throughput at 32×32 on this machine.",
    )
    parser.add_argument("--output", default=None, help="write the report as JSON to this file (default: print only)")
    parser.add_argument("--arch", choices=tuple(ARCHS), action="append", default=None,
                        help="depth to include; repeat for several (default: both)")
    parser.add_argument("--seconds", type=_positive_float, default=DEFAULT_SECONDS,
                        help="time budget of each speed measurement, in seconds (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive_int, default=DEFAULT_BATCH_SIZE,
                        help="the larger inference batch (default: %(default)s)")
    parser.add_argument("--train-batch-size", type=_positive_int, default=DEFAULT_TRAIN_BATCH_SIZE,
                        help="images per training step (default: %(default)s)")
    parser.add_argument("--no-timing", action="store_true", help="count parameters and FLOPs only")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto = CUDA, then MPS, then CPU (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="autocast precision of the speed measurements (default: %(default)s)")
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.set_defaults(handler=_cmd_complexity)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def _cmd_complexity(args: argparse.Namespace) -> int:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    report = measure(seconds=args.seconds, batch_size=args.batch_size, train_batch_size=args.train_batch_size,
                     device=args.device, precision=args.precision, timing=not args.no_timing,
                     archs=tuple(args.arch or ARCHS))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"Table IV (fvcore, {report['flop_convention'].split(': ', 1)[1]}):")
        print(table_iv(report).to_string())
        if report["timing"] is not None:
            timing = report["timing"]
            print(f"\nSpeed at {timing['resolution']}×{timing['resolution']} on {timing['device_name']}, "
                  f"{timing['precision']}:")
            print(speed_table(report).to_string())
    if args.output:
        files.write_json(args.output, report)
        print(f"\nwritten to {args.output}")
    return 0
