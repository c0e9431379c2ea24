"""The reference: a CIFAR-10 training loop written the way most PyTorch code writes it.

A map-style Dataset returns one PIL image per index, torchvision's per-image
transforms (RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor,
Normalize) run in DataLoader worker processes, and the model trains in
float32 in the default (channels-first) memory format with a plain
``torch.optim.AdamW``. The Dataset mirrors ``torchvision.datasets.CIFAR10``
over the same uint8 arrays that gresnet loads, because torchvision's class
checks the md5 of the original pickles and rejects a pixel-identical copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from gresnet.augment import CROP_PADDING
from gresnet.config import RunConfig

DEFAULT_WORKERS = 2  # the DataLoader workers of PyTorch's CIFAR-10 tutorial


class ArrayCifar(Dataset):
    """CIFAR images from a uint8 (N, 3, 32, 32) tensor, returned as (PIL image, label) like torchvision's CIFAR10.

    Args:
        images: uint8 images, channels first, as ``gresnet.data`` stores them.
        labels: int64 labels.
        transform: applied to each PIL image.
    """

    def __init__(self, images: Tensor, labels: Tensor, transform=None) -> None:
        # torchvision's CIFAR10 keeps an (N, 32, 32, 3) uint8 array and builds a PIL image per item.
        self.data = np.ascontiguousarray(images.permute(0, 2, 3, 1).numpy())
        self.targets = labels.tolist()
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image = Image.fromarray(self.data[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]


def train_transform(mean: list[float], std: list[float]) -> transforms.Compose:
    """Build the "standard" augmentation as per-image PIL transforms."""
    return transforms.Compose([
        transforms.RandomCrop(32, padding=CROP_PADDING),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean, std),
    ])


def eval_transform(mean: list[float], std: list[float]) -> transforms.Compose:
    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool, workers: int, device: torch.device,
                seed: int | None = None) -> DataLoader:
    """Build a DataLoader as typical CIFAR code does. A ``seed`` fixes the shuffle and the workers' augmentation."""
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                      pin_memory=device.type == "cuda", generator=generator)


def make_optimizer(config: RunConfig, model: nn.Module) -> torch.optim.Optimizer:
    if config.optimizer != "adamw":
        raise ValueError(f"invalid optimizer {config.optimizer!r} for the plain loop; it implements only 'adamw'")
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def train_steps(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Iterator, steps: int,
                device: torch.device) -> tuple[float, int, int]:
    """Run ``steps`` training steps (fewer if ``batches`` ends); return loss sum, correct count and images seen."""
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for _ in range(steps):
        try:
            inputs, targets = next(batches)
        except StopIteration:
            break
        inputs, targets = inputs.to(device), targets.to(device)

        optimizer.zero_grad()
        outputs = model(inputs)
        loss = F.cross_entropy(outputs, targets)
        loss.backward()
        optimizer.step()

        loss_sum += loss.item() * targets.size(0)
        correct += (outputs.argmax(1) == targets).sum().item()
        seen += targets.size(0)
    return loss_sum, correct, seen


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple[int, int]:
    """Return (correct, images) over one pass of ``loader`` in eval mode."""
    model.eval()
    correct, seen = 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        correct += (outputs.argmax(1) == targets).sum().item()
        seen += targets.size(0)
    return correct, seen
