//! The coordinate check (src/experiments/coordcheck.rs) shows the width exponents that the
//! abc theory predicts (Yang & Hu 2021, Theorem 3.3 and Table 1; TP5 Table 3 for Adam).
//!
//! After one update (step t = 2), the change of each layer output scales like n^p with, for a
//! depth-2 ReLU network (h1 = input layer, h2 = hidden layer, f = output):
//!
//! |            | h1    | h2    | f     |
//! |------------|-------|-------|-------|
//! | SP, SGD    | -1/2  | 1/2   | 1     |
//! | NTK, SGD   | -1/2  | -1/2  | 0     |
//! | muP, SGD   | 0     | 0     | 0     |
//! | SP, Adam   | 0     | 1     | 3/2   |
//! | NTK, Adam  | -1/2  | -1/2  | 0     |
//! | muP, Adam  | 0     | 0     | 0     |
//!
//! SGD: `dW_l = -eta n^(-2a-c) delta_l h^T` with `delta_l` the backpropagated error; Adam's first
//! step is `-eta n^(-a-c) sign(g)`, a rank-one sign pattern, so `dW h` sums n aligned terms.
//!
//! Tolerance: the slope is fitted over n = 256..4096 for each of 4 seeds; we allow 4 standard
//! errors of the mean slope plus 0.1 for finite-width corrections (a subleading term
//! O(n^-1/2) relative to the leading one shifts the fitted slope by at most ~c/32 at n = 256,
//! c = O(1)), well below the 1/2 that separates the regimes. Small learning rates (1e-3 SGD,
//! 1e-4 Adam) keep the first update in its first-order regime at every width.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use theorylab::core::ensemble::CpuEnsemble;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::stepper::run;
use theorylab::experiments::sweep::power_law_fit;
use theorylab::experiments::width::coordcheck::{CoordCheck, CoordCheckConfig, CoordCheckResult};

const SEEDS: u64 = 4;

fn sweep(
    parametrization: Parametrization,
    optimizer: OptimizerKind,
    seed: u64,
) -> CoordCheckResult {
    let config = CoordCheckConfig {
        parametrization,
        optimizer,
        lr: if optimizer == OptimizerKind::Sgd {
            1e-3
        } else {
            1e-4
        },
        widths: vec![256, 512, 1024, 2048, 4096],
        steps: 2,
        seeds: 1,
        depth: 2,
        seed,
        ..CoordCheckConfig::default()
    };
    let mut check = CoordCheck::<CpuEnsemble<f64>>::new(&config).unwrap();
    run(&mut check, |_| std::ops::ControlFlow::Continue(())).unwrap()
}

/// Mean and standard error over seeds of the fitted exponent of `quantity(result)` vs width.
fn exponent(
    results: &[CoordCheckResult],
    quantity: impl Fn(&CoordCheckResult, usize) -> f64,
) -> (f64, f64) {
    let slopes: Vec<f64> = results
        .iter()
        .map(|r| {
            let points: Vec<(f64, f64)> = r
                .widths
                .iter()
                .enumerate()
                .map(|(i, &n)| (n as f64, quantity(r, i)))
                .collect();
            power_law_fit(&points).unwrap().0
        })
        .collect();
    common::mean_and_standard_error(&slopes)
}

fn check(parametrization: Parametrization, optimizer: OptimizerKind, expected: [f64; 3]) {
    let results: Vec<CoordCheckResult> = (0..SEEDS)
        .map(|s| sweep(parametrization, optimizer, s))
        .collect();
    for (layer, &p) in expected.iter().enumerate() {
        let (mean, se) = exponent(&results, |r, i| r.delta_size[i][1][layer]);
        let tolerance = 4.0 * se + 0.1;
        assert!(
            (mean - p).abs() <= tolerance,
            "{parametrization:?} {optimizer:?}: change of {} scales like n^{mean:.3} (se {se:.3}), theory n^{p}",
            results[0].layers[layer]
        );
    }
    // Nothing has moved before the first update.
    assert!(
        results
            .iter()
            .all(|r| r.delta_size.iter().all(|w| w[0].iter().all(|&d| d == 0.0)))
    );
}

#[test]
fn sgd_coordinate_check_has_the_predicted_exponents() {
    check(Parametrization::Sp, OptimizerKind::Sgd, [-0.5, 0.5, 1.0]);
    check(Parametrization::Ntk, OptimizerKind::Sgd, [-0.5, -0.5, 0.0]);
    check(Parametrization::Mup, OptimizerKind::Sgd, [0.0, 0.0, 0.0]);
}

#[test]
fn adam_coordinate_check_has_the_predicted_exponents() {
    check(Parametrization::Sp, OptimizerKind::Adam, [0.0, 1.0, 1.5]);
    check(Parametrization::Ntk, OptimizerKind::Adam, [-0.5, -0.5, 0.0]);
    check(Parametrization::Mup, OptimizerKind::Adam, [0.0, 0.0, 0.0]);
}

#[test]
fn ntk_freezes_features_and_kernel_while_mup_moves_them() {
    // Relative movement after one SGD step: NTK moves the last hidden features and the
    // tangent kernel by O(n^-1/2) (Jacot et al. 2018, Theorem 2: the kernel stays constant in
    // the limit), muP by O(1) (Yang & Hu 2021, Corollary 3.9). Tolerance as above.
    for (parametrization, p) in [(Parametrization::Ntk, -0.5), (Parametrization::Mup, 0.0)] {
        let results: Vec<_> = (0..SEEDS)
            .map(|s| sweep(parametrization, OptimizerKind::Sgd, s))
            .collect();
        for (name, (mean, se)) in [
            (
                "feature movement",
                exponent(&results, |r, i| r.feature_movement[i]),
            ),
            (
                "kernel movement",
                exponent(&results, |r, i| r.kernel_movement[i]),
            ),
        ] {
            assert!(
                (mean - p).abs() <= 4.0 * se + 0.1,
                "{parametrization:?}: {name} scales like n^{mean:.3} (se {se:.3}), theory n^{p}"
            );
        }
    }
}

#[test]
fn power_law_fit_recovers_an_exact_power_law() {
    let points: Vec<(f64, f64)> = [1.0, 2.0, 8.0, 100.0]
        .iter()
        .map(|&x: &f64| (x, 3.0 * x.powf(-0.5)))
        .collect();
    let (p, a) = power_law_fit(&points).unwrap();
    assert!((p + 0.5).abs() < 1e-14 && (a - 3.0).abs() < 1e-13);
    assert_eq!(power_law_fit(&[(1.0, 1.0)]), None);
}

#[test]
fn bad_sweeps_are_named() {
    let bad = |config: CoordCheckConfig| {
        CoordCheck::<CpuEnsemble<f32>>::new(&config)
            .unwrap_err()
            .to_string()
    };
    let base = CoordCheckConfig::default;
    assert!(
        bad(CoordCheckConfig {
            widths: vec![],
            ..base()
        })
        .contains("widths")
    );
    assert!(
        bad(CoordCheckConfig {
            widths: vec![64, 0],
            ..base()
        })
        .contains("width 0")
    );
    assert!(
        bad(CoordCheckConfig {
            widths: vec![128, 64],
            ..base()
        })
        .contains("increasing")
    );
    assert!(
        bad(CoordCheckConfig {
            lr: f64::NAN,
            ..base()
        })
        .contains("learning rate")
    );
    assert!(bad(CoordCheckConfig { lr: -0.1, ..base() }).contains("learning rate"));
    assert!(bad(CoordCheckConfig { steps: 0, ..base() }).contains("steps"));
    assert!(bad(CoordCheckConfig { seeds: 0, ..base() }).contains("seeds"));
}

#[test]
fn a_stopped_sweep_reports_the_widths_it_finished() {
    let config = CoordCheckConfig {
        widths: vec![8, 16, 32],
        steps: 3,
        seeds: 2,
        ..CoordCheckConfig::default()
    };
    let mut check = CoordCheck::<CpuEnsemble<f32>>::new(&config).unwrap();
    let mut slices = 0;
    let result = run(&mut check, |p| {
        slices += 1;
        assert_eq!(p.total, 3 * 2 * 3);
        if slices == 7 {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })
    .unwrap();
    // 7 slices = width 8's two seeds (6 steps) and one step of width 16.
    assert_eq!(result.widths, vec![8]);
    assert_eq!(result.seeds_done, vec![2]);
    assert_eq!(result.act_size[0].len(), 3);
    assert_eq!(result.layers, ["h1", "h2", "output"]);
}
