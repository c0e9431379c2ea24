# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The models
#
# The paper changes one line of the ResNet basic block: how the residual
# branch F(x) and the shortcut are added. This page states the three blocks,
# builds the six networks, and uses the paper's own parameter counts (Table IV)
# to settle where the Gated2 convolution sits, which the text leaves open.

# %% [markdown] tags=["colab-badge"]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gresnet/gresnet/blob/main/notebooks/models.ipynb)

# %% tags=["colab-setup", "remove-cell"]
# In Colab only: install gresnet from its repository and let torchvision download CIFAR.
import os
import subprocess
import sys

IN_COLAB = "google.colab" in sys.modules
if IN_COLAB:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "gresnet @ git+https://github.com/gresnet/gresnet@main"], check=True)
    os.environ.setdefault("GRESNET_DATA", "/content/data")

# %% tags=["parameters"]
tolerance_m = 0.005  # millions of parameters: half the last digit of the paper's Table IV

# %% [markdown]
# ## Three ways to add the shortcut
#
# The backbone is torchvision's ResNet: a 7×7 stride-2 stem convolution with
# max-pooling, four stages of basic blocks, (2, 2, 2, 2) for ResNet-18 and
# (3, 4, 6, 3) for ResNet-34, global average pooling and a linear head. A block
# computes the residual F(x) = BN(conv(ReLU(BN(conv(x))))) and the shortcut
# s(x), which is x itself, or a 1×1 stride-2 projection with BatchNorm where
# the block halves the resolution and doubles the width. The variants differ
# only in how the two are merged:
#
# | variant | block output | added parameters per block |
# |---|---|---|
# | base | H(x) = ReLU(F(x) + s(x)) | none |
# | Gated1 (learnable scalar gate) | H(x) = ReLU(F(x) + λ ⊙ s(x)), λ ∈ ℝ^(1×C×1×1), λ = 1 at start | C |
# | Gated2 (dynamic convolutional gate) | H(x) = ReLU(F(x) + σ(W_g ∗ s(x) + b_g) ⊙ s(x)), W_g a C→C 1×1 convolution | C² + C |
#
# The paper writes the gated blocks as F(x) + λx and F(x) + σ(W_g ∗ x) ⊙ x. The
# final ReLU is kept because the paper's own standard block has it, and x is
# read as the shortcut s(x) for the reason shown below. With λ = 1 Gated1
# computes exactly the base network at initialisation.

# %% tags=["hide-input"]
import warnings

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm without ipywidgets

import pandas as pd
import torch
from IPython.display import Markdown, display

from gresnet.models import ARCHS, GATES, build_model, gated_blocks
from gresnet.results import ARCH_LABELS, PAPER, PAPER_TABLE_IV

# %% [markdown]
# One Gated2 block that halves the resolution: its gate has the shape of the
# shortcut output, one value per channel and position.

# %%
model = build_model("resnet18", "gated2", num_classes=10).eval()
block = model.layer2[0]
x = torch.randn(1, 64, 8, 8)
shortcut = block.downsample(x)
print("input", tuple(x.shape), "-> shortcut", tuple(shortcut.shape),
      "-> gate", tuple(block.skip_gate.gate(shortcut).shape), "-> block output", tuple(block(x).shape))

# %% [markdown]
# ## Parameter counts
#
# Counted from the networks that training uses, with a 10-class head
# (CIFAR-10) and a 100-class head (CIFAR-100).

# %% tags=["hide-input"]
def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


counts = pd.DataFrame(
    [
        {"model": f"{ARCH_LABELS[arch]} {variant}", "10 classes": count(build_model(arch, variant, 10)),
         "100 classes": count(build_model(arch, variant, 100))}
        for arch in ARCHS for variant in GATES
    ]
).set_index("model")
counts.style.format("{:,}").set_table_attributes('class="dataframe"')

# %% [markdown]
# ## Where the Gated2 convolution sits
#
# σ(W_g ∗ x) ⊙ x can be read two ways in a block that changes width: the gate
# computed from the shortcut output s(x) by a C_out→C_out convolution, or
# computed from the block input x by a C_in→C_out convolution. Both give the
# same count in blocks that keep the width, and differ in the first block of
# stages 2-4. The paper's Table IV adds 0.70 M parameters to ResNet-18 and
# 1.26 M to ResNet-34 for Gated2, and none visible at two decimals for Gated1.

# %% tags=["hide-input"]
rows = []
for arch in ARCHS:
    blocks = gated_blocks(build_model(arch, "gated2", 10))
    paper = PAPER_TABLE_IV[PAPER_TABLE_IV["arch"] == arch].set_index("variant")["params_m"]
    rows.append({
        "network": ARCH_LABELS[arch],
        "paper Gated2 − base (M)": round(paper["gated2"] - paper["base"], 2),
        "gate on s(x), C_out→C_out (M)": sum(b.conv2.out_channels ** 2 + b.conv2.out_channels for _, b in blocks) / 1e6,
        "gate on x, C_in→C_out (M)": sum(b.conv1.in_channels * b.conv2.out_channels + b.conv2.out_channels
                                         for _, b in blocks) / 1e6,
        "paper Gated1 − base (M)": round(paper["gated1"] - paper["base"], 2),
        "Gated1 λ (M)": sum(b.conv2.out_channels for _, b in blocks) / 1e6,
    })
evidence = pd.DataFrame(rows).set_index("network")
display(Markdown(f"Gate parameters against the differences in Table IV of {PAPER}."))
evidence.style.format("{:.4f}").set_table_attributes('class="dataframe"')

# %% tags=["hide-input"]
def matches(column: str) -> bool:
    return bool(((evidence[column] - evidence["paper Gated2 − base (M)"]).abs() <= tolerance_m + 1e-9).all())


on_shortcut, on_input = matches("gate on s(x), C_out→C_out (M)"), matches("gate on x, C_in→C_out (M)")
display(Markdown(
    f"A gate on the shortcut output {'matches' if on_shortcut else 'does not match'} the paper's Gated2 "
    f"overhead for both networks within ±{tolerance_m} M; a gate on the block input "
    f"{'matches' if on_input else 'does not match'}. "
    + ("So the convolution acts on s(x), as implemented in `gresnet.models.ConvGate`."
       if on_shortcut and not on_input else "The counts do not single out one reading.")
))

# %% [markdown]
# ## Summary
#
# The base networks are torchvision's `resnet18` and `resnet34`; Gated1 adds
# one λ per channel and block, and Gated2 a C→C 1×1 convolution with bias on
# the shortcut output of every block. Their FLOPs and the full Table IV are on
# the computational-complexity page.
