"""neural-tangents' side of `bash bench/kernels.sh`: the same kernels as benches/kernels.rs.

Needs `pip install "jax[cpu]==0.4.30" neural-tangents==0.6.5`. Float64, jitted, timed after a
warm-up call (compilation excluded), median of repeated runs.
"""

import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
from neural_tangents import stax  # noqa: E402


def median_ms(f, repeats):
    f()  # warm-up: jit compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f())
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


layers = []
for _ in range(3):
    layers += [stax.Dense(512, 2.0**0.5, 0.1**0.5), stax.Relu()]
init_fn, apply_fn, kernel_fn = stax.serial(*layers, stax.Dense(1, 2.0**0.5, 0.1**0.5))
x = jax.random.normal(jax.random.PRNGKey(0), (512, 32), dtype=jnp.float64)
kernel = jax.jit(kernel_fn, static_argnames="get")
ms = median_ms(lambda: kernel(x, None, get=("nngp", "ntk")), 20)
print(f"neural-tangents analytic NNGP+NTK, 512 inputs, depth 3 relu, f64: {ms:.2f} ms")

_, params = init_fn(jax.random.PRNGKey(1), x.shape)
x64 = x[:64]
for name, impl in [
    ("NTK-vector products", nt.NtkImplementation.NTK_VECTOR_PRODUCTS),
    ("Jacobian contraction", nt.NtkImplementation.JACOBIAN_CONTRACTION),
]:
    ntk_fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), implementation=impl))
    ms = median_ms(lambda: ntk_fn(x64, None, params), 5)
    print(f"neural-tangents empirical NTK, width 512, 64 inputs, f64, {name}: {ms:.1f} ms")
