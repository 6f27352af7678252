#!/usr/bin/env bash
# Side-by-side benchmark of the Collapse room's training on optical digits (the default network:
# 64 -> 64 x 3 -> 10 ReLU, bias-free, MSE, SGD with momentum and weight decay, batch 32, f64,
# NC1-NC4 at 12 log-spaced epochs per decade): `theorylab collapse` timed as a whole process
# (start, data, training, measures, JSON) on the CPU backend and on the GPU backend (wgpu: the
# adapter the machine has) and PyTorch CPU
# (bench/collapse_ref.py, training and measures only), interleaved round by round on one thread.
# Prints each round, then per side the best and median epochs per second over ROUNDS rounds.
# Needs `pip install torch numpy` for the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
EPOCHS="${EPOCHS:-200}"
echo "== machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); $EPOCHS epochs, 1 thread"
cargo build --release --quiet
results="$(mktemp)"
for round in $(seq "$ROUNDS"); do
  TIMEFORMAT=%R
  ours="$( { time RAYON_NUM_THREADS=1 target/release/theorylab collapse --dataset digits \
    --classes 10 --epochs "$EPOCHS" --json > /dev/null; } 2>&1 )"
  gpu="$( { time target/release/theorylab collapse --dataset digits --classes 10 \
    --epochs "$EPOCHS" --backend gpu --json > /dev/null 2>&1; } 2>&1 )"
  line="$(THREADS=1 EPOCHS=$EPOCHS python3 bench/collapse_ref.py)"
  torch="$(echo "$line" | sed -E 's/.*best ([0-9.]+) s.*/\1/')"
  echo "round $round: theorylab $(printf %.3f "$ours") s, theorylab --backend gpu $gpu s, pytorch $torch s  ($line)"
  echo "$ours $torch $gpu" >> "$results"
done
python3 - "$results" "$EPOCHS" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
epochs = int(sys.argv[2])
for name, times in (("theorylab", [r[0] for r in rows]), ("PyTorch", [r[1] for r in rows]),
                    ("theorylab --backend gpu", [r[2] for r in rows])):
    print(f"{name}: best {epochs / min(times):.1f} epochs/s, median {epochs / statistics.median(times):.1f} epochs/s")
print(f"ratio of median times, theorylab / PyTorch: {statistics.median(r[0] for r in rows) / statistics.median(r[1] for r in rows):.2f}")
PY
