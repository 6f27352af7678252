"""Reference side of bench/landscape.sh: the top-5 Hessian eigenvalues (power iteration with
deflation) and the Hutchinson trace of the training loss with PyHessian (Yao et al. 2020,
"PyHessian: Neural Networks Through the Lens of the Hessian", github.com/amirgholami/PyHessian).

The problem: UCI optical digits (data/optdigits.csv.gz, 1797 samples; pixels / 16 exactly as
src/core/data.rs digits() scales them), an MLP 64 -> 256 x 3 -> 10 (ReLU) as torch.nn.Sequential,
trained 20 epochs (SGD lr 0.05, momentum 0.9, batch 64, seed 0, float32, cross-entropy). The first
run writes bench/out/digits_mlp.safetensors (float32 state dict, keys "0.weight", "0.bias",
"2.weight", ...) and bench/out/digits.csv (no header; 64 scaled features, then the label), which
the theorylab CLI reads; later runs load them.
Needs `pip install torch pyhessian safetensors numpy`.

Prints one line per repeat (REPEATS, default 3) for the eigenvalues and for the trace, each timing
PyHessian's setup (one forward and a create_graph backward over all 1797 samples) plus the
iterations. THREADS (default 1) sets torch's thread count."""
import gzip
import os
import time
import warnings

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "bench", "out")
MODEL, CSV = os.path.join(OUT, "digits_mlp.safetensors"), os.path.join(OUT, "digits.csv")


def mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(64, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def problem():
    """The trained model and the data (float32, as stored), training and writing them if absent."""
    if os.path.exists(MODEL) and os.path.exists(CSV):
        rows = np.loadtxt(CSV, delimiter=",")
        x, y = torch.tensor(rows[:, :64], dtype=torch.float32), torch.tensor(rows[:, 64]).long()
        model = mlp()
        model.load_state_dict(load_file(MODEL))
        return model, x, y
    with gzip.open(os.path.join(ROOT, "data", "optdigits.csv.gz"), "rt") as f:
        rows = np.loadtxt(f, delimiter=",")
    # digits() in src/core/data.rs: `data.features /= 16.0` (k / 16 is exact in f32 and f64).
    x, y = torch.tensor(rows[:, :64] / 16.0, dtype=torch.float32), torch.tensor(rows[:, 64]).long()
    torch.manual_seed(0)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(20):
        for idx in torch.randperm(len(y)).split(64):
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    os.makedirs(OUT, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, MODEL)
    with open(CSV, "w") as f:
        for features, label in zip(x.double().numpy(), y.numpy()):
            f.write(",".join(repr(float(v)) for v in features) + f",{label}\n")
    return model, x, y


def main():
    from pyhessian import hessian

    # PyHessian calls backward(create_graph=True); torch warns of the .grad reference cycle.
    warnings.filterwarnings("ignore", message=r"Using backward\(\) with create_graph=True")

    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    # float64 throughout, as theorylab computes in f64: the float32 weights and the k / 16 inputs
    # convert exactly, so both sides see the same numbers. PyHessian draws its random vectors
    # with torch.randn(size) (the default dtype), so the default dtype is set to float64 too.
    model, x, y = problem()
    torch.set_default_dtype(torch.float64)
    model, x = model.double(), x.double()
    criterion = torch.nn.CrossEntropyLoss()  # mean over the samples, as our "ce" loss
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).double().mean().item()
        print(f"# digits n={len(y)} loss={criterion(model(x), y).item():.10g} accuracy={acc:.4f} "
              f"torch {torch.__version__} threads={torch.get_num_threads()}")
    for _ in range(int(os.environ.get("REPEATS", "3"))):
        model.zero_grad(set_to_none=True)  # hessian() adds its gradient into a stale .grad
        torch.manual_seed(0)
        t0 = time.perf_counter()
        h = hessian(model, criterion, data=(x, y), cuda=False)
        values, _ = h.eigenvalues(top_n=5, maxIter=100, tol=1e-3)
        t = time.perf_counter() - t0
        print(f"pyhessian top5 seconds={t:.4f} values={','.join(f'{v:.10g}' for v in values)}")
        model.zero_grad(set_to_none=True)
        torch.manual_seed(0)
        t0 = time.perf_counter()
        h = hessian(model, criterion, data=(x, y), cuda=False)
        samples = h.trace(maxIter=100)  # Rademacher v^T H v, stops early at relative tol 1e-3
        t = time.perf_counter() - t0
        stderr = np.std(samples, ddof=1) / np.sqrt(len(samples))  # PyHessian takes at least 2
        print(f"pyhessian trace seconds={t:.4f} value={np.mean(samples):.10g} "
              f"stderr={stderr:.4g} samples={len(samples)}")


if __name__ == "__main__":
    main()
