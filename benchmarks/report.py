"""Summaries and the Markdown and JSON tables of ``train_speed.py``."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

from gresnet import files
from gresnet.text import plural

LOOP_NAMES = {"gresnet": "gresnet", "plain": "plain PyTorch"}
TRAIN_FLOPS_PER_FORWARD = 3  # a training step costs about 3 forward passes (forward + backward)
FLOPS_PER_MAC = 2  # hardware peaks count a multiply-add as 2 floating-point operations
ARCH_NAMES = {"resnet18": "ResNet-18", "resnet34": "ResNet-34"}


def precision_label(autocast_dtype: torch.dtype | None) -> str:
    return "float32" if autocast_dtype is None else str(autocast_dtype).removeprefix("torch.")


def _stats(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def peak_precision(precision: str, device_type: str) -> str:
    """Return the name of the matrix-multiply peak that a loop's convolutions are compared with.

    On CUDA, cuDNN runs float32 convolutions in TF32 unless ``torch.backends.cudnn.allow_tf32`` is off.
    """
    if precision == "bfloat16":
        return "bfloat16"
    if device_type == "cuda" and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return "float32"


def summarise_model(entry: dict, peaks: dict[str, float], device_type: str) -> dict:
    """Mean and spread of images/s per loop, speed-ups over the plain loop, and model FLOPs utilisation.

    MFU = TRAIN_FLOPS_PER_FORWARD × FLOPS_PER_MAC × fvcore forward count × images/s ÷ peak, where the
    peak is the measured matrix-multiply rate in the loop's own precision.
    """
    train_flops = TRAIN_FLOPS_PER_FORWARD * FLOPS_PER_MAC * entry["forward_flops"]
    loops = {}
    for name in LOOP_NAMES:
        precision = entry["precision"][name]
        peak_dtype = peak_precision(precision, device_type)
        train = _stats(entry["train"][name])
        loops[name] = {
            "precision": precision,
            "train_images_per_second": train,
            "eval_images_per_second": _stats(entry["eval"][name]),
            "train_flops_per_second": train["mean"] * train_flops,
            "peak_dtype": peak_dtype,
            "mfu": train["mean"] * train_flops / peaks[peak_dtype],
        }
    speedup = {
        kind: loops["gresnet"][f"{kind}_images_per_second"]["mean"] / loops["plain"][f"{kind}_images_per_second"]["mean"]
        for kind in ("train", "eval")
    }
    return {"arch": entry["arch"], "variant": entry["variant"], "threads": entry["threads"],
            "forward_flops": entry["forward_flops"],
            "train_flops_per_image": train_flops, "loops": loops, "speedup": speedup}


def summarise_accuracy(runs: dict[str, list[dict]], arch: str, variant: str, settings) -> dict:
    """Mean and spread of final validation accuracy per loop, and whether the difference is within noise.

    Noise is the seed-to-seed sample standard deviation of the plain loop. The gresnet loop is within noise
    when its mean differs from the plain loop's by at most twice that.
    """
    accuracy = {name: [run["val_acc"] for run in runs[name]] for name in runs}
    difference = statistics.fmean(accuracy["gresnet"]) - statistics.fmean(accuracy["plain"])
    noise = statistics.stdev(accuracy["plain"]) if len(accuracy["plain"]) > 1 else None
    return {
        "arch": arch,
        "variant": variant,
        "epochs": settings.accuracy_epochs,
        "train_images": settings.accuracy_images,
        "val_images": settings.accuracy_val_images,
        "seeds": [run["seed"] for run in runs["plain"]],
        "threads": torch.get_num_threads(),
        "runs": runs,
        "val_acc": {name: _stats(values) for name, values in accuracy.items()},
        "difference": difference,
        "noise": noise,
        "noise_definition": "sample standard deviation of the plain loop's final validation accuracy over seeds",
        "within_noise": None if noise is None else abs(difference) <= 2 * noise,
    }


def _rate(stats: dict) -> str:
    return f"{stats['mean']:,.0f} ± {stats['sd']:,.0f}"


def _precision_text(precision: str) -> str:
    return "float32" if precision == "float32" else f"{precision} autocast"


def _speed_table(result: dict) -> list[str]:
    lines = [
        "| model | threads | loop | precision | train images/s | train speed-up | eval images/s | eval speed-up "
        "| forward GFLOPs (fvcore) | MFU |",
        "|---|--:|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for model in result["models"]:
        name = f"{ARCH_NAMES.get(model['arch'], model['arch'])} {model['variant']}"
        for loop, loop_name in LOOP_NAMES.items():
            entry = model["loops"][loop]
            train_speedup = f"{model['speedup']['train']:.2f}×" if loop == "gresnet" else "1.00×"
            eval_speedup = f"{model['speedup']['eval']:.2f}×" if loop == "gresnet" else "1.00×"
            lines.append(
                f"| {name} | {model['threads']} | {loop_name} | {_precision_text(entry['precision'])} "
                f"| {_rate(entry['train_images_per_second'])} | {train_speedup} "
                f"| {_rate(entry['eval_images_per_second'])} | {eval_speedup} "
                f"| {model['forward_flops'] / 1e9:.4f} | {100 * entry['mfu']:.1f}% (of {entry['peak_dtype']}) |"
            )
    return lines


def _accuracy_lines(accuracy: dict) -> list[str]:
    seeds = accuracy["seeds"]
    lines = [
        f"Validation accuracy after {plural(accuracy['epochs'], 'epoch')} on {accuracy['train_images']:,} stratified "
        f"training images, measured on {accuracy['val_images']:,} held-out training images, "
        f"{ARCH_NAMES.get(accuracy['arch'], accuracy['arch'])} {accuracy['variant']}, seeds "
        f"{', '.join(map(str, seeds))}, {plural(accuracy['threads'], 'torch thread')}. For each seed both loops "
        "start from the same weights.",
        "",
        "| loop | validation accuracy per seed | mean ± sd | train images/s over whole epochs |",
        "|---|---|--:|--:|",
    ]
    for loop, loop_name in LOOP_NAMES.items():
        runs = accuracy["runs"][loop]
        stats = accuracy["val_acc"][loop]
        per_seed = ", ".join(f"{run['val_acc']:.4f}" for run in runs)
        rate = statistics.fmean(run["train_images_per_second"] for run in runs)
        lines.append(f"| {loop_name} | {per_seed} | {stats['mean']:.4f} ± {stats['sd']:.4f} | {rate:,.0f} |")
    lines.append("")
    if accuracy["noise"] is None:
        lines.append(f"Difference of means (gresnet − plain): {100 * accuracy['difference']:+.2f} points. "
                     "Noise needs at least two seeds, so no verdict.")
    else:
        verdict = "yes" if accuracy["within_noise"] else "no"
        lines.append(
            f"Difference of means (gresnet − plain): {100 * accuracy['difference']:+.2f} points. "
            f"Noise, the {accuracy['noise_definition']}: {100 * accuracy['noise']:.2f} points. "
            f"Within noise (|difference| ≤ 2 × noise): {verdict}."
        )
    return lines


def _peak_line(peak: dict) -> str:
    parts = []
    for threads, by_dtype in peak["flops_per_second"].items():
        rates = ", ".join(f"{name} {value / 1e9:,.0f} GFLOP/s" for name, value in by_dtype.items())
        parts.append(f"with {plural(int(threads), 'thread')}: {rates}")
    size = peak["matrix_size"]
    return f"Peak matrix multiply ({size}×{size}, the better of before and after the loops) " + "; ".join(parts) + "."


def _load_line(load: dict) -> str:
    line = (f"1-minute load average: {load['before']:.1f} before, {load['after']:.1f} after, on "
            f"{load['logical_cpus']} logical CPUs.")
    if max(load["before"], load["after"]) <= load["logical_cpus"]:
        return line
    return line + (
        " The machine was shared with other work, so absolute images/s are below an idle machine's. Both loops "
        "ran under the same load in alternating segments, so their ratio remains comparable, with one exception: "
        "with more than one torch thread on busy cores, the threads of one process wait for each other at every "
        "parallel region, and that waiting depends on the kernels, so it can differ between the loops."
    )


def render_markdown(result: dict) -> str:
    settings = result["settings"]
    versions = result["versions"]
    lines = [
        "### Training speed: gresnet loop against a plain PyTorch loop",
        "",
        f"Measured {result['date']} on {result['device_name']} ({result['device']}); Python {versions['python']}, "
        f"torch {versions['torch']}, torchvision {versions['torchvision']}, fvcore {versions['fvcore']}, "
        f"git commit {result['git_commit']}. Command: `{result.get('command', 'python benchmarks/train_speed.py')}`.",
        "",
        f"Batch {settings['batch_size']}, AdamW with each architecture's learning rate and weight decay from "
        "Fahad and Ahmed's search (`gresnet.config.PAPER_BEST`), \"standard\" augmentation. "
        f"Each segment times {settings['steps']} training steps after {settings['warmup']} "
        f"untimed ones. Each loop runs {plural(settings['repeats'], 'segment')} per model, alternating with the "
        f"other loop. Evaluation times one pass over {settings['eval_images']:,} validation images in batches of "
        f"{settings['eval_batch_size']}. Images/s are mean ± sd over segments; a speed-up is the ratio of means.",
        "",
        "- gresnet loop: the epoch function of `gresnet.training`, uint8 images on the device, batch augmentation, "
        "channels-last.",
        f"- plain PyTorch loop: PIL Dataset with RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor and "
        f"Normalize in {plural(settings['workers'], 'DataLoader worker')}, channels-first, float32.",
        "",
        *_speed_table(result),
        "",
        "fvcore counts one multiply-add as one FLOP. The MFU counts a training image as "
        f"{TRAIN_FLOPS_PER_FORWARD} forward passes and converts both the model count and the peak to "
        f"{FLOPS_PER_MAC} FLOPs per multiply-add, so the ratio does not depend on that convention. Each loop is "
        "compared with the peak in its own precision at the same thread count.",
        "",
        _peak_line(result["peak"]),
        "",
        _load_line(result["load_average"]),
    ]
    if result["accuracy"] is not None:
        lines += ["", *_accuracy_lines(result["accuracy"])]
    lines += ["", f"Total benchmark time: {result['wall_seconds'] / 60:.1f} minutes."]
    return "\n".join(lines) + "\n"


def write(result: dict, results_dir: Path) -> list[Path]:
    """Write ``latest.json`` and ``latest.md`` atomically."""
    results_dir = Path(results_dir)
    return [
        files.write_json(results_dir / "latest.json", result),
        files.write_text(results_dir / "latest.md", render_markdown(result)),
    ]


def main(argv: list[str] | None = None) -> int:
    """Render ``latest.md`` again from ``latest.json``, for a changed table layout without a new measurement."""
    parser = argparse.ArgumentParser(prog="python benchmarks/report.py", description=main.__doc__)
    parser.add_argument("--results-dir", type=Path, default=Path(__file__).resolve().parent / "results",
                        help="folder holding latest.json (default: benchmarks/results)")
    args = parser.parse_args(argv)
    source = args.results_dir / "latest.json"
    if not source.is_file():
        parser.exit(1, f"{parser.prog}: error: {source} not found; run benchmarks/train_speed.py first\n")
    path = files.write_text(args.results_dir / "latest.md", render_markdown(files.read_json(source)))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
