//! One SGD training step (forward, cross-entropy, backward, update) of an MLP
//! 32 -> 512 -> 512 -> 512 -> 10 on a batch of 256 in f32: the same step as
//! `bench/torch_mlp.py` runs in PyTorch. Run both with `bash bench/run.sh`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // criterion's macros; a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::DMatrix;
use std::hint::black_box;
use theorylab::core::activation::Activation;
use theorylab::core::loss::{Loss, Target};
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};

// The CLI's allocator (src/main.rs), so that the step is timed as the CLI runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn train_step(c: &mut Criterion) {
    let config = MlpConfig {
        input_dim: 32,
        hidden: vec![512, 512, 512],
        output_dim: 10,
        activation: Activation::Relu,
        bias: true,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.0,
        sigma_b: 0.0,
    };
    let mut rng = Rng::new(0, Stream::Experiment);
    let mut mlp = Mlp::<f32>::init(&config, &mut rng).expect("valid config");
    let x = DMatrix::from_fn(32, 256, |_, _| rng.normal() as f32); // [d, batch]
    let labels: Vec<usize> = (0..256).map(|_| rng.below(10)).collect();
    let sgd = OptimizerConfig {
        kind: OptimizerKind::Sgd,
        lr: 0.01,
        ..OptimizerConfig::default()
    };
    let mut optimizer = Optimizer::new(sgd, &mlp).expect("valid optimizer");
    c.bench_function("mlp_32_512x3_10_batch256_f32_sgd_step", |b| {
        b.iter(|| {
            let forward = mlp.forward(black_box(&x)).expect("shapes match");
            let (_, d_output) = Loss::CrossEntropy
                .value_and_gradient(forward.output(), Target::Classes(&labels))
                .expect("labels fit");
            let gradients = mlp.backward(&forward, &d_output);
            optimizer.step(&mut mlp, &gradients);
        })
    });
}

criterion_group!(benches, train_step);
criterion_main!(benches);
