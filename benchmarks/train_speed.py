"""Training and evaluation speed of the gresnet loop against a plain PyTorch loop.

Usage::

    python benchmarks/train_speed.py              # 4 models, speed, peak, accuracy check
    python benchmarks/train_speed.py --quick      # resnet18 base only, short segments
    bash benchmarks/gpu.sh                        # the same measurement on a CUDA device

Both loops train the same model from the same initial weights with the same
optimiser (AdamW with the learning rate and weight decay of
``gresnet.config.PAPER_BEST``, the best values of Fahad and Ahmed's search),
batch size and "standard" augmentation. The gresnet loop is the epoch function that
``gresnet.training.train`` runs: uint8 images on the device, batch
augmentation (``BatchTransform``), channels-last, autocast as
``gresnet.runtime.resolve_precision`` picks it. The plain loop
(``plain_loop.py``) is a PIL Dataset with DataLoader workers in float32.

The two loops run in one process in alternating segments, the order reversed
on every repeat (A B, B A, A B, ...), so that load from other processes and
thermal drift reach both equally. Each segment starts with untimed warm-up
steps. Results go to ``<results-dir>/latest.md`` and ``latest.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plain_loop  # noqa: E402
import report  # noqa: E402
from gresnet import training  # noqa: E402
from gresnet.cli import _non_negative_int, _positive_int  # noqa: E402
from gresnet.config import PAPER_BEST, RunConfig  # noqa: E402
from gresnet.data import DatasetCorruptedError, DatasetNotFoundError, load_cifar  # noqa: E402
from gresnet.evaluation import EVAL_BATCH_SIZE, predict  # noqa: E402
from gresnet.models import ARCHS, GATES, build_model  # noqa: E402
from gresnet.provenance import device_description, git_commit, package_versions  # noqa: E402
from gresnet.runtime import resolve_device, resolve_precision  # noqa: E402

log = logging.getLogger("benchmark")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LOOPS = ("gresnet", "plain")
IMAGE_SIZE = 32  # pixels; the CIFAR input every FLOP count here refers to


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything that determines one benchmark run."""

    archs: tuple[str, ...] = ("resnet18", "resnet34")
    variants: tuple[str, ...] = ("base", "gated2")
    batch_size: int = 64
    steps: int = 20  # timed training steps per segment
    warmup: int = 3  # untimed training steps before each timed segment
    repeats: int = 3  # segments per loop and model
    eval_images: int = 2000  # validation images per timed evaluation pass
    eval_batch_size: int = EVAL_BATCH_SIZE
    workers: int = plain_loop.DEFAULT_WORKERS  # DataLoader workers of the plain loop
    device: str = "auto"
    threads: tuple[int, ...] = ()  # torch intra-op thread counts to measure (empty: torch's default only)
    precision: str = "auto"  # of the gresnet loop; the plain loop runs in float32
    peak_size: int = 0  # side of the square matrices for the peak (0: by device)
    accuracy: bool = True
    accuracy_epochs: int = 2
    accuracy_images: int = 5000  # training images, a stratified subset
    accuracy_val_images: int = 5000
    accuracy_seeds: int = 3
    data_dir: str | None = None


QUICK = dict(archs=("resnet18",), variants=("base",), steps=10, warmup=2, repeats=2, eval_images=1000,
             accuracy_epochs=1, accuracy_images=1000, accuracy_val_images=1000, accuracy_seeds=2)


# --- the two loops, each able to run timed training and evaluation segments ----


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class GresnetLoop:
    """The epoch function of ``gresnet.training``, called on slices of the training split."""

    precision_name = ""

    def __init__(self, config: RunConfig, data, settings: Settings) -> None:
        self.config = config
        self.setup = training._prepare(config, settings.data_dir, data, download=False)
        self.device = self.setup.device
        self.precision_name = report.precision_label(self.setup.autocast_dtype)
        torch.manual_seed(config.seed)
        model = build_model(config.arch, config.variant, data.num_classes)
        self.model = model.to(self.device, memory_format=torch.channels_last)
        self.optimizer = training._make_optimizer(config, self.model)
        val_idx = self.setup.val_idx[: settings.eval_images]
        self.val_images = data.train.images[val_idx].to(self.device)
        self.val_labels = data.train.labels[val_idx].to(self.device)
        self.segment = 0

    def _epoch(self, images: int) -> None:
        # Each segment is a short epoch over the first images of the training split, in its own random order.
        self.segment += 1
        setup = dataclasses.replace(self.setup, train_idx=self.setup.train_idx[:images])
        training._train_epoch(self.model, self.optimizer, setup, self.config, self.segment, None, progress=False)

    def time_training(self, steps: int, warmup: int) -> tuple[int, float]:
        batch = self.config.batch_size
        if warmup:
            self._epoch(warmup * batch)
        _synchronize(self.device)
        started = time.perf_counter()
        self._epoch(steps * batch)
        _synchronize(self.device)
        return steps * batch, time.perf_counter() - started

    def time_evaluation(self, batch_size: int) -> tuple[int, float]:
        _synchronize(self.device)
        started = time.perf_counter()
        predict(self.model, self.val_images, self.val_labels, self.setup.transform, self.device,
                self.setup.autocast_dtype, batch_size=batch_size)
        _synchronize(self.device)
        return len(self.val_labels), time.perf_counter() - started

class PlainLoop:
    """``plain_loop``: PIL Dataset, DataLoader workers, float32, channels-first."""

    precision_name = "float32"

    def __init__(self, config: RunConfig, data, settings: Settings) -> None:
        self.config = config
        setup = training._prepare(config, settings.data_dir, data, download=False)
        self.device = setup.device
        self.workers = settings.workers
        mean, std = setup.transform.mean.flatten().tolist(), setup.transform.std.flatten().tolist()
        torch.manual_seed(config.seed)
        self.model = build_model(config.arch, config.variant, data.num_classes).to(self.device)
        self.optimizer = plain_loop.make_optimizer(config, self.model)
        images, labels = data.train.images, data.train.labels
        self.train_set = plain_loop.ArrayCifar(images[setup.train_idx], labels[setup.train_idx],
                                               plain_loop.train_transform(mean, std))
        val_idx = setup.val_idx[: settings.eval_images]
        self.val_set = plain_loop.ArrayCifar(images[val_idx], labels[val_idx], plain_loop.eval_transform(mean, std))
        self.segment = 0

    def time_training(self, steps: int, warmup: int) -> tuple[int, float]:
        # A fresh loader per segment, as a new epoch starts one; warm-up steps absorb the worker start.
        self.segment += 1
        loader = plain_loop.make_loader(self.train_set, self.config.batch_size, shuffle=True, workers=self.workers,
                                        device=self.device, seed=self.config.seed * 1_000_003 + self.segment)
        batches = iter(loader)
        plain_loop.train_steps(self.model, self.optimizer, batches, warmup, self.device)
        _synchronize(self.device)
        started = time.perf_counter()
        _, _, seen = plain_loop.train_steps(self.model, self.optimizer, batches, steps, self.device)
        _synchronize(self.device)
        elapsed = time.perf_counter() - started
        del batches
        return seen, elapsed

    def time_evaluation(self, batch_size: int) -> tuple[int, float]:
        # One full validation pass, including the start of the loader's workers.
        loader = plain_loop.make_loader(self.val_set, batch_size, shuffle=False, workers=self.workers, device=self.device)
        _synchronize(self.device)
        started = time.perf_counter()
        _, seen = plain_loop.evaluate(self.model, loader, self.device)
        _synchronize(self.device)
        return seen, time.perf_counter() - started

LOOP_CLASSES = {"gresnet": GresnetLoop, "plain": PlainLoop}


def model_config(settings: Settings, arch: str, variant: str, seed: int = 0, **changes) -> RunConfig:
    return RunConfig(arch=arch, variant=variant, device=settings.device, precision=settings.precision, seed=seed,
                     **{**PAPER_BEST[arch], "batch_size": settings.batch_size, "augmentation": "standard", **changes})


def measure_speed(settings: Settings, data, arch: str, variant: str, threads: int) -> dict:
    """Alternate timed segments of both loops on one model; return images/s per segment and loop."""
    config = model_config(settings, arch, variant)
    loops = {name: LOOP_CLASSES[name](config, data, settings) for name in LOOPS}
    train_rates: dict[str, list[float]] = {name: [] for name in LOOPS}
    eval_rates: dict[str, list[float]] = {name: [] for name in LOOPS}
    for repeat in range(settings.repeats):
        order = LOOPS if repeat % 2 == 0 else tuple(reversed(LOOPS))
        for name in order:
            images, seconds = loops[name].time_training(settings.steps, settings.warmup)
            train_rates[name].append(images / seconds)
            images, seconds = loops[name].time_evaluation(settings.eval_batch_size)
            eval_rates[name].append(images / seconds)
            log.info("%s %s %s, torch threads %d, repeat %d/%d: train %.1f img/s, eval %.1f img/s", arch, variant, name,
                     threads, repeat + 1, settings.repeats, train_rates[name][-1], eval_rates[name][-1])
    return {
        "arch": arch,
        "variant": variant,
        "threads": threads,
        "precision": {name: loops[name].precision_name for name in LOOPS},
        "train": train_rates,
        "eval": eval_rates,
    }


# --- hardware peak and model FLOPs -----------------------------------------------


def measure_peak(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 10) -> float:
    """Best FLOP/s of ``size``×``size`` matrix products, counting 2·size³ operations each."""
    generator = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    b = torch.randn(size, size, device=device, dtype=dtype, generator=generator)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        _synchronize(device)
        started = time.perf_counter()
        torch.mm(a, b)
        _synchronize(device)
        best = max(best, report.FLOPS_PER_MAC * size**3 / (time.perf_counter() - started))
    return best


def forward_flops(arch: str, variant: str, num_classes: int) -> int:
    """fvcore's forward count for one 32×32 image (one multiply-add counted as one FLOP)."""
    from fvcore.nn import FlopCountAnalysis

    model = build_model(arch, variant, num_classes).eval()
    analysis = FlopCountAnalysis(model, torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(analysis.total())


# --- accuracy after the same budget ------------------------------------------------


def gresnet_accuracy(config: RunConfig, data, output_dir: Path) -> dict:
    result = training.train(config, output_dir, data=data, progress=False)
    history = result.history
    return {"val_acc": float(history["val_acc"].iloc[-1]),
            "train_images_per_second": float(history["train_images_per_second"].mean())}


def plain_accuracy(config: RunConfig, data, settings: Settings) -> dict:
    """Train the plain loop on the same subset, from the same initial weights, for the same epochs."""
    setup = training._prepare(config, settings.data_dir, data, download=False)
    device = setup.device
    mean, std = setup.transform.mean.flatten().tolist(), setup.transform.std.flatten().tolist()
    images, labels = data.train.images, data.train.labels
    train_set = plain_loop.ArrayCifar(images[setup.train_idx], labels[setup.train_idx],
                                      plain_loop.train_transform(mean, std))
    val_set = plain_loop.ArrayCifar(images[setup.val_idx], labels[setup.val_idx], plain_loop.eval_transform(mean, std))

    torch.manual_seed(config.seed)
    model = build_model(config.arch, config.variant, data.num_classes).to(device)
    optimizer = plain_loop.make_optimizer(config, model)
    loader = plain_loop.make_loader(train_set, config.batch_size, shuffle=True, workers=settings.workers,
                                    device=device, seed=config.seed)
    rates = []
    for _ in range(config.epochs):
        started = time.perf_counter()
        _, _, seen = plain_loop.train_steps(model, optimizer, iter(loader), len(loader), device)
        _synchronize(device)
        rates.append(seen / (time.perf_counter() - started))

    val_loader = plain_loop.make_loader(val_set, settings.eval_batch_size, shuffle=False, workers=settings.workers,
                                        device=device)
    correct, seen = plain_loop.evaluate(model, val_loader, device)
    return {"val_acc": correct / seen, "train_images_per_second": statistics.fmean(rates)}


def compare_accuracy(settings: Settings, data) -> dict:
    """Final validation accuracy of both loops over seeds 0..n-1, alternating loops per seed."""
    arch, variant = settings.archs[0], settings.variants[0]
    runs: dict[str, list[dict]] = {name: [] for name in LOOPS}
    with tempfile.TemporaryDirectory(prefix="gresnet-accuracy-") as scratch:
        for seed in range(settings.accuracy_seeds):
            config = model_config(settings, arch, variant, seed=seed, epochs=settings.accuracy_epochs,
                                  train_subset=settings.accuracy_images, val_size=settings.accuracy_val_images,
                                  test_subset=min(500, settings.accuracy_val_images))
            order = LOOPS if seed % 2 == 0 else tuple(reversed(LOOPS))
            for name in order:
                if name == "gresnet":
                    run = gresnet_accuracy(config, data, Path(scratch))
                else:
                    run = plain_accuracy(config, data, settings)
                runs[name].append({"seed": seed, **run})
                log.info("accuracy %s %s %s seed %d: val acc %.4f", arch, variant, name, seed, run["val_acc"])
    return report.summarise_accuracy(runs, arch, variant, settings)


# --- command line ---------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    d = Settings()
    quick = ", ".join(f"{name.replace('_', '-')} {value if not isinstance(value, tuple) else ' '.join(value)}"
                      for name, value in QUICK.items())
    parser = argparse.ArgumentParser(
        prog="python benchmarks/train_speed.py",
        description="Training and evaluation images/s of the gresnet loop against a plain PyTorch "
                    "DataLoader+PIL loop, the device's peak matrix-multiply FLOP/s, model FLOPs utilisation, "
                    "and validation accuracy of both loops after the same small budget.",
    )
    parser.add_argument("--quick", action="store_true",
                        help=f"smaller defaults ({quick}); explicit options still apply")

    models = parser.add_argument_group("models")
    models.add_argument("--archs", nargs="+", choices=tuple(ARCHS), default=None,
                        help=f"architectures (default: {' '.join(d.archs)})")
    models.add_argument("--variants", nargs="+", choices=tuple(GATES), default=None,
                        help=f"skip-connection variants (default: {' '.join(d.variants)})")

    timing = parser.add_argument_group("speed measurement")
    timing.add_argument("--batch-size", type=_positive_int, default=d.batch_size,
                        help="training batch size in images (default: %(default)s)")
    timing.add_argument("--steps", type=_positive_int, default=None,
                        help=f"timed training steps per segment (default: {d.steps})")
    timing.add_argument("--warmup", type=_non_negative_int, default=None,
                        help=f"untimed training steps before each segment (default: {d.warmup})")
    timing.add_argument("--repeats", type=_positive_int, default=None,
                        help=f"timed segments per loop and model (default: {d.repeats})")
    timing.add_argument("--eval-images", type=_positive_int, default=None,
                        help=f"validation images per timed evaluation pass (default: {d.eval_images})")
    timing.add_argument("--eval-batch-size", type=_positive_int, default=d.eval_batch_size,
                        help="evaluation batch size in images, both loops (default: %(default)s)")
    timing.add_argument("--workers", type=_non_negative_int, default=d.workers,
                        help="DataLoader worker processes of the plain loop (default: %(default)s)")
    timing.add_argument("--peak-size", type=_non_negative_int, default=d.peak_size,
                        help="side of the square matrices timed for the peak FLOP/s; 0 picks 2048 on CPU "
                             "and 8192 on GPU (default: %(default)s)")

    hardware = parser.add_argument_group("device")
    hardware.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default=d.device,
                          help="auto: CUDA, then Apple MPS, then CPU (default: %(default)s)")
    hardware.add_argument("--threads", type=_positive_int, nargs="+", default=None,
                          help="torch intra-op thread counts to measure, each in its own pass; the accuracy "
                               "comparison uses the first (default: torch's default, one per core)")
    hardware.add_argument("--precision", choices=("auto", "float32", "bfloat16"), default=d.precision,
                          help="autocast of the gresnet loop; the plain loop always runs in float32 "
                               "(default: %(default)s)")

    accuracy = parser.add_argument_group("accuracy comparison (first arch and variant)")
    accuracy.add_argument("--accuracy-epochs", type=_positive_int, default=None,
                          help=f"training epochs (default: {d.accuracy_epochs})")
    accuracy.add_argument("--accuracy-images", type=_positive_int, default=None,
                          help=f"training images, a stratified subset (default: {d.accuracy_images})")
    accuracy.add_argument("--accuracy-val-images", type=_positive_int, default=None,
                          help=f"held-out validation images, at least 10 (default: {d.accuracy_val_images})")
    accuracy.add_argument("--accuracy-seeds", type=_positive_int, default=None,
                          help=f"seeds per loop (default: {d.accuracy_seeds})")
    accuracy.add_argument("--skip-accuracy", action="store_true", help="measure speed only")

    paths = parser.add_argument_group("files")
    paths.add_argument("--data-dir", default=None,
                       help="folder holding cifar-10-batches-py/ (default: $GRESNET_DATA, else ./data)")
    paths.add_argument("--results-dir", type=Path, default=RESULTS_DIR,
                       help="where latest.md and latest.json are written (default: benchmarks/results)")
    return parser


def settings_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Settings:
    values = dataclasses.asdict(Settings())
    if args.quick:
        values.update(QUICK)
    for name in ("archs", "variants"):
        if getattr(args, name) is not None:
            values[name] = tuple(getattr(args, name))
    for name in ("steps", "warmup", "repeats", "eval_images", "accuracy_epochs", "accuracy_images",
                 "accuracy_val_images", "accuracy_seeds"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    values.update(threads=tuple(args.threads or ()), batch_size=args.batch_size,
                  eval_batch_size=args.eval_batch_size, workers=args.workers, device=args.device,
                  precision=args.precision, peak_size=args.peak_size, accuracy=not args.skip_accuracy,
                  data_dir=args.data_dir)
    if values["accuracy"] and values["accuracy_val_images"] < 10:
        parser.error(f"--accuracy-val-images must be >= 10 (one per class), got {values['accuracy_val_images']}")
    try:
        resolve_device(values["device"])
    except ValueError as error:
        parser.error(str(error))
    return Settings(**values)


def measure_peaks(device: torch.device, size: int) -> dict[str, float]:
    """Matrix-multiply FLOP/s per precision; on CUDA also TF32, which cuDNN uses for float32 convolutions by default."""
    peaks = {"float32": measure_peak(device, torch.float32, size), "bfloat16": measure_peak(device, torch.bfloat16, size)}
    if device.type == "cuda":
        saved = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            peaks["tf32"] = measure_peak(device, torch.float32, size)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = saved
    return peaks


def run(settings: Settings) -> dict:
    """Run every measurement and return the report as a JSON-ready dict."""
    device = resolve_device(settings.device)
    started = time.perf_counter()
    load_before = os.getloadavg()
    data = load_cifar("cifar10", settings.data_dir)
    peak_size = settings.peak_size or (8192 if device.type == "cuda" else 2048)
    thread_counts = settings.threads or (torch.get_num_threads(),)
    flops = {(arch, variant): forward_flops(arch, variant, data.num_classes)
             for arch in settings.archs for variant in settings.variants}

    peaks: dict[int, dict[str, float]] = {}
    models = []
    for threads in thread_counts:
        torch.set_num_threads(threads)
        # Peak before and after the loops, keeping the better one, to catch a quiet moment on a shared machine.
        before = measure_peaks(device, peak_size)
        speeds = [measure_speed(settings, data, arch, variant, threads)
                  for arch in settings.archs for variant in settings.variants]
        after = measure_peaks(device, peak_size)
        peaks[threads] = {name: max(before[name], after[name]) for name in before}
        for speed in speeds:
            entry = {**speed, "forward_flops": flops[(speed["arch"], speed["variant"])]}
            models.append(report.summarise_model(entry, peaks[threads], device.type))

    torch.set_num_threads(thread_counts[0])
    accuracy = compare_accuracy(settings, data) if settings.accuracy else None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device.type,
        "device_name": device_description(device),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "settings": {**dataclasses.asdict(settings), "threads": list(thread_counts)},
        "gresnet_precision": report.precision_label(resolve_precision(settings.precision, device)),
        "load_average": {"before": load_before[0], "after": os.getloadavg()[0], "logical_cpus": os.cpu_count()},
        "peak": {"matrix_size": peak_size, "flops_per_second": {str(threads): value for threads, value in peaks.items()}},
        "models": models,
        "accuracy": accuracy,
        "wall_seconds": time.perf_counter() - started,
    }


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = settings_from_args(args, parser)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        result = run(settings)
    except (DatasetNotFoundError, DatasetCorruptedError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    result["command"] = " ".join(["python benchmarks/train_speed.py", *(argv if argv is not None else sys.argv[1:])])
    paths = report.write(result, args.results_dir)
    print(report.render_markdown(result))
    log.info("wrote %s", ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
