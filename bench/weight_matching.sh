#!/usr/bin/env bash
# Side-by-side benchmark of weight matching (Git Re-Basin, Algorithm 1) on two
# 784 -> 512 x 3 -> 10 MLPs: theorylab (criterion, benches/weight_matching.rs, which also writes
# the two networks) and NumPy + SciPy's linear_sum_assignment (bench/weight_matching.py),
# interleaved round by round on one machine. Needs `pip install numpy scipy safetensors`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
echo "== machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); scipy $(python3 -c 'import scipy; print(scipy.__version__)')"
cargo bench --bench weight_matching --no-run --quiet 2>/dev/null
for round in $(seq "$ROUNDS"); do
  echo "-- round $round"
  cargo bench --quiet --bench weight_matching -- --noplot --warm-up-time 1 --measurement-time 5 2>&1 \
    | grep -E "^theorylab sweeps|^weight_matching|time:" | paste -s -d' ' | awk '{ print $0 }'
  REPEATS=5 python3 bench/weight_matching.py
done
