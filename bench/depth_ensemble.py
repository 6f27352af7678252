"""The Depth room's ensemble sampling in NumPy, batched over networks, for
`bash bench/depth.sh`: S ReLU networks, L = 8 hidden layers, width n, C_W = 2, C_b = 0, at two
inputs (correlation 0.5), every layer's mean z^2, z^4 and z z' recorded, and the backward pass
|df/dz^l|^2 from f = z^(L+1)_1. Two ways:
  exact-in-law: the algorithm of src/core/init_sampler.rs (W only through W e1, W e2 and a
    fresh projected xi backward), vectorized over the S networks;
  explicit: the S weight matrices drawn (S x n x n per layer) and multiplied (np.matmul).
Prints the best of REPEATS milliseconds per batch of each, and networks x layers per second. The
explicit way holds S n^2 L doubles: at n = 512 it runs S = 32 networks (1 GiB would be 256)."""
import os
import time

import numpy as np

REPEATS = int(os.environ.get("REPEATS", "5"))
L, CW = 8, 2.0


def relu(x):
    return np.maximum(x, 0.0)


def exact_in_law(rng, S, n):
    c = 0.5
    g1, g2 = rng.standard_normal((S, n)), rng.standard_normal((S, n))
    z = np.sqrt(CW) * g1
    zo = np.sqrt(CW) * (c * g1 + np.sqrt(1 - c * c) * g2)
    stats, saved, pre = [], [], []
    stats.append(((z**2).mean(1), (z**4).mean(1), (z * zo).mean(1)))
    sd = np.sqrt(CW / n)
    for _ in range(L):
        h, ho = relu(z), relu(zo)
        hn = np.linalg.norm(h, axis=1, keepdims=True)
        e1 = h / np.where(hn > 0, hn, 1.0)
        along = (ho * e1).sum(1, keepdims=True)
        rest = ho - along * e1
        rn = np.linalg.norm(rest, axis=1, keepdims=True)
        e2 = rest / np.where(rn > 0, rn, 1.0)
        u1, u2 = sd * rng.standard_normal((S, n)), sd * rng.standard_normal((S, n))
        saved.append((e1, e2, u1, u2))
        pre.append(z)
        z, zo = hn * u1, along * u1 + rn * u2
        stats.append(((z**2).mean(1), (z**4).mean(1), (z * zo).mean(1)))
    delta = np.zeros((S, n))
    delta[:, 0] = 1.0
    grads = []
    for l in reversed(range(L)):
        e1, e2, u1, u2 = saved[l]
        dn = np.sqrt((delta**2).sum(1, keepdims=True))
        xi = sd * dn * rng.standard_normal((S, n))
        back = xi + ((u1 * delta).sum(1, keepdims=True) - (xi * e1).sum(1, keepdims=True)) * e1
        back += ((u2 * delta).sum(1, keepdims=True) - (xi * e2).sum(1, keepdims=True)) * e2
        delta = (pre[l] > 0) * back
        grads.append((delta**2).sum(1))
    return stats, grads


def explicit(rng, S, n):
    c = 0.5
    x = np.stack([np.eye(2)[0], c * np.eye(2)[0] + np.sqrt(1 - c * c) * np.eye(2)[1]], 1)
    W = rng.standard_normal((S, n, 2)) * np.sqrt(CW / 1.0)
    z = W @ x  # (S, n, 2)
    stats, weights, pre = [], [], []
    stats.append(((z[..., 0] ** 2).mean(1), (z[..., 0] ** 4).mean(1), (z[..., 0] * z[..., 1]).mean(1)))
    for _ in range(L):
        W = rng.standard_normal((S, n, n)) * np.sqrt(CW / n)
        weights.append(W)
        pre.append(z[..., 0])
        z = W @ relu(z)
        stats.append(((z[..., 0] ** 2).mean(1), (z[..., 0] ** 4).mean(1), (z[..., 0] * z[..., 1]).mean(1)))
    delta = np.zeros((S, n))
    delta[:, 0] = 1.0
    grads = []
    for l in reversed(range(L)):
        delta = (pre[l] > 0) * np.einsum("sij,si->sj", weights[l], delta)
        grads.append((delta**2).sum(1))
    return stats, grads


rng = np.random.default_rng(0)
for n, S in [(64, 1024), (512, 256)]:
    for name, f, s in [("exact-in-law", exact_in_law, S), ("explicit", explicit, S if n <= 64 else 32)]:
        best = float("inf")
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            f(rng, s, n)
            best = min(best, time.perf_counter() - t0)
        rate = s * (L + 1) / best
        print(f"numpy {name} n={n} S={s}: {best * 1000:.2f} ms, {rate:.3g} networks x layers / s")
