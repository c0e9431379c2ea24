"""Batch augmentation of uint8 image tensors on the training device.

Every random parameter (crop offset, flip, jitter factors, rotation angle) is
drawn per image, as torchvision's per-image transforms would, but the work is
done on the whole batch at once. The policies:

* ``none``: no change.
* ``standard``: random 32×32 crop from the image zero-padded by 4 pixels,
  then horizontal flip with probability 0.5.
* ``heavy``: ``standard``, then colour jitter (brightness, contrast and
  saturation factors each uniform in [0.8, 1.2]) and a rotation by an angle
  uniform in [-15°, 15°] (bilinear, zero fill).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

AUGMENTATIONS = ("none", "standard", "heavy")

CROP_PADDING = 4  # pixels
JITTER = 0.2  # brightness, contrast, saturation factors drawn from [1 - JITTER, 1 + JITTER]
MAX_ROTATION = 15.0  # degrees

_GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale


def check_augmentation(name: str) -> str:
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; valid choices: {', '.join(AUGMENTATIONS)}")
    return name


def random_crop(images: Tensor, padding: int, generator: torch.Generator) -> Tensor:
    """Crop each image at its own random offset from a zero-padded copy."""
    n, _, height, width = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n, 1), device=images.device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (n, 1), device=images.device, generator=generator)
    rows = (dy + torch.arange(height, device=images.device)).view(n, 1, height, 1)
    cols = (dx + torch.arange(width, device=images.device)).view(n, 1, 1, width)
    batch = torch.arange(n, device=images.device).view(n, 1, 1, 1)
    channels = torch.arange(images.shape[1], device=images.device).view(1, -1, 1, 1)
    return padded[batch, channels, rows, cols]


def random_flip(images: Tensor, generator: torch.Generator) -> Tensor:
    flip = torch.rand(images.shape[0], device=images.device, generator=generator) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(3), images)


def _grayscale(images: Tensor) -> Tensor:
    weights = torch.tensor(_GRAY_WEIGHTS, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)


def color_jitter(images: Tensor, strength: float, generator: torch.Generator) -> Tensor:
    """Brightness, contrast and saturation jitter of float images in [0, 1]."""
    n = images.shape[0]

    def factors() -> Tensor:
        u = torch.rand(n, 1, 1, 1, device=images.device, generator=generator, dtype=images.dtype)
        return 1.0 + strength * (2.0 * u - 1.0)

    images = (images * factors()).clamp(0.0, 1.0)
    mean_gray = _grayscale(images).mean(dim=(2, 3), keepdim=True)
    contrast = factors()
    images = (contrast * images + (1.0 - contrast) * mean_gray).clamp(0.0, 1.0)
    saturation = factors()
    images = (saturation * images + (1.0 - saturation) * _grayscale(images)).clamp(0.0, 1.0)
    return images


def random_rotation(images: Tensor, max_degrees: float, generator: torch.Generator) -> Tensor:
    """Rotate each image about its centre by its own angle (bilinear, zero fill)."""
    n = images.shape[0]
    u = torch.rand(n, device=images.device, generator=generator, dtype=images.dtype)
    angles = (2.0 * u - 1.0) * math.radians(max_degrees)
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class BatchTransform:
    """uint8 batch -> augmented, normalised float batch, all on the batch's device.

    Args:
        augmentation: one of ``AUGMENTATIONS``.
        mean, std: per-channel normalisation statistics (pixels in [0, 1]).
        channels_last: return the batch in channels-last memory format.
    """

    def __init__(self, augmentation: str, mean: list[float], std: list[float], channels_last: bool = False) -> None:
        self.augmentation = check_augmentation(augmentation)
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        self.channels_last = channels_last

    def __call__(self, images: Tensor, generator: torch.Generator | None = None, train: bool = True) -> Tensor:
        augment = train and self.augmentation != "none"
        if augment and generator is None:
            raise ValueError("augmentation needs a torch.Generator on the batch's device")
        if augment:
            images = random_crop(images, CROP_PADDING, generator)
            images = random_flip(images, generator)
        x = images.float().div_(255.0)
        if augment and self.augmentation == "heavy":
            x = color_jitter(x, JITTER, generator)
            x = random_rotation(x, MAX_ROTATION, generator)
        mean, std = self.mean.to(x.device), self.std.to(x.device)
        x = (x - mean) / std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x
