#!/usr/bin/env bash
# Side-by-side benchmark of one MLP training step (32 -> 512x3 -> 10, batch 256, f32, SGD):
# theorylab (criterion, benches/train_step.rs) and PyTorch CPU (bench/torch_mlp.py), on 1 and on
# 2 threads, interleaved round by round on one machine (shared machines are noisy: 25% between
# runs is common). Prints each round and then, per side and thread count, the best and the
# median over ROUNDS rounds. Needs `pip install torch` for the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
echo "== machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
cargo bench --bench train_step --no-run --quiet 2>/dev/null
results="$(mktemp)"
for round in $(seq "$ROUNDS"); do
  for threads in 1 2; do
    # criterion's point estimate of the mean step, in ms.
    ours="$(RAYON_NUM_THREADS=$threads cargo bench --quiet --bench train_step -- --noplot \
      --warm-up-time 1 --measurement-time 3 2>/dev/null | awk '/time:/ {
        v = $4; u = $5; if (u == "µs") v /= 1000; if (u == "s") v *= 1000; print v }')"
    torch="$(THREADS=$threads ROUNDS=1 python3 bench/torch_mlp.py | awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "ms/step") print $i }')"
    echo "round $round, $threads thread(s): theorylab $ours ms, pytorch $torch ms"
    echo "$threads $ours $torch" >> "$results"
  done
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print("| threads | theorylab best | theorylab median | PyTorch best | PyTorch median | ratio of medians |")
print("|---|---|---|---|---|---|")
for t in ("1", "2"):
    ours = [float(r[1]) for r in rows if r[0] == t]
    torch = [float(r[2]) for r in rows if r[0] == t]
    print(f"| {t} | {min(ours):.2f} ms | {statistics.median(ours):.2f} ms | {min(torch):.2f} ms | "
          f"{statistics.median(torch):.2f} ms | {statistics.median(ours) / statistics.median(torch):.2f} |")
PY
