"""Device and numeric precision selection."""

from __future__ import annotations

from pathlib import Path

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """Return the requested device; ``auto`` picks CUDA, then Apple MPS, then CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA device is available; use --device auto or cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' requested but Apple MPS is not available; use --device auto or cpu")
    return torch.device(name)


def cpu_has_bf16() -> bool:
    """Whether the CPU has native bfloat16 instructions (AVX512-BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """Return the autocast dtype, or None for plain float32.

    ``auto`` uses bfloat16 autocast on CUDA devices that support it and on
    CPUs with native bfloat16 instructions, where it trains faster than
    float32; elsewhere float32.
    """
    if name == "float32":
        return None
    if name == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return None
