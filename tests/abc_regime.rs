//! The abc classification (src/core/abc_regime.rs) against Yang & Hu 2021 (TP4), Theorem 3.3
//! and the regimes it names, its symmetries, and the coordinate check.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use std::ops::ControlFlow;
use theorylab::core::abc::{Abc, AbcRules};
use theorylab::core::abc_regime::{Regime, classify};
use theorylab::core::ensemble::CpuEnsemble;
use theorylab::core::optim::OptimizerKind::{self, Adam, Sgd};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::stepper::run;
use theorylab::experiments::sweep::power_law_fit;
use theorylab::experiments::width::coordcheck::{CoordCheck, CoordCheckConfig};

fn rules(p: Parametrization, optimizer: OptimizerKind) -> AbcRules {
    p.rules(optimizer)
}

#[test]
fn the_presets_land_where_tp4_puts_them() {
    // TP4 Section 3 and Table 1: SP at a fixed rate is unstable (r = -1), NTK is the kernel
    // regime (r = 1/2), muP and mean field learn features (r = 0); for Adam likewise (TP5).
    for optimizer in [Sgd, Adam] {
        for (p, regime, r) in [
            (Parametrization::Sp, Regime::Unstable, -1.0),
            (Parametrization::Ntk, Regime::Kernel, 0.5),
            (Parametrization::Mup, Regime::FeatureLearning, 0.0),
            (Parametrization::MeanField, Regime::FeatureLearning, 0.0),
        ] {
            let c = classify(&rules(p, optimizer), 3, optimizer);
            assert_eq!(c.regime, regime, "{p:?} {optimizer:?}: {c:?}");
            assert_eq!(c.r, r, "{p:?} {optimizer:?}");
        }
    }
}

#[test]
fn sp_with_rate_one_over_width_is_in_the_kernel_regime_and_ntk_with_it_is_trivial() {
    let slower = |p: Parametrization| {
        let mut r = rules(p, Sgd);
        for layer in [&mut r.input, &mut r.hidden, &mut r.output] {
            layer.c += 1.0;
        }
        classify(&r, 2, Sgd)
    };
    // TP4 Section 3.1: SP with eta ~ 1/n is stable, in the kernel regime with r = 1/2.
    let sp = slower(Parametrization::Sp);
    assert_eq!((sp.regime, sp.r, sp.u), (Regime::Kernel, 0.5, 0.0));
    // NTK with eta ~ 1/n: nothing moves in the limit.
    let ntk = slower(Parametrization::Ntk);
    assert_eq!(ntk.regime, Regime::Trivial);
    // An unstable choice names what blows up.
    let sp = classify(&rules(Parametrization::Sp, Sgd), 2, Sgd);
    assert!(
        sp.violations.iter().any(|v| v.starts_with("r = -1")),
        "{sp:?}"
    );
}

#[test]
fn the_verdict_is_invariant_under_the_optimizers_symmetries() {
    // SGD: (a, b, c) -> (a + t, b - t, c - 2t) per layer leaves the trained function unchanged
    // (TP4 eq. (5)); Adam: (a + t, b - t, c - t). Shifts by quarters keep arithmetic exact.
    for optimizer in [Sgd, Adam] {
        let k = if optimizer == Sgd { 2.0 } else { 1.0 };
        for p in [
            Parametrization::Sp,
            Parametrization::Ntk,
            Parametrization::Mup,
        ] {
            let base = rules(p, optimizer);
            let reference = classify(&base, 3, optimizer);
            for (ti, th, to) in [(0.25, -0.5, 0.75), (-1.0, 0.5, 0.25)] {
                let shift = |l: Abc, t: f64| Abc {
                    a: l.a + t,
                    b: l.b - t,
                    c: l.c - k * t,
                };
                let moved = AbcRules {
                    input: shift(base.input, ti),
                    hidden: shift(base.hidden, th),
                    output: shift(base.output, to),
                };
                let c = classify(&moved, 3, optimizer);
                assert_eq!(
                    (c.regime, c.r, c.u),
                    (reference.regime, reference.r, reference.u)
                );
            }
        }
    }
}

#[test]
fn one_hidden_layer_ignores_the_hidden_rule() {
    let mut r = rules(Parametrization::Mup, Sgd);
    r.hidden.b += 3.0;
    assert_eq!(classify(&r, 1, Sgd).regime, Regime::FeatureLearning);
    assert_eq!(classify(&r, 2, Sgd).regime, Regime::Unstable);
}

#[test]
fn the_coordinate_check_measures_r_for_choices_off_the_presets() {
    // muP with every learning-rate exponent raised by 1/4, under SGD and under Adam: r = 1/4
    // (trivial: the output stops moving, alpha + r = 5/4 > 1, but the features still move like
    // n^-1/4). The change of the last hidden layer after one step must scale like n^-r;
    // tolerance as in tests/coordcheck.rs (4 standard errors over seeds plus 0.1), small rates
    // (1e-3 SGD, 1e-4 Adam) keeping the step in its first-order regime.
    for (optimizer, lr) in [(Sgd, 1e-3), (Adam, 1e-4)] {
        let mut abc = rules(Parametrization::Mup, optimizer);
        for layer in [&mut abc.input, &mut abc.hidden, &mut abc.output] {
            layer.c += 0.25;
        }
        let verdict = classify(&abc, 2, optimizer);
        assert_eq!((verdict.regime, verdict.r), (Regime::Trivial, 0.25));
        let slopes: Vec<f64> = (0..4)
            .map(|seed| {
                let config = CoordCheckConfig {
                    parametrization: Parametrization::Custom(abc),
                    optimizer,
                    lr,
                    widths: vec![256, 512, 1024, 2048, 4096],
                    steps: 2,
                    seeds: 1,
                    depth: 2,
                    seed,
                    ..CoordCheckConfig::default()
                };
                let result = run(
                    &mut CoordCheck::<CpuEnsemble<f64>>::new(&config).unwrap(),
                    |_| ControlFlow::Continue(()),
                )
                .unwrap();
                let points: Vec<(f64, f64)> = result
                    .widths
                    .iter()
                    .zip(&result.delta_size)
                    .map(|(&n, d)| (n as f64, d[1][1]))
                    .collect();
                power_law_fit(&points).unwrap().0
            })
            .collect();
        let (mean, se) = common::mean_and_standard_error(&slopes);
        eprintln!(
            "{optimizer:?}: h2 change slope {mean:.3} (se {se:.3}), theory -{}",
            verdict.r
        );
        assert!(
            (mean + verdict.r).abs() <= 4.0 * se + 0.1,
            "{optimizer:?}: h2 moves like n^{mean:.3} (se {se:.3}), theory n^-{}",
            verdict.r
        );
    }
}
