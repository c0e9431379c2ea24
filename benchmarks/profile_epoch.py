"""Time of one gresnet training epoch, by phase and by operator.

Usage::

    python benchmarks/profile_epoch.py                    # one full epoch of resnet18 base
    python benchmarks/profile_epoch.py --steps 100        # the first 100 steps only

Runs the epoch function of ``gresnet.training`` under ``torch.profiler`` with
the augmentation, the forward pass and the optimiser step each labelled, and
writes ``<results-dir>/profile-<arch>-<variant>.md``: the share of each phase
and the operators with the largest self time. The profiler adds overhead per
operator, so the epoch runs slower than without it; the shares are what the
report is for.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import logging
import sys
import warnings
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, record_function, schedule

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gresnet import files, training  # noqa: E402
from gresnet.config import PAPER_BEST, RunConfig  # noqa: E402
from gresnet.data import load_cifar  # noqa: E402
from gresnet.models import ARCHS, GATES, build_model  # noqa: E402
from gresnet.provenance import device_description, package_versions  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PHASES = ("augmentation", "forward", "backward", "optimizer")
TOP_OPERATORS = 15
CYCLE_STEPS = 50  # training steps per profiler cycle
STEP_RANGE = "ProfilerStep*"  # the key under which key_averages sums the profiler's per-step ranges


def _labelled(label: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with record_function(label):
            return function(*args, **kwargs)

    return wrapper


class _LabelledTransform:
    """Wraps a BatchTransform so that its calls show up as one profiler range."""

    def __init__(self, transform) -> None:
        self.transform = transform

    def __call__(self, *args, **kwargs):
        with record_function("augmentation"):
            return self.transform(*args, **kwargs)


@dataclasses.dataclass
class OperatorTotals:
    """Call count and times of one profiler key, summed over the epoch."""

    calls: int = 0
    self_seconds: float = 0.0
    total_seconds: float = 0.0


class _Accumulator:
    """Sums ``key_averages`` over profiler cycles, so that a whole epoch fits in memory."""

    def __init__(self) -> None:
        self.totals: dict[str, OperatorTotals] = {}

    def __call__(self, profiler) -> None:
        for event in profiler.key_averages():
            entry = self.totals.setdefault(event.key, OperatorTotals())
            entry.calls += event.count
            entry.self_seconds += event.self_cpu_time_total / 1e6
            entry.total_seconds += event.cpu_time_total / 1e6


def profile_epoch(arch: str, variant: str, steps: int | None, device: str, precision: str, data_dir: str | None):
    """Profile the first ``steps`` steps of epoch 1 (all steps when None).

    Returns the summed operator times, the epoch's time in seconds (the sum of the profiler's step ranges),
    the run config and the setup.
    """
    config = RunConfig(arch=arch, variant=variant, device=device, precision=precision, **PAPER_BEST[arch])
    data = load_cifar("cifar10", data_dir)
    setup = training._prepare(config, data_dir, data, download=False)
    if steps is not None:
        setup = dataclasses.replace(setup, train_idx=setup.train_idx[: steps * config.batch_size])
    setup = dataclasses.replace(setup, transform=_LabelledTransform(setup.transform))

    torch.manual_seed(config.seed)
    model = build_model(config.arch, config.variant, data.num_classes)
    model = model.to(setup.device, memory_format=torch.channels_last)
    model.forward = _labelled("forward", model.forward)
    optimizer = training._make_optimizer(config, model)
    labelled_step = _labelled("optimizer", optimizer.step)

    # Events are summed and dropped every CYCLE_STEPS steps; a whole epoch's events exceed the memory of small machines.
    accumulator = _Accumulator()
    # Every step of the epoch is recorded, so the cycles have no warm-up steps.
    warnings.filterwarnings("ignore", message="Profiler won't be using warmup")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if setup.device.type == "cuda" else [])
    with profile(activities=activities, schedule=schedule(wait=0, warmup=0, active=CYCLE_STEPS),
                 on_trace_ready=accumulator) as profiler:

        def step_and_advance(*args, **kwargs):
            result = labelled_step(*args, **kwargs)
            profiler.step()
            return result

        optimizer.step = step_and_advance
        training._train_epoch(model, optimizer, setup, config, 1, None, progress=False)
    # The step ranges cover the loop and leave out the profiler's own work between cycles.
    seconds = accumulator.totals[STEP_RANGE].total_seconds
    return accumulator.totals, seconds, config, setup


def _phase_seconds(totals: dict[str, OperatorTotals]) -> dict[str, float]:
    phases = {phase: 0.0 for phase in PHASES}
    for key, entry in totals.items():
        if key in ("augmentation", "forward", "optimizer"):
            phases[key] += entry.total_seconds
        elif key.startswith("autograd::engine::evaluate_function"):
            phases["backward"] += entry.total_seconds
    return phases


def render(totals: dict[str, OperatorTotals], seconds: float, config: RunConfig, setup) -> str:
    images = len(setup.train_idx)
    phases = _phase_seconds(totals)
    other = max(seconds - sum(phases.values()), 0.0)
    device = setup.device
    versions = package_versions()
    lines = [
        f"### Profile of one gresnet training epoch: {config.arch} {config.variant}",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')} on "
        f"{device_description(device)}; torch {versions['torch']}; {images:,} images in batches of "
        f"{config.batch_size}, autocast {setup.autocast_dtype}, under torch.profiler: {seconds:.1f} s, "
        f"{images / seconds:,.0f} images/s. Times are wall times of profiler ranges: the epoch is the sum of "
        "the step ranges, each phase the sum of its own ranges, and backward the sum of the autograd engine's "
        "functions.",
        "",
        "| phase | seconds | share |",
        "|---|--:|--:|",
    ]
    for phase, value in [*phases.items(), ("other (loop, loss, bookkeeping)", other)]:
        lines.append(f"| {phase} | {value:.2f} | {100 * value / seconds:.1f}% |")
    lines += [
        "",
        f"Operators with the largest self CPU time (top {TOP_OPERATORS}):",
        "",
        "| operator | calls | self CPU seconds | share of the epoch |",
        "|---|--:|--:|--:|",
    ]
    ranked = sorted(totals.items(), key=lambda item: item[1].self_seconds, reverse=True)
    for key, entry in ranked[:TOP_OPERATORS]:
        share = 100 * entry.self_seconds / seconds
        lines.append(f"| `{key}` | {entry.calls:,} | {entry.self_seconds:.2f} | {share:.1f}% |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/profile_epoch.py", description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=tuple(ARCHS), default="resnet18", help="architecture (default: %(default)s)")
    parser.add_argument("--variant", choices=tuple(GATES), default="base", help="variant (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=None,
                        help="profile only the first STEPS steps of the epoch (default: the whole epoch)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="training device (default: %(default)s)")
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default="auto",
                        help="autocast of the gresnet loop (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's default, one per core); one thread "
                             "gives steadier shares on a machine shared with other work")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding cifar-10-batches-py/ (default: $GRESNET_DATA, else ./data)")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                        help="where profile-<arch>-<variant>.md is written (default: benchmarks/results)")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be >= 1, got {args.threads}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    totals, seconds, config, setup = profile_epoch(args.arch, args.variant, args.steps, args.device,
                                                   args.precision, args.data_dir)
    text = render(totals, seconds, config, setup)
    path = files.write_text(args.results_dir / f"profile-{args.arch}-{args.variant}.md", text)
    print(text)
    logging.getLogger("benchmark").info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
