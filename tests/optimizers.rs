//! Our SGD (momentum, weight decay) and Adam updates equal PyTorch's: three full-batch
//! cross-entropy steps from the same weights (fixtures from `fixtures/make_torch_fixture.py`,
//! PyTorch 2.15 in float64). Both sides compute in f64 from the same f32 weights, so they agree
//! to accumulated rounding, ~1e-15 relative; we allow 1e-12.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use theorylab::core::activation::Activation;
use theorylab::core::data::Targets;
use theorylab::core::data::{TargetColumns, parse_csv};
use theorylab::core::loss::{Loss, Target};
use theorylab::core::model_file::from_safetensors;
use theorylab::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn three_steps_match_pytorch(config: OptimizerConfig, reference: &str) {
    let load = |name: &str| {
        from_safetensors(&std::fs::read(fixture(name)).unwrap(), Activation::Tanh).unwrap()
    };
    let mut mlp = load("tanh_ce.safetensors");
    let data = parse_csv(
        &std::fs::read_to_string(fixture("tanh_ce.csv")).unwrap(),
        TargetColumns::Class,
    )
    .unwrap();
    let Targets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };
    let mut optimizer = Optimizer::new(config, &mlp).unwrap();
    for _ in 0..3 {
        let forward = mlp.forward(&data.features).unwrap();
        let (_, d_output) = Loss::CrossEntropy
            .value_and_gradient(forward.output(), Target::Classes(labels))
            .unwrap();
        let gradients = mlp.backward(&forward, &d_output);
        optimizer.step(&mut mlp, &gradients);
    }
    let expected = load(reference).flatten();
    let ours = mlp.flatten();
    let error = (&ours - &expected).amax() / expected.amax();
    assert!(
        error < 1e-12,
        "{reference}: max relative deviation {error:e}"
    );
}

#[test]
fn sgd_with_momentum_and_weight_decay_matches_pytorch() {
    let config = OptimizerConfig {
        kind: OptimizerKind::Sgd,
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.01,
        ..Default::default()
    };
    three_steps_match_pytorch(config, "tanh_ce_sgd3.safetensors");
}

#[test]
fn adam_with_weight_decay_matches_pytorch() {
    let config = OptimizerConfig {
        kind: OptimizerKind::Adam,
        lr: 0.01,
        beta1: 0.8,
        beta2: 0.99,
        eps: 1e-8,
        weight_decay: 0.01,
        ..Default::default()
    };
    three_steps_match_pytorch(config, "tanh_ce_adam3.safetensors");
}
