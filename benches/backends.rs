//! CPU backend vs GPU backend, natively: one training step, an ensemble forward pass, and the
//! three matmul kernels. On a machine without a GPU, wgpu's adapter is Mesa's lavapipe (a CPU
//! emulation): its numbers say nothing about real GPUs. Run: `cargo bench --bench backends`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // criterion's macros; a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use nalgebra::DMatrix;
use std::hint::black_box;
use std::sync::Arc;
use theorylab::core::activation::Activation;
use theorylab::core::loss::{Loss, Target};
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};
use theorylab::gpu::{GpuContext, GpuEnsemble, MatmulKernel};

fn mlp_config(input: usize, width: usize, depth: usize, output: usize) -> MlpConfig {
    MlpConfig {
        input_dim: input,
        hidden: vec![width; depth],
        output_dim: output,
        activation: Activation::Relu,
        bias: true,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.0,
        sigma_b: 0.0,
    }
}

fn nets(config: &MlpConfig, count: u64) -> Vec<Mlp<f32>> {
    (0..count)
        .map(|seed| Mlp::init(config, &mut Rng::new(seed, Stream::Init)).expect("valid config"))
        .collect()
}

fn inputs(rows: usize, cols: usize) -> DMatrix<f32> {
    let mut rng = Rng::new(1, Stream::Experiment);
    DMatrix::from_fn(rows, cols, |_, _| rng.normal() as f32)
}

fn context(kernel: MatmulKernel) -> Option<Arc<GpuContext>> {
    match pollster::block_on(GpuContext::new()) {
        Ok(mut ctx) => {
            ctx.matmul = kernel;
            Some(Arc::new(ctx))
        }
        Err(e) => {
            eprintln!("no GPU adapter, GPU benchmarks skipped: {e}");
            None
        }
    }
}

/// The README's training step (32 -> 512 x3 -> 10, batch 256, SGD) on both backends.
fn train_step(c: &mut Criterion) {
    let config = mlp_config(32, 512, 3, 10);
    let x = inputs(32, 256);
    let labels: Vec<usize> = (0..256).map(|i| i % 10).collect();
    let sgd = OptimizerConfig {
        kind: OptimizerKind::Sgd,
        lr: 0.01,
        ..Default::default()
    };
    let mut group = c.benchmark_group("train_step_32_512x3_10_batch256");
    group.sample_size(10);
    let mut mlp = nets(&config, 1).remove(0);
    let mut optimizer = Optimizer::new(sgd, &mlp).expect("valid optimizer");
    group.bench_function("cpu", |b| {
        b.iter(|| {
            let forward = mlp.forward(black_box(&x)).expect("shapes");
            let (_, d) = Loss::CrossEntropy
                .value_and_gradient(forward.output(), Target::Classes(&labels))
                .expect("labels");
            let gradients = mlp.backward(&forward, &d);
            optimizer.step(&mut mlp, &gradients);
        })
    });
    if let Some(ctx) = context(MatmulKernel::Blocked) {
        let mut gpu = pollster::block_on(GpuEnsemble::new(
            ctx.clone(),
            &nets(&config, 1),
            Loss::CrossEntropy,
            sgd,
        ))
        .expect("fits");
        group.bench_function(format!("gpu {}", ctx.adapter()), |b| {
            b.iter(|| {
                gpu.train_step(black_box(&x), Target::Classes(&labels))
                    .expect("step");
                ctx.wait();
            })
        });
    }
    group.finish();
}

/// 32 networks 2 -> 256 -> 256 -> 1 evaluated on 1024 points (a landscape grid or a seed
/// ensemble): a loop over members on the CPU, one dispatch per layer on the GPU.
fn ensemble_forward(c: &mut Criterion) {
    let config = mlp_config(2, 256, 2, 1);
    let members = nets(&config, 32);
    let x = inputs(2, 1024);
    let mut group = c.benchmark_group("ensemble_forward_32x_2_256x2_1_on_1024");
    group.sample_size(10);
    group.bench_function("cpu", |b| {
        b.iter(|| {
            members
                .iter()
                .map(|m| m.predict(black_box(&x)).expect("shapes"))
                .collect::<Vec<_>>()
        })
    });
    if let Some(ctx) = context(MatmulKernel::Blocked) {
        let mut gpu = pollster::block_on(GpuEnsemble::new(
            ctx.clone(),
            &members,
            Loss::Mse,
            OptimizerConfig::default(),
        ))
        .expect("fits");
        let values = DMatrix::zeros(1, 1024);
        group.bench_function(format!("gpu {}", ctx.adapter()), |b| {
            b.iter(|| {
                pollster::block_on(gpu.evaluate(black_box(&x), Target::Values(&values)))
                    .expect("evaluate")
            })
        });
    }
    group.finish();
}

/// One 512 x 512 layer on a batch of 512 (a 2 * 512^3 flop product plus bias and ReLU), per
/// matmul kernel.
fn matmul_kernels(c: &mut Criterion) {
    let config = mlp_config(512, 512, 1, 1);
    let x = inputs(512, 512);
    let values = DMatrix::zeros(1, 512);
    let mut group = c.benchmark_group("layer_512x512_batch512");
    group.sample_size(10);
    let net = nets(&config, 1).remove(0);
    group.bench_function("cpu", |b| {
        b.iter(|| net.predict(black_box(&x)).expect("shapes"))
    });
    for kernel in MatmulKernel::ALL {
        if let Some(ctx) = context(kernel) {
            let mut gpu = pollster::block_on(GpuEnsemble::new(
                ctx,
                std::slice::from_ref(&net),
                Loss::Mse,
                OptimizerConfig::default(),
            ))
            .expect("fits");
            group.bench_function(format!("gpu {kernel:?}"), |b| {
                b.iter(|| {
                    pollster::block_on(gpu.evaluate(black_box(&x), Target::Values(&values)))
                        .expect("evaluate")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, train_step, ensemble_forward, matmul_kernels);
criterion_main!(benches);
