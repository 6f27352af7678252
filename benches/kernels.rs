//! The Width room's kernels against neural-tangents (`bench/nt_kernels.py`), run side by side
//! with `bash bench/kernels.sh`:
//! - analytic NNGP + NTK of 512 inputs (d = 32), depth 3, ReLU, W = 2, B = 0.1, f64;
//! - empirical NTK of one width-512 network (same architecture) on 64 inputs, f64.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // criterion's macros; a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use theorylab::core::kernels::{KernelSpec, analytic, empirical_ntk, network};
use theorylab::core::rng::{Rng, Stream};

fn kernels(c: &mut Criterion) {
    let spec = KernelSpec {
        depth: 3,
        bias_var: 0.1,
        ..KernelSpec::default()
    };
    let mut rng = Rng::new(0, Stream::Experiment);
    let x = nalgebra::DMatrix::from_fn(32, 512, |_, _| rng.normal());
    c.bench_function("analytic_nngp_ntk_512_inputs_d32_depth3_relu_f64", |b| {
        b.iter(|| analytic(black_box(&spec), black_box(&x)).expect("valid"))
    });
    let mlp = network(&spec, 32, 512, &mut Rng::new(1, Stream::Init)).expect("valid");
    let x64 = x.columns(0, 64).into_owned();
    c.bench_function("empirical_ntk_width512_64_inputs_f64", |b| {
        b.iter(|| empirical_ntk(black_box(&mlp), black_box(&x64)).expect("valid"))
    });
}

criterion_group!(benches, kernels);
criterion_main!(benches);
