"""Command line: ``python -m gresnet {train,data check,...}``."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from dataclasses import fields

from .config import DEVICES, OPTIMIZERS, PRECISIONS, SCHEDULES, RunConfig
from .augment import AUGMENTATIONS
from .data import DATASETS, DatasetCorruptedError, DatasetNotFoundError, check_dataset
from .models import ARCHS, GATES
from .training import NonFiniteLossError
from .book import add_book_command
from .complexity import add_complexity_command
from .reproduce import add_reproduce_command
from .search import add_search_command

_DEFAULTS = RunConfig()


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line: what is invalid and where to look."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(minimum: int):
    """Return an argparse type that parses an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def add_run_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one option per RunConfig field, with its unit and default in the help."""
    d = _DEFAULTS
    parser.add_argument("--arch", choices=tuple(ARCHS), default=d.arch, help="network depth (default: %(default)s)")
    parser.add_argument("--variant", choices=tuple(GATES), default=d.variant,
                        help="skip connection: base, gated1 (learnable λ per channel), gated2 (sigmoid 1×1-conv gate) (default: %(default)s)")
    parser.add_argument("--dataset", choices=DATASETS, default=d.dataset, help="dataset (default: %(default)s)")
    parser.add_argument("--epochs", type=_positive_int, default=d.epochs, help="training epochs (default: %(default)s)")
    parser.add_argument("--batch-size", type=_positive_int, default=d.batch_size, help="images per training step (default: %(default)s)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help="optimiser (default: %(default)s)")
    parser.add_argument("--lr", type=_finite_float, default=d.lr, help="learning rate (default: %(default)s)")
    parser.add_argument("--weight-decay", type=_finite_float, default=d.weight_decay, help="weight decay coefficient (default: %(default)s)")
    parser.add_argument("--momentum", type=_finite_float, default=d.momentum, help="SGD momentum, ignored by Adam and AdamW (default: %(default)s)")
    parser.add_argument("--schedule", choices=SCHEDULES, default=d.schedule,
                        help="learning-rate schedule: constant, or cosine decay to 0 over the epochs (default: %(default)s)")
    parser.add_argument("--augmentation", choices=AUGMENTATIONS, default=d.augmentation,
                        help="none; standard = 4-pixel-padded random crop + flip; heavy = standard + colour jitter + rotation up to 15 degrees (default: %(default)s)")
    parser.add_argument("--seed", type=_non_negative_int, default=d.seed, help="random seed for weights, order and augmentation (default: %(default)s)")
    parser.add_argument("--train-subset", type=_positive_int, default=None,
                        help="train on this many images of the training split, stratified by class (default: all)")
    parser.add_argument("--val-size", type=_positive_int, default=d.val_size,
                        help="images held out of the official training set for validation (default: %(default)s)")
    parser.add_argument("--test-subset", type=_positive_int, default=None,
                        help="evaluate on this many test images, stratified by class (default: the whole test set)")
    parser.add_argument("--device", choices=DEVICES, default=d.device, help="auto = CUDA, then MPS, then CPU (default: %(default)s)")
    parser.add_argument("--precision", choices=PRECISIONS, default=d.precision,
                        help="auto = bfloat16 autocast where the hardware has it, else float32 (default: %(default)s)")


def run_config_from_args(args: argparse.Namespace) -> RunConfig:
    return RunConfig(**{f.name: getattr(args, f.name) for f in fields(RunConfig)})


def _cmd_train(args: argparse.Namespace) -> int:
    from .training import train

    config = run_config_from_args(args)
    result = train(config, args.output, data_dir=args.data_dir, download=args.download, progress=not args.no_progress)
    metrics = result.metrics
    print(f"{result.run_dir}: test top-1 {metrics['top1']:.4f}, top-5 {metrics['top5']:.4f}, "
          f"macro F1 {metrics['f1']:.4f}" + ("" if result.trained else " (finished earlier, not retrained)"))
    return 0


def _cmd_data_check(args: argparse.Namespace) -> int:
    reports = [check_dataset(name, args.data_dir) for name in DATASETS]
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        for report in reports:
            line = f"{report['dataset']}: {report['status']} ({report['folder']})"
            if "train_images" in report:
                line += f", {report['train_images']} training and {report['test_images']} test images"
            print(line)
            if "error" in report:
                print(f"  {report['error']}")
            for key, item in report.get("digests", {}).items():
                mark = {True: "matches", False: "DIFFERS", None: "no reference"}[item["matches"]]
                print(f"  {key:13s} sha256 {item['sha256'][:16]}… {mark}")
    bad = [r for r in reports if r["status"] in ("corrupted", "digest mismatch")]
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gresnet", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser("train", help="train and evaluate one model",
                                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_run_config_arguments(train_parser)
    train_parser.add_argument("--data-dir", default=None,
                              help="folder holding cifar-10-batches-py/ or cifar-100-python/ (default: $GRESNET_DATA, else ./data)")
    train_parser.add_argument("--download", action="store_true", help="download the dataset with torchvision if missing (needs internet)")
    train_parser.add_argument("--output", default="runs", help="parent folder of the run directory")
    train_parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train_parser.set_defaults(handler=_cmd_train)

    data_parser = commands.add_parser("data", help="inspect datasets")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True)
    check_parser = data_commands.add_parser("check", help="report which datasets are present and whether their content digests match")
    check_parser.add_argument("--data-dir", default=None, help="data root (default: $GRESNET_DATA, else ./data)")
    check_parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    check_parser.set_defaults(handler=_cmd_data_check)
    add_search_command(commands)
    add_complexity_command(commands)
    add_reproduce_command(commands)
    add_book_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    try:
        return args.handler(args)
    except (ValueError, DatasetNotFoundError, DatasetCorruptedError, NonFiniteLossError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
