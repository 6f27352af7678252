#!/usr/bin/env bash
# Side-by-side benchmark of the Depth room's ensembles at initialization: theorylab (criterion,
# benches/depth_ensemble.rs) and NumPy (bench/depth_ensemble.py: the same exact-in-law algorithm
# vectorized over networks, and explicit weight matrices), interleaved round by round on one
# machine. ReLU, L = 8, n = 64 (S = 1024) and n = 512 (S = 256). Needs `pip install numpy`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
echo "== machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); numpy $(python3 -c 'import numpy; print(numpy.__version__)')"
cargo bench --bench depth_ensemble --no-run --quiet 2>/dev/null
for round in $(seq "$ROUNDS"); do
  echo "-- round $round"
  cargo bench --quiet --bench depth_ensemble -- --noplot --warm-up-time 1 --measurement-time 3 2>/dev/null \
    | grep -E "^depth_ensemble|time:" | paste - - | awk '{ print "theorylab", $1, $5, $6 }'
  REPEATS=3 python3 bench/depth_ensemble.py
done
