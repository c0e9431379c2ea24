"""ResNet-18/34 with gated skip connections (Fahad and Ahmed, "Enhancing Image
Classification with Modified ResNet Architectures").

The backbone is torchvision's ResNet (ImageNet stem, BasicBlocks). A gated
variant differs from it only in how a block merges its residual branch F(x)
with its shortcut s(x); that merge is a small module from ``GATES``:

* ``base``:   out = ReLU(F(x) + s(x))                  (torchvision's block)
* ``gated1``: out = ReLU(F(x) + λ ⊙ s(x)),  λ ∈ R^{1×C×1×1}, λ = 1 at start
* ``gated2``: out = ReLU(F(x) + σ(W_g s(x) + b_g) ⊙ s(x)),  W_g a C→C 1×1 conv

s(x) is the block input, or the 1×1 projection + BatchNorm where the block
changes resolution or width. The gate acts on s(x) and not on x because the
paper's Table IV adds exactly Σ C² + Σ C parameters for gated2 (0.70 M for
ResNet-18), which only a C_out→C_out convolution on the shortcut output gives.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, ResNet, resnet18, resnet34

ARCHS: dict[str, tuple[int, int, int, int]] = {
    "resnet18": (2, 2, 2, 2),
    "resnet34": (3, 4, 6, 3),
}


# --- gates: one module per way of merging residual and shortcut -------------
#
# A gate is an nn.Module with
#   forward(residual, shortcut) -> the pre-activation sum of the block,
#   reset_parameters()          -> its starting values (run after ResNet's own init),
#   readout(shortcut)           -> a JSON-ready dict describing what it learned,
#   readout_needs_input         -> whether readout depends on the batch.
# Registering a class in GATES is all a new variant needs.


class ScalarGate(nn.Module):
    """Learnable per-channel scale λ on the shortcut (gated1)."""

    readout_needs_input = False

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.lam = nn.Parameter(torch.empty(1, channels, 1, 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # λ = 1 makes the block compute exactly the plain ResNet block at start.
        nn.init.ones_(self.lam)

    def forward(self, residual: Tensor, shortcut: Tensor) -> Tensor:
        return residual + self.lam * shortcut

    def readout(self, shortcut: Tensor | None = None) -> dict:
        return {"lambda": self.lam.detach().flatten().float().cpu().tolist()}


class ConvGate(nn.Module):
    """Input-dependent sigmoid gate σ(Conv1×1(s)) on the shortcut (gated2)."""

    readout_needs_input = True

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=1, bias=True)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # The same Kaiming (fan-out) rule torchvision applies to every backbone
        # convolution; the bias keeps PyTorch's default uniform initialisation.
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")

    def gate(self, shortcut: Tensor) -> Tensor:
        return torch.sigmoid(self.conv(shortcut))

    def forward(self, residual: Tensor, shortcut: Tensor) -> Tensor:
        return residual + self.gate(shortcut) * shortcut

    def readout(self, shortcut: Tensor | None = None) -> dict:
        if shortcut is None:
            raise ValueError("ConvGate.readout needs the shortcut activations of a batch")
        per_channel = self.gate(shortcut).float().mean(dim=(0, 2, 3)).cpu()
        return {"mean_gate": float(per_channel.mean()), "mean_gate_per_channel": per_channel.tolist()}


GATES: dict[str, type[nn.Module] | None] = {
    "base": None,
    "gated1": ScalarGate,
    "gated2": ConvGate,
}
"""Variant name -> gate class taking the channel count (None: torchvision's plain sum)."""


# --- the block and the network ---------------------------------------------


class GatedBasicBlock(BasicBlock):
    """torchvision's BasicBlock whose residual/shortcut merge is a gate module.

    Parameter names of the backbone are those of ``BasicBlock``; the gate adds
    its own under ``skip_gate``.
    """

    def __init__(self, *args, gate_factory: Callable[[int], nn.Module], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.skip_gate = gate_factory(self.conv2.out_channels)

    def forward(self, x: Tensor) -> Tensor:
        residual = self.conv1(x)
        residual = self.bn1(residual)
        residual = self.relu(residual)

        residual = self.conv2(residual)
        residual = self.bn2(residual)

        shortcut = x if self.downsample is None else self.downsample(x)

        out = self.skip_gate(residual, shortcut)
        return self.relu(out)


def _validate(arch: str, variant: str, num_classes: int) -> None:
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; valid choices: {', '.join(ARCHS)}")
    if variant not in GATES:
        raise ValueError(f"unknown variant {variant!r}; valid choices: {', '.join(GATES)}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")


def build_model(arch: str, variant: str, num_classes: int) -> nn.Module:
    """Build ResNet-18/34 with the given skip-connection variant.

    Args:
        arch: ``"resnet18"`` or ``"resnet34"``.
        variant: a key of ``GATES`` (``"base"``, ``"gated1"``, ``"gated2"``).
        num_classes: size of the linear head (10 for CIFAR-10, 100 for CIFAR-100).

    Returns:
        For ``base``, torchvision's own ResNet; otherwise the same network with
        every BasicBlock replaced by a ``GatedBasicBlock``.
    """
    _validate(arch, variant, num_classes)
    factory = GATES[variant]
    if factory is None:
        builder = resnet18 if arch == "resnet18" else resnet34
        return builder(weights=None, num_classes=num_classes)

    class Block(GatedBasicBlock):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, gate_factory=factory, **kwargs)

    model = ResNet(Block, list(ARCHS[arch]), num_classes=num_classes)
    # ResNet.__init__ re-initialises every Conv2d it finds, gates included, so
    # each gate restores its own starting values afterwards.
    gate_classes = tuple(cls for cls in GATES.values() if cls is not None)
    for module in model.modules():
        if isinstance(module, gate_classes):
            module.reset_parameters()
    return model


def gated_blocks(model: nn.Module) -> list[tuple[str, GatedBasicBlock]]:
    """Return (name, block) for every gated block, in forward order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, GatedBasicBlock)]


@torch.no_grad()
def read_gates(model: nn.Module, variant: str, images: Tensor | None = None) -> dict:
    """Read the learned gates out of a model.

    Args:
        model: a model from ``build_model``.
        variant: the variant it was built with (stored in the result).
        images: a normalised batch (N, 3, H, W); required when a gate depends
            on its input (gated2), whose mean activation per block is measured
            on this batch in eval mode.

    Returns:
        ``{"variant": ..., "blocks": [...]}``; each block entry has ``name``,
        ``channels`` and the gate's ``readout`` (``lambda`` per channel for
        gated1; ``mean_gate`` overall and per channel for gated2). A base
        model has an empty block list.
    """
    blocks = gated_blocks(model)
    result: dict = {"variant": variant, "blocks": []}
    if not blocks:
        return result

    shortcuts: dict[str, Tensor] = {}
    if any(block.skip_gate.readout_needs_input for _, block in blocks):
        if images is None:
            raise ValueError(f"{variant} gates depend on the input: pass a batch of images to read_gates")
        hooks = []
        for name, block in blocks:
            def keep_shortcut(module, args, _name=name):
                shortcuts[_name] = args[1]
            hooks.append(block.skip_gate.register_forward_pre_hook(keep_shortcut))
        was_training = model.training
        model.eval()
        try:
            model(images)
        finally:
            model.train(was_training)
            for hook in hooks:
                hook.remove()
        result["batch_size"] = int(images.shape[0])

    for name, block in blocks:
        entry = {"name": name, "channels": int(block.conv2.out_channels)}
        entry.update(block.skip_gate.readout(shortcuts.get(name)))
        result["blocks"].append(entry)
    return result
