//! The Depth room's ensembles at initialization against NumPy (`bench/depth_ensemble.py`), run
//! side by side with `bash bench/depth.sh`: S ReLU networks of L = 8 hidden layers at width
//! n = 64 (S = 1024) and n = 512 (S = 256), each sampled at two inputs with its backward pass
//! and every layer's moments recorded (`experiments::depth::ensemble`, f64), and the same
//! networks on the GPU backend (`shaders/init_sampler.wgsl`, f32) where a device exists.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // criterion's macros; a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use std::ops::ControlFlow;
use theorylab::core::stepper::run;
use theorylab::experiments::Experiment;
use theorylab::experiments::depth::ensemble::{Ensemble, EnsembleConfig};
use theorylab::gpu::GpuContext;

fn ensembles(c: &mut Criterion) {
    let gpu = pollster::block_on(GpuContext::new())
        .ok()
        .map(std::sync::Arc::new);
    for (width, samples) in [(64, 1024), (512, 256)] {
        let config = EnsembleConfig {
            width,
            samples,
            depth: 8,
            ..EnsembleConfig::default()
        };
        c.bench_function(
            &format!("depth_ensemble_relu_L8_n{width}_S{samples}"),
            |b| {
                b.iter(|| run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap())
            },
        );
        if let Some(ctx) = &gpu {
            c.bench_function(
                &format!("depth_ensemble_gpu_relu_L8_n{width}_S{samples}"),
                |b| {
                    b.iter(|| {
                        let mut e = Ensemble::on(&config, Some(ctx.clone())).unwrap();
                        run(&mut e, |_| ControlFlow::Continue(())).unwrap()
                    })
                },
            );
        }
    }
}

criterion_group!(benches, ensembles);
criterion_main!(benches);
