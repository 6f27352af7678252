"""Reference side of bench/landscape.sh: a 51 x 51 grid of the training loss on a random plane
through the trained weights, filter-normalized directions (Li et al. 2018, "Visualizing the Loss
Landscape of Neural Nets"), with the loss-landscapes package (github.com/marcellodebernardi/
loss-landscapes, random_plane). Same model and data as bench/hessian_ref.py (which writes them
to bench/out/ on its first run; this script does too, through it). Needs `pip install torch
loss-landscapes safetensors numpy`.

What loss-landscapes 3.0.6 computes (read from its main.py and model_parameters.py): directions
drawn uniform in [0, 1) (Li et al. draw Gaussian), filter-normalized row by row, biases included
and matched entry by entry (Li et al. zero them); then each direction is rescaled to a step of
|theta| / (distance * steps), so with distance=1 the grid spans -0.5 ... +0.5 in Li et al.'s
units (offsets (i - 25.5) / 51, and odd columns are shifted by one step in the second direction):
no grid point is theta itself. So `center=` is the loss at theta (what a symmetric grid with an
odd number of points has at its centre) and `grid_mid=` the package's entry [25][25].

Prints one line per repeat (REPEATS, default 3); THREADS (default 1) sets torch's threads."""
import os
import time

import loss_landscapes
import loss_landscapes.metrics
import torch

from hessian_ref import problem


def main():
    torch.set_num_threads(int(os.environ.get("THREADS", "1")))
    model, x, y = problem()
    model, x = model.double(), x.double()  # float64, as theorylab computes in f64
    metric = loss_landscapes.metrics.Loss(torch.nn.CrossEntropyLoss(), x, y)
    with torch.no_grad():
        center = loss_landscapes.point(model, metric)
    for _ in range(int(os.environ.get("REPEATS", "3"))):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        with torch.no_grad():  # it updates the parameters in place: needs no_grad
            grid = loss_landscapes.random_plane(model, metric, distance=1, steps=51,
                                                normalization="filter", deepcopy_model=True)
        t = time.perf_counter() - t0
        print(f"loss-landscapes grid51 seconds={t:.4f} center={center:.10g} "
              f"grid_mid={grid[25][25]:.10g} min={grid.min():.6g} max={grid.max():.6g}")


if __name__ == "__main__":
    main()
