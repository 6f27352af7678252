"""Git Re-Basin's weight matching (Ainsworth et al. 2023, Algorithm 1) with NumPy and SciPy's
linear_sum_assignment, as the reference implementation (github.com/samuela/git-re-basin,
weight_matching.py) runs it, on the two MLPs benches/weight_matching.rs writes to
target/bench-rebasin/. Prints the best and median of REPEATS runs, sweeps and objective."""
import os
import statistics
import time

import numpy as np
from safetensors.numpy import load_file
from scipy.optimize import linear_sum_assignment


def layers(path):
    t = load_file(path)
    ids = sorted({int(k.split(".")[0]) for k in t})
    return [(t[f"{i}.weight"].astype(np.float64), t[f"{i}.bias"].astype(np.float64)) for i in ids]


def weight_matching(a, b, rng, max_sweeps=100):
    hidden = len(a) - 1
    perms = [np.arange(w.shape[0]) for w, _ in a[:-1]]
    sweeps = 0
    for _ in range(max_sweeps):
        sweeps += 1
        changed = False
        for l in rng.permutation(hidden):
            wa, ba = a[l]
            wb, bb = b[l]
            if l > 0:
                wb = wb[:, perms[l - 1]]
            score = wa @ wb.T + np.outer(ba, bb)
            wa_next, _ = a[l + 1]
            wb_next, _ = b[l + 1]
            if l + 1 < hidden:
                wb_next = wb_next[perms[l + 1], :]
            score += wa_next.T @ wb_next
            _, p = linear_sum_assignment(score, maximize=True)
            old = np.sum(score[np.arange(len(p)), perms[l]])
            new = np.sum(score[np.arange(len(p)), p])
            if new > old + 1e-12:
                changed = True
            perms[l] = p
        if not changed:
            break
    return perms, sweeps


def objective(a, b, perms):
    total = 0.0
    for l, ((wa, ba), (wb, bb)) in enumerate(zip(a, b)):
        if l < len(perms):
            wb, bb = wb[perms[l], :], bb[perms[l]]
        if l > 0:
            wb = wb[:, perms[l - 1]]
        total += np.sum(wa * wb) + np.sum(ba * bb)
    return total


def main():
    d = os.path.join(os.path.dirname(__file__), "..", "target", "bench-rebasin")
    a, b = layers(os.path.join(d, "a.safetensors")), layers(os.path.join(d, "b.safetensors"))
    times = []
    for _ in range(int(os.environ.get("REPEATS", "5"))):
        t0 = time.perf_counter()
        perms, sweeps = weight_matching(a, b, np.random.default_rng(0))
        times.append(time.perf_counter() - t0)
    print(f"scipy weight_matching_mlp_784_512x3_10 best {min(times) * 1e3:.1f} ms "
          f"median {statistics.median(times) * 1e3:.1f} ms sweeps {sweeps} "
          f"objective {objective(a, b, perms):.6e}")


main()
