#!/usr/bin/env bash
# Side-by-side benchmark of the Loss landscape room's two computations on the digits MLP
# 64 -> 256 x 3 -> 10 (ReLU, cross-entropy, 1797 samples, f64), interleaved round by round on one
# machine: (1) top-5 Hessian eigenvalues + Hutchinson trace, `theorylab hessian` beside PyHessian
# (Yao et al. 2020; bench/hessian_ref.py), (2) a 51 x 51 loss grid on a filter-normalized random
# plane (Li et al. 2018), `theorylab landscape` beside the loss-landscapes package
# (bench/landscape_ref.py). Ours is timed as a whole process (loading the files included); the
# references time their computation only (PyHessian: its setup pass, then top-5 and trace timed
# apart and added here). Both grids are 2601 forward passes over the 1797 samples, on different
# planes (landscape_ref.py says how loss-landscapes draws and scales its directions). THREADS
# (default 1) threads on both sides. The first Python run trains the model and writes bench/out/.
# Needs `pip install torch pyhessian loss-landscapes safetensors numpy`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
export THREADS="${THREADS:-1}" RAYON_NUM_THREADS="${THREADS:-1}"
echo "== machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); $(python3 -c 'import torch, importlib.metadata as m; print("torch", torch.__version__, "pyhessian", m.version("pyhessian"), "loss-landscapes", m.version("loss-landscapes"))'); $THREADS thread(s)"
cargo build --release --bin theorylab --quiet
REPEATS=0 python3 bench/hessian_ref.py  # writes bench/out/ on the first run; prints the loss
files=(--model bench/out/digits_mlp.safetensors --data bench/out/digits.csv --activation relu --loss ce)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
TIMEFORMAT=%R
for round in $(seq "$ROUNDS"); do
  echo "-- round $round"
  # (a) ours: Hessian top-5 + trace, process wall time in seconds.
  { time target/release/theorylab hessian "${files[@]}" --top-k 5 --iterations 20 --trace --json > "$tmp/h.json"; } 2> "$tmp/t"
  ours_h="$(tail -n1 "$tmp/t")"
  python3 - "$tmp/h.json" "$ours_h" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"theorylab hessian seconds={sys.argv[2]} values={','.join(f'{v:.10g}' for v in j['eigenvalues'])} "
      f"trace={j['trace']:.10g} stderr={j['trace_stderr']:.4g}")
PY
  # (b) PyHessian.
  REPEATS=1 python3 bench/hessian_ref.py | grep -v '^#' | tee "$tmp/py_h"
  ref_h="$(awk -F'seconds=' '{ split($2, a, " "); s += a[1] } END { print s }' "$tmp/py_h")"
  # (c) ours: the 51 x 51 grid.
  { time target/release/theorylab landscape "${files[@]}" --grid 51 --directions filter --json > /dev/null; } 2> "$tmp/t"
  ours_l="$(tail -n1 "$tmp/t")"
  echo "theorylab landscape grid51 seconds=$ours_l"
  # (d) loss-landscapes.
  REPEATS=1 python3 bench/landscape_ref.py | tee "$tmp/py_l"
  ref_l="$(awk -F'seconds=' '{ split($2, a, " "); print a[1] }' "$tmp/py_l")"
  echo "$ours_h $ref_h $ours_l $ref_l" >> "$tmp/rows"
done
python3 - "$tmp/rows" <<'PY'
import statistics, sys
cols = list(zip(*[map(float, line.split()) for line in open(sys.argv[1])]))
print("| computation | theorylab best | theorylab median | reference best | reference median | ratio of medians |")
print("|---|---|---|---|---|---|")
for name, ours, ref in (("hessian top-5 + trace (PyHessian)", cols[0], cols[1]),
                        ("loss grid 51 x 51 (loss-landscapes)", cols[2], cols[3])):
    print(f"| {name} | {min(ours):.3f} s | {statistics.median(ours):.3f} s | {min(ref):.3f} s | "
          f"{statistics.median(ref):.3f} s | {statistics.median(ours) / statistics.median(ref):.3g} |")
PY
