//! Git Re-Basin's weight matching of two 784 -> 512 x 3 -> 10 MLPs (the paper's MNIST MLP)
//! against a SciPy implementation of the same algorithm (`bench/weight_matching.py`), run side
//! by side with `bash bench/weight_matching.sh`. The two networks are written to
//! `target/bench-rebasin/{a,b}.safetensors` so that both sides match the same weights.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)] // criterion's macros; a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use theorylab::core::activation::Activation;
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::model_file::to_safetensors;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rebasin::weight_matching;
use theorylab::core::rng::{Rng, Stream};

fn mlp(seed: u64) -> Mlp<f64> {
    let config = MlpConfig {
        input_dim: 784,
        hidden: vec![512; 3],
        output_dim: 10,
        activation: Activation::Relu,
        bias: true,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 2f64.sqrt(),
        sigma_b: 0.1,
    };
    Mlp::init(&config, &mut Rng::new(seed, Stream::Init)).unwrap()
}

fn matching(c: &mut Criterion) {
    let (a, b) = (mlp(1), mlp(2));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-rebasin");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.safetensors"), to_safetensors(&a).unwrap()).unwrap();
    std::fs::write(dir.join("b.safetensors"), to_safetensors(&b).unwrap()).unwrap();
    let once = weight_matching(&a, &b, &mut Rng::new(0, Stream::Experiment)).unwrap();
    eprintln!(
        "theorylab sweeps {} objective {:.6e}",
        once.sweeps,
        once.objective.last().unwrap()
    );
    c.bench_function("weight_matching_mlp_784_512x3_10", |bench| {
        bench.iter(|| weight_matching(&a, &b, &mut Rng::new(0, Stream::Experiment)).unwrap())
    });
}

criterion_group!(benches, matching);
criterion_main!(benches);
