"""Evaluation on a labelled split: loss, accuracy, top-5, macro metrics, predictions."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from torch import Tensor, nn

from .augment import BatchTransform

EVAL_BATCH_SIZE = 500


@dataclass
class Outputs:
    """Per-image probabilities (N, classes) float32 and labels (N,) int64 on the CPU, and the mean loss."""

    probabilities: Tensor
    labels: Tensor
    loss: float


def autocast_context(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def predict(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    transform: BatchTransform,
    device: torch.device,
    autocast_dtype: torch.dtype | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
) -> Outputs:
    """Run ``model`` in eval mode over uint8 ``images`` without augmentation."""
    was_training = model.training
    model.eval()
    probabilities, loss_sum = [], torch.zeros((), dtype=torch.float64, device=device)
    try:
        for start in range(0, len(labels), batch_size):
            x = transform(images[start : start + batch_size].to(device, non_blocking=True), train=False)
            y = labels[start : start + batch_size].to(device, non_blocking=True)
            with autocast_context(device, autocast_dtype):
                logits = model(x)
            logits = logits.float()
            loss_sum += F.cross_entropy(logits, y, reduction="sum").double()
            probabilities.append(torch.softmax(logits, dim=1).cpu())
    finally:
        model.train(was_training)
    return Outputs(torch.cat(probabilities), labels.cpu(), float(loss_sum) / max(len(labels), 1))


def accuracy(outputs: Outputs) -> float:
    top1 = outputs.probabilities.topk(1, dim=1).indices[:, 0]
    return float((top1 == outputs.labels).float().mean())


def classification_metrics(outputs: Outputs, class_names: list[str]) -> dict:
    """Top-1, top-5, macro precision/recall/F1 and the confusion matrix."""
    num_classes = len(class_names)
    k = min(5, num_classes)
    # Top-1 is the first of the top-k ranking, so metrics and the prediction
    # table agree even where two classes tie in probability.
    top_k = outputs.probabilities.topk(k, dim=1).indices
    predicted = top_k[:, 0].numpy()
    labels = outputs.labels.numpy()
    top5 = float((top_k == outputs.labels[:, None]).any(dim=1).float().mean())
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=np.arange(num_classes), average="macro", zero_division=0
    )
    matrix = confusion_matrix(labels, predicted, labels=np.arange(num_classes))
    return {
        "top1": float((predicted == labels).mean()),
        "top5": top5,
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "loss": outputs.loss,
        "num_images": int(len(labels)),
        "classes": list(class_names),
        "confusion_matrix": matrix.tolist(),
    }


def prediction_table(outputs: Outputs, k: int = 5) -> pd.DataFrame:
    """One row per test image: index, label, top-k classes and their probabilities."""
    k = min(k, outputs.probabilities.shape[1])
    top = outputs.probabilities.topk(k, dim=1)
    table = pd.DataFrame({"index": np.arange(len(outputs.labels)), "label": outputs.labels.numpy()})
    for rank in range(k):
        table[f"top{rank + 1}_class"] = top.indices[:, rank].numpy()
    for rank in range(k):
        table[f"top{rank + 1}_prob"] = np.round(top.values[:, rank].numpy().astype(np.float64), 6)
    return table
