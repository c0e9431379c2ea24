#!/usr/bin/env bash
# The whole training-speed benchmark on the first CUDA device: ResNet-18/34, base and gated2, both loops,
# peak matrix-multiply FLOP/s (float32, TF32, bfloat16), model FLOPs utilisation and the accuracy check.
# The gresnet loop keeps the uint8 training images on the GPU; the plain loop feeds it from 4 DataLoader
# workers with pinned memory. Writes benchmarks/results/cuda/latest.md and latest.json.
# Extra arguments are passed on, for example: bash benchmarks/gpu.sh --archs resnet18
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "benchmarks/gpu.sh: error: no CUDA device is visible to torch; run benchmarks/train_speed.py for the CPU" >&2
    exit 1
fi

python benchmarks/train_speed.py \
    --device cuda \
    --steps 200 --warmup 20 --repeats 3 \
    --eval-images 5000 \
    --workers 4 \
    --results-dir benchmarks/results/cuda \
    "$@"
