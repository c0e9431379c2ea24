"""Gated skip connections for ResNet-18/34 on CIFAR: a reproduction of Fahad and
Ahmed, "Enhancing Image Classification with Modified ResNet Architectures"."""

from .config import PAPER_BEST, RunConfig, paper_config
from .data import load_cifar
from .models import GATES, build_model, read_gates
from .training import RunResult, load_result, train

__all__ = [
    "GATES", "PAPER_BEST", "RunConfig", "RunResult", "build_model", "load_cifar", "load_result",
    "paper_config", "read_gates", "train",
]
__version__ = "0.1.0"
