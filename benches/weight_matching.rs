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

// The CLI's allocator (src/main.rs), so that matching is timed as the CLI runs it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        "theorylab sweeps {} solves {} objective {:.6e}",
        once.sweeps,
        once.solves,
        once.objective.last().unwrap()
    );
    c.bench_function("weight_matching_mlp_784_512x3_10", |bench| {
        bench.iter(|| weight_matching(&a, &b, &mut Rng::new(0, Stream::Experiment)).unwrap())
    });
}

/// One 512 x 512 linear assignment of Gaussian scores, the size of each of weight matching's
/// solves (SciPy's `linear_sum_assignment` on such a matrix: see bench/weight_matching.py).
fn assignment_512(c: &mut Criterion) {
    let mut rng = Rng::new(3, Stream::Experiment);
    let score = nalgebra::DMatrix::from_fn(512, 512, |_, _| rng.normal());
    c.bench_function("assignment_gaussian_512", |bench| {
        bench.iter(|| theorylab::core::assignment::maximize(&score).unwrap())
    });
}

criterion_group!(benches, matching, assignment_512);
criterion_main!(benches);
