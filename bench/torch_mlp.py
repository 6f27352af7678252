"""The training step of benches/train_step.rs in PyTorch on the CPU: an MLP
32 -> 512 -> 512 -> 512 -> 10 (ReLU), batch 256, float32, cross-entropy, SGD (lr 0.01).

Needs `pip install torch` (this script installs nothing). Uses as many threads as the Rust
side (matrixmultiply's default: the machine's cores, at most 4), or THREADS from the
environment. Prints the median time per step over ROUNDS (default 5) rounds of 200 steps.
"""

import os
import statistics
import time

import torch

threads = int(os.environ.get("THREADS", min(os.cpu_count() or 1, 4)))
torch.set_num_threads(threads)
torch.manual_seed(0)

model = torch.nn.Sequential(
    torch.nn.Linear(32, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 512), torch.nn.ReLU(),
    torch.nn.Linear(512, 10),
)
x = torch.randn(256, 32)
y = torch.randint(0, 10, (256,))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_fn = torch.nn.CrossEntropyLoss()


def step():
    optimizer.zero_grad(set_to_none=True)
    loss_fn(model(x), y).backward()
    optimizer.step()


for _ in range(50):  # warm-up
    step()
rounds = []
for _ in range(int(os.environ.get("ROUNDS", 5))):
    start = time.perf_counter()
    for _ in range(200):
        step()
    rounds.append((time.perf_counter() - start) / 200)
median = statistics.median(rounds)
flops = 3 * 2 * 256 * (32 * 512 + 2 * 512 * 512 + 512 * 10)
print(f"pytorch {torch.__version__} cpu, {threads} threads: {median * 1e3:.3f} ms/step "
      f"({flops / median / 1e9:.1f} GFLOP/s effective)")
