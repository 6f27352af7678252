"""The Collapse room's default digits run in PyTorch on the CPU, for bench/collapse.sh: the same
training as `theorylab collapse --dataset digits --classes 10` (the first 100 optical digits of
each class, pixels / 16; an MLP 64 -> 64 x 3 -> 10, ReLU, no biases, every weight normal of
std sqrt(2 / fan_in); MSE on one-hot targets, mean over all entries; SGD, lr 0.05, momentum
0.9, weight decay 5e-4, shuffled mini-batches of 32; float64) and the same measures at the same epochs (12 per decade,
log-spaced, and the last): NC1 = Tr(Sigma_W Sigma_B^+) / C, NC2 (equinorm of the centred class
means and of the classifier rows, equiangularity and the cosines' spread), NC3 and NC4, as in
Papyan, Han & Donoho 2020 and the neural-collapse reference codes.

Needs `pip install torch numpy` (this script installs nothing). EPOCHS (default 200), THREADS
(default 1) and REPEATS (default 1) from the environment. Prints the best and median wall time
of the training with its measures (data loading excluded) and epochs per second.
"""

import gzip
import math
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

EPOCHS = int(os.environ.get("EPOCHS", 200))
THREADS = int(os.environ.get("THREADS", 1))
REPEATS = int(os.environ.get("REPEATS", 1))
torch.set_num_threads(THREADS)
torch.set_default_dtype(torch.float64)
C, PER_CLASS, WIDTH, DEPTH = 10, 100, 64, 3


def digits():
    path = Path(__file__).resolve().parent.parent / "data" / "optdigits.csv.gz"
    rows = np.loadtxt(gzip.open(path, "rt"), delimiter=",")
    x, y = rows[:, :-1] / 16.0, rows[:, -1].astype(int)
    chosen = np.concatenate([np.flatnonzero(y == k)[:PER_CLASS] for k in range(C)])
    return torch.tensor(x[chosen]), torch.tensor(y[chosen])


def record_epochs(total):
    """Epoch 0, then the first epoch at or past each of 12 log-spaced marks per decade, and the last."""
    epochs, mark = [0], 1.0
    for epoch in range(1, total + 1):
        if epoch >= mark or epoch == total:
            epochs.append(epoch)
            while mark <= epoch:
                mark *= 10 ** (1 / 12)
            mark = max(mark, epoch + 1)
    return epochs


def metrics(h, w, y):
    """NC1-NC4 of features h [N, d], classifier w [C, d] and labels y."""
    mu_g = h.mean(0)
    means = torch.stack([h[y == k].mean(0) for k in range(C)])
    centred = means - mu_g
    within = sum(((h[y == k] - means[k]).T @ (h[y == k] - means[k])) for k in range(C)) / len(y)
    between = centred.T @ centred / C
    nc1 = torch.trace(within @ torch.linalg.pinv(between, hermitian=True)).item() / C
    norms = centred.norm(dim=1)
    w_norms = w.norm(dim=1)
    unit = centred / norms[:, None]
    cos = (unit @ unit.T)[~torch.eye(C, dtype=bool)]
    nc2 = {
        "equinorm_means": (norms.std(unbiased=False) / norms.mean()).item(),
        "equinorm_classifier": (w_norms.std(unbiased=False) / w_norms.mean()).item(),
        "equiangular": (cos + 1 / (C - 1)).abs().mean().item(),
        "cos_std": cos.std(unbiased=False).item(),
    }
    nc3 = ((w / w.norm() - centred / centred.norm()) ** 2).sum().item()
    nearest = torch.cdist(h, means).argmin(1)
    nc4 = (nearest != (h @ w.T).argmax(1)).double().mean().item()
    return nc1, nc2, nc3, nc4


def run(x, y):
    torch.manual_seed(0)
    layers, fan_in = [], x.shape[1]
    for _ in range(DEPTH):
        linear = torch.nn.Linear(fan_in, WIDTH, bias=False)
        torch.nn.init.normal_(linear.weight, std=math.sqrt(2 / fan_in))
        layers += [linear, torch.nn.ReLU()]
        fan_in = WIDTH
    body = torch.nn.Sequential(*layers)
    head = torch.nn.Linear(WIDTH, C, bias=False)
    torch.nn.init.normal_(head.weight, std=math.sqrt(2 / WIDTH))
    params = list(body.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=5e-4)
    targets = torch.nn.functional.one_hot(y, C).double()
    records = set(record_epochs(EPOCHS))
    measured = []
    for epoch in range(EPOCHS + 1):
        if epoch in records:
            with torch.no_grad():
                h = body(x)
                out = head(h)
                loss = torch.nn.functional.mse_loss(out, targets).item()
                accuracy = (out.argmax(1) == y).double().mean().item()
                measured.append((epoch, loss, accuracy, metrics(h, head.weight, y)))
        if epoch == EPOCHS:
            break
        for batch in torch.randperm(len(y)).split(32):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(head(body(x[batch])), targets[batch])
            loss.backward()
            optimizer.step()
    return measured


def main():
    x, y = digits()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        measured = run(x, y)
        times.append(time.perf_counter() - start)
    epoch, loss, accuracy, (nc1, *_rest) = measured[-1]
    best, median = min(times), statistics.median(times)
    print(f"pytorch {torch.__version__} collapse digits {EPOCHS} epochs, {THREADS} thread(s): "
          f"best {best:.3f} s median {median:.3f} s ({EPOCHS / median:.1f} epochs/s); "
          f"{len(measured)} records; at epoch {epoch}: loss {loss:.4g}, accuracy {accuracy:.3f}, NC1 {nc1:.4g}")


if __name__ == "__main__":
    main()
