import pytest
import torch
from torch import nn
from torchvision.models import resnet18, resnet34

from gresnet import models
from gresnet.models import GATES, build_model, read_gates

# Exact parameter counts: torchvision's ResNet with a C-class head; gated1 adds
# Σ C over blocks; gated2 adds Σ (C² + C) (a C→C 1×1 convolution with bias).
PARAM_COUNTS = {
    ("resnet18", 10): {"base": 11_181_642, "gated1": 11_183_562, "gated2": 11_879_882},
    ("resnet18", 100): {"base": 11_227_812, "gated1": 11_229_732, "gated2": 11_926_052},
    ("resnet34", 10): {"base": 21_289_802, "gated1": 21_293_578, "gated2": 22_551_050},
    ("resnet34", 100): {"base": 21_335_972, "gated1": 21_339_748, "gated2": 22_597_220},
}


@pytest.mark.parametrize("arch,num_classes", sorted(PARAM_COUNTS))
@pytest.mark.parametrize("variant", ["base", "gated1", "gated2"])
def test_parameter_counts(arch, num_classes, variant):
    model = build_model(arch, variant, num_classes)
    assert sum(p.numel() for p in model.parameters()) == PARAM_COUNTS[(arch, num_classes)][variant]


@pytest.mark.parametrize("arch,reference", [("resnet18", resnet18), ("resnet34", resnet34)])
def test_base_is_torchvision(arch, reference):
    torch.manual_seed(0)
    ours = build_model(arch, "base", 10)
    theirs = reference(weights=None, num_classes=10)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    assert {k: v.shape for k, v in ours_state.items()} == {k: v.shape for k, v in theirs_state.items()}

    theirs.load_state_dict(ours_state)
    x = torch.randn(4, 3, 32, 32)
    ours.eval(), theirs.eval()
    assert torch.equal(ours(x), theirs(x))


@pytest.mark.parametrize("arch", ["resnet18", "resnet34"])
def test_gated1_at_init_equals_base(arch):
    torch.manual_seed(1)
    base = build_model(arch, "base", 10)
    gated = build_model(arch, "gated1", 10)
    missing, unexpected = gated.load_state_dict(base.state_dict(), strict=False)
    assert unexpected == []
    assert missing and all(key.endswith("skip_gate.lam") for key in missing)

    x = torch.randn(3, 3, 32, 32)
    for mode in (False, True):
        base.train(mode), gated.train(mode)
        assert torch.equal(gated(x), base(x)), f"outputs differ in {'train' if mode else 'eval'} mode"


def test_gated2_gate_is_conv_on_shortcut():
    model = build_model("resnet18", "gated2", 10)
    blocks = models.gated_blocks(model)
    assert len(blocks) == 8
    downsampling = dict(blocks)["layer2.0"]
    assert downsampling.downsample is not None
    conv = downsampling.skip_gate.conv
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (128, 128, (1, 1))
    assert conv.bias is not None


def test_new_gate_registers_in_one_place(monkeypatch):
    class ResidualScale(nn.Module):
        """ReZero-style: out = s + α·F with α = 0 at start."""

        readout_needs_input = False

        def __init__(self, channels: int) -> None:
            super().__init__()
            self.alpha = nn.Parameter(torch.zeros(1))

        def reset_parameters(self) -> None:
            nn.init.zeros_(self.alpha)

        def forward(self, residual, shortcut):
            return shortcut + self.alpha * residual

        def readout(self, shortcut=None):
            return {"alpha": float(self.alpha)}

    monkeypatch.setitem(GATES, "rezero", ResidualScale)
    model = build_model("resnet18", "rezero", 10)
    assert sum(p.numel() for p in model.parameters()) == PARAM_COUNTS[("resnet18", 10)]["base"] + 8
    gates = read_gates(model, "rezero")
    assert [block["alpha"] for block in gates["blocks"]] == [0.0] * 8


def test_read_gates_gated1_lambda_per_channel():
    model = build_model("resnet34", "gated1", 10)
    with torch.no_grad():
        model.layer4[2].skip_gate.lam.fill_(0.25)
    gates = read_gates(model, "gated1")
    assert len(gates["blocks"]) == 16
    assert [b["channels"] for b in gates["blocks"]][:3] == [64, 64, 64]
    assert gates["blocks"][0]["lambda"] == [1.0] * 64
    assert gates["blocks"][-1]["name"] == "layer4.2"
    assert gates["blocks"][-1]["lambda"] == [0.25] * 512


def test_read_gates_gated2_mean_activation():
    torch.manual_seed(0)
    model = build_model("resnet18", "gated2", 10)
    with torch.no_grad():
        model.layer1[0].skip_gate.conv.weight.zero_()
        model.layer1[0].skip_gate.conv.bias.fill_(-2.0)
    with pytest.raises(ValueError, match="pass a batch"):
        read_gates(model, "gated2")
    model.train()
    gates = read_gates(model, "gated2", torch.randn(8, 3, 32, 32))
    assert model.training, "read_gates must restore train mode"
    first = gates["blocks"][0]
    assert first["name"] == "layer1.0"
    assert first["mean_gate"] == pytest.approx(torch.sigmoid(torch.tensor(-2.0)).item(), abs=1e-6)
    assert all(0.0 < b["mean_gate"] < 1.0 for b in gates["blocks"])
    assert gates["batch_size"] == 8


def test_read_gates_base_is_empty():
    assert read_gates(build_model("resnet18", "base", 10), "base") == {"variant": "base", "blocks": []}


@pytest.mark.parametrize(
    "arch,variant,num_classes,message",
    [
        ("resnet50", "base", 10, "unknown arch 'resnet50'; valid choices: resnet18, resnet34"),
        ("resnet18", "gated3", 10, "unknown variant 'gated3'; valid choices: base, gated1, gated2"),
        ("resnet18", "base", 1, "num_classes must be an integer >= 2"),
    ],
)
def test_build_model_rejects_invalid(arch, variant, num_classes, message):
    with pytest.raises(ValueError, match=message):
        build_model(arch, variant, num_classes)
