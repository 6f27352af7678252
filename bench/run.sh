#!/usr/bin/env bash
# Side-by-side benchmark of one MLP training step: theorylab (criterion) and PyTorch CPU, in one
# run on one machine. Needs `pip install torch` for the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cargo bench --bench train_step -- --noplot 2>&1 | grep -E "time:|mlp_" || true
python3 bench/torch_mlp.py
