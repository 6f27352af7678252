#!/usr/bin/env bash
# Side-by-side benchmark of the Width room's kernels: theorylab (criterion) and neural-tangents,
# in one run on one machine. Needs `pip install "jax[cpu]==0.4.30" neural-tangents==0.6.5`
# (PYTHON=path/to/python to use a virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cargo bench --bench kernels -- --noplot 2>&1 | grep -E "time:|^(analytic|empirical)" || true
"${PYTHON:-python3}" bench/nt_kernels.py 2>&1 | grep neural-tangents
