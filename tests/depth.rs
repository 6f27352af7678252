//! The Depth room against theory: random networks at initialization are nearly Gaussian with
//! corrections in L/n (PDLT ch. 4-5), their tangent kernels fluctuate like the layer-sum law,
//! and the mean-field maps put the order-to-chaos line where direct iteration finds it.
//!
//! Monte-Carlo tolerances are 4 standard errors (delta method over networks): a two-sided
//! false alarm of 6e-5 per check. Where theory is a leading order, the size of the next order
//! (the square of the first) is added and said so.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use std::ops::ControlFlow;
use theorylab::core::activation::Activation;
use theorylab::core::criticality::{Accuracy, MeanField};
use theorylab::core::kernels::{KernelParametrization, KernelSpec, empirical_ntk, network};
use theorylab::core::nearly_gaussian::{DepthSpec, layer_theory};
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::run;
use theorylab::experiments::depth::DepthConfig;
use theorylab::experiments::depth::aspect::AspectConfig;
use theorylab::experiments::depth::criticality::CriticalityConfig;
use theorylab::experiments::depth::ensemble::{
    EnsembleConfig, EnsembleResult, RatioSums, ntk_ratio_theory,
};
use theorylab::experiments::depth::residual::ResidualConfig;
use theorylab::experiments::{Experiment, FigureData};
use theorylab::plot::{Figure, MIN_FONT_PX};

include!("golden/criticality_tanh.rs");

fn sample(config: EnsembleConfig) -> EnsembleResult {
    run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap()
}

fn assert_within(what: &str, measured: f64, theory: f64, tolerance: f64) {
    assert!(
        (measured - theory).abs() <= tolerance,
        "{what}: measured {measured}, theory {theory}, tolerance {tolerance}"
    );
}

/// ReLU at C_b = 0: E z^4 / (3 E[z^2]^2) = (1 + 5/n)^(l-1) exactly at every layer, and the
/// second moment is K = C_W q exactly.
#[test]
fn relu_kurtosis_follows_the_exact_law_layer_by_layer() {
    let r = sample(EnsembleConfig {
        depth: 6,
        width: 32,
        samples: 4000,
        ..EnsembleConfig::default()
    });
    for l in &r.layers {
        let m = &l.moments;
        let exact = (1.0 + 5.0 / 32.0f64).powi(l.layer as i32 - 1);
        assert_eq!(m.theory, Some(exact));
        assert_within(
            &format!("layer {}", l.layer),
            m.kurtosis_ratio,
            exact,
            4.0 * m.stderr,
        );
    }
}

/// Deep linear networks: (1 + 2/n)^(l-1).
#[test]
fn linear_kurtosis_follows_the_exact_law() {
    let r = sample(EnsembleConfig {
        activation: Activation::Linear,
        weight_var: 1.0,
        depth: 6,
        width: 16,
        samples: 4000,
        ..EnsembleConfig::default()
    });
    for l in &r.layers {
        let exact = (1.0 + 2.0 / 16.0f64).powi(l.layer as i32 - 1);
        assert_within(
            &format!("layer {}", l.layer),
            l.moments.kurtosis_ratio,
            exact,
            4.0 * l.moments.stderr,
        );
    }
}

/// Any activation: PDLT's vertex recursion at leading order. The next order is the square of
/// the first, added to the tolerance.
#[test]
fn tanh_kurtosis_follows_the_vertex_recursion_with_and_without_a_skip() {
    for (residual, weight_var, bias_var) in [(0.0, 1.0, 0.0), (0.0, 1.5, 0.1), (0.5, 1.0, 0.0)] {
        let r = sample(EnsembleConfig {
            activation: Activation::Tanh,
            weight_var,
            bias_var,
            residual,
            depth: 6,
            width: 128,
            samples: 3000,
            ..EnsembleConfig::default()
        });
        for l in &r.layers {
            let m = &l.moments;
            let lead = m.theory_leading.unwrap();
            assert_within(
                &format!("gamma {residual}, C_W {weight_var}, layer {}", l.layer),
                m.kurtosis_ratio,
                lead,
                4.0 * m.stderr + (lead - 1.0).powi(2),
            );
            // The infinite-width kernel and the second moment: 1/n corrections, far inside
            // 5% at n = 128.
            assert!((m.second_moment / m.kernel - 1.0).abs() < 0.05);
            assert!((l.correlation - l.correlation_theory).abs() < 0.02);
        }
    }
}

/// The kurtosis grows more slowly per layer the larger the skip weight (critical tanh).
#[test]
fn a_skip_slows_the_growth_of_the_vertex() {
    let vertex_over_k2 = |residual: f64| {
        let t = layer_theory(&DepthSpec {
            activation: Activation::Tanh,
            weight_var: 1.0,
            bias_var: 0.0,
            residual,
            depth: 10,
            width: 64,
            q_input: 1.0,
        });
        let last = t[t.len() - 2];
        last.vertex / last.kernel.powi(2)
    };
    let growth: Vec<f64> = [0.0, 0.3, 0.6, 0.9].map(vertex_over_k2).to_vec();
    assert!(growth.windows(2).all(|w| w[1] < w[0]), "{growth:?}");
}

/// The skip-weight sweep (tanh at criticality, and a linear network): at every gamma the
/// readout's kurtosis is the recursion's within 4 standard errors plus the next order (the
/// square of the first), and the measured excess at the largest gamma is below the plain
/// network's by more than 4 standard errors of their difference.
#[test]
fn the_skip_weight_sweep_follows_the_recursion_at_every_gamma() {
    for activation in [Activation::Tanh, Activation::Linear] {
        let config = ResidualConfig {
            activation,
            depth: 12,
            width: 64,
            gammas: vec![0.0, 0.5, 0.8, 0.95],
            samples: 4000,
            ..ResidualConfig::default()
        };
        let r = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(r.points.len(), 4);
        for p in &r.points {
            let theory = p.theory.unwrap();
            assert_within(
                &format!("{activation}, gamma {}", p.residual),
                p.kurtosis_ratio,
                theory,
                4.0 * p.stderr + (theory - 1.0).powi(2),
            );
        }
        let (plain, skip) = (&r.points[0], &r.points[3]);
        assert!(
            plain.kurtosis_ratio - skip.kurtosis_ratio > 4.0 * plain.stderr.hypot(skip.stderr),
            "{activation}: {plain:?} {skip:?}"
        );
        // The curve spans [0, largest gamma].
        assert_eq!(r.theory[0].0, 0.0);
        assert_eq!(r.theory[r.theory.len() - 1].0, 0.95);
    }
}

/// At vanishing L/n the network is Gaussian: the ratio is 1 within its standard error.
#[test]
fn wide_shallow_networks_are_gaussian() {
    let r = sample(EnsembleConfig {
        activation: Activation::Erf,
        weight_var: 1.5,
        bias_var: 0.1,
        depth: 1,
        width: 4096,
        samples: 400,
        ..EnsembleConfig::default()
    });
    // Theory: 1 + V/(n K^2) with n = 4096 is within 1e-3 of 1.
    assert!((r.output.theory.unwrap() - 1.0).abs() < 1e-3);
    assert_within(
        "readout",
        r.output.kurtosis_ratio,
        1.0,
        4.0 * r.output.stderr + 1e-3,
    );
}

/// The exact-in-law sampler against networks with explicit weight matrices (the kernel
/// module's NTK-parametrized MLP, one readout): the same kurtosis law and the same tangent
/// kernel statistics.
#[test]
fn the_sampler_matches_networks_with_explicit_weights() {
    let (depth, width, samples) = (3, 16, 3000);
    let spec = KernelSpec {
        depth,
        activation: Activation::Relu,
        weight_var: 2.0,
        bias_var: 0.0,
        parametrization: KernelParametrization::Ntk,
    };
    let d = 4;
    // |x|^2 / d = 1.
    let x = nalgebra::DMatrix::from_element(d, 1, 1.0);
    let mut rng = Rng::new(7, Stream::Init);
    let (mut output, mut ntk) = (RatioSums::default(), RatioSums::default());
    for _ in 0..samples {
        let mlp = network(&spec, d, width, &mut rng).unwrap();
        let f = mlp.forward(&x).unwrap().output()[(0, 0)];
        output.add(f.powi(4), f * f);
        let theta = empirical_ntk(&mlp, &x).unwrap()[(0, 0)];
        ntk.add(theta * theta, theta);
    }
    let (ratio, se) = output.ratio(3.0);
    assert_within(
        "explicit readout kurtosis",
        ratio,
        (1.0 + 5.0 / 16.0f64).powi(3),
        4.0 * se,
    );
    let sampled = sample(EnsembleConfig {
        depth,
        width,
        samples,
        ..EnsembleConfig::default()
    });
    let (ntk_ratio, ntk_se) = ntk.ratio(1.0);
    assert_within(
        "NTK ratio, explicit vs sampled",
        ntk_ratio,
        sampled.ntk.ratio,
        4.0 * (ntk_se.powi(2) + sampled.ntk.stderr.powi(2)).sqrt(),
    );
    // E[Theta]: the same for both (standard error of a mean over networks).
    let mean = ntk.b / ntk.count;
    let sd = ((ntk.bb / ntk.count - mean * mean).max(0.0) / ntk.count).sqrt();
    assert_within(
        "E Theta",
        mean,
        sampled.ntk.mean,
        4.0 * sd * std::f64::consts::SQRT_2,
    );
}

/// The layer-sum law of the ReLU tangent kernel's fluctuations.
#[test]
fn relu_ntk_fluctuations_follow_the_layer_sum_law() {
    for (depth, width) in [(4, 32), (8, 32)] {
        let r = sample(EnsembleConfig {
            depth,
            width,
            samples: 8000,
            ..EnsembleConfig::default()
        });
        let theory = r.ntk.theory.unwrap();
        assert_within(
            &format!("L = {depth}, n = {width}"),
            r.ntk.ratio,
            theory,
            4.0 * r.ntk.stderr,
        );
    }
    // Its leading order is 1 + (11/3) L/n, and its growth rate at large L/n is Hanin & Nica's 5.
    let law = |depth: usize, width: usize| {
        ntk_ratio_theory(
            &EnsembleConfig {
                depth,
                width,
                ..EnsembleConfig::default()
            }
            .spec(),
        )
        .unwrap()
    };
    let small = (law(1, 100_000) - 1.0) / 1e-5;
    // 1 + (11/3) b + O(b^2 + 1/L): at L = 1 the sum over two layers gives (1/4)(2 * 5 + 2 * 1) = 3.
    assert!((small - 3.0).abs() < 1e-3, "{small}");
    // At b = L/n = 0.01 the O(b^2) and O(1/L) terms move the slope by about 0.1.
    let slope = ((law(100, 10_000) - 1.0) / 0.01 - 11.0 / 3.0).abs();
    assert!(slope < 0.2, "small-L/n slope off 11/3 by {slope}");
    let rate = (law(4000, 1000) / law(3000, 1000)).ln();
    // exp(5 b) g(4 b), g(a) = 2 (a - 1 + e^-a) / a^2: from b = 3 to 4 the rate is
    // 5 + ln(g(16) / g(12)) = 4.73.
    assert!((rate - 5.0).abs() < 0.3, "rate {rate}");
}

/// The named critical points.
#[test]
fn critical_points_are_where_the_theory_puts_them() {
    let relu = MeanField {
        activation: Activation::Relu,
        weight_var: 2.0,
        bias_var: 0.0,
    };
    assert_eq!(relu.critical_weight_var(1.0), Some(2.0));
    assert!((relu.criticality(1.0).chi_1.unwrap() - 1.0).abs() < 1e-15);
    // tanh at C_W = 1, C_b = 0: q* = 0 and chi_1 = phi'(0)^2 = 1.
    let tanh = MeanField {
        activation: Activation::Tanh,
        weight_var: 1.0,
        bias_var: 0.0,
    };
    let c = tanh.criticality(1.0);
    assert_eq!(c.q_star, Some(0.0));
    assert!((c.chi_1.unwrap() - 1.0).abs() < 1e-12);
    let crit = tanh.critical_weight_var(1.0).unwrap();
    assert!((crit - 1.0).abs() < 1e-6, "{crit}");
}

/// On the line chi_1 = 1 (found by bisection on chi_1) the correlation map, iterated directly,
/// has slope 1 at c = 1: a perturbation 1 - c neither shrinks nor grows geometrically.
#[test]
fn the_critical_line_agrees_with_direct_iteration_of_the_maps() {
    for activation in [Activation::Tanh, Activation::Erf] {
        for bias_var in [0.05, 0.2] {
            let at = |weight_var| MeanField {
                activation,
                weight_var,
                bias_var,
            };
            let crit = at(1.0).critical_weight_var(1.0).unwrap();
            let field = at(crit);
            // q by iterating the length map 500 times from q = 1.
            let mut q = 1.0;
            for _ in 0..500 {
                q = field.length_map(q);
            }
            let eps = 1e-4;
            let slope = (1.0 - field.correlation_map(q, 1.0 - eps)) / eps;
            // The map is 1 - chi_1 eps + O(eps^2) with an O(1) curvature: slack 10 eps.
            assert!(
                (slope - 1.0).abs() < 10.0 * eps,
                "{activation:?} C_b {bias_var}: slope {slope}"
            );
            // Off the line, 1 - c^l decays like exp(-l / xi_c) in the ordered phase.
            let ordered = at(0.8 * crit);
            let c = ordered.criticality(1.0);
            let flow = ordered.kernel_flow(c.q_star.unwrap(), 0.9, 200);
            let (a, b) = (1.0 - flow[100].1, 1.0 - flow[150].1);
            let xi = 50.0 / (a / b).ln();
            assert!(
                (xi / c.xi_c.unwrap() - 1.0).abs() < 0.02,
                "xi {xi} vs {:?}",
                c.xi_c
            );
        }
    }
}

/// Golden values from `tests/golden/criticality_tanh.py` (mpmath, 20 digits, an independent
/// quadrature): tanh at C_b = 0.05, ordered (C_W = 1.5) and chaotic (2.5). The lab's adaptive
/// quadrature asks for 1e-11; the roots are bisected to f64 resolution, so 1e-8 relative holds
/// with room (c* enters xi_c through a slope, 1e-7). xi_q = -1/log chi_q has relative error
/// xi_q |d chi_q| / chi_q; chi_q = chi_1 + C_W E[phi'' phi] sums two 1e-11 quadratures that
/// cancel by at most a factor (|chi_1| + |C_W E[phi'' phi]|) / chi_q < 5 here, and q*'s error
/// (1e-11 / (1 - chi_q)) moves it by as much again: about 2 x 5e-11 x xi_q < 1e-9 for the
/// golden xi_q < 2, against mpmath's 1e-18, so 1e-8 relative holds with room.
#[test]
fn tanh_criticality_matches_an_independent_quadrature() {
    let critical = MeanField {
        activation: Activation::Tanh,
        weight_var: 1.0,
        bias_var: 0.05,
    }
    .critical_weight_var(1.0)
    .unwrap();
    assert!(
        (critical / GOLDEN_CRITICAL_WEIGHT_VAR - 1.0).abs() < 1e-8,
        "critical C_W {critical} vs {GOLDEN_CRITICAL_WEIGHT_VAR}"
    );
    for (weight_var, q_star, chi_1, c_star, xi_q, xi_c) in GOLDEN {
        let c = MeanField {
            activation: Activation::Tanh,
            weight_var,
            bias_var: 0.05,
        }
        .criticality(1.0);
        let close = |a: f64, b: f64, tol: f64| (a / b - 1.0).abs() < tol;
        assert!(
            close(c.q_star.unwrap(), q_star, 1e-8),
            "q* {:?} vs {q_star}",
            c.q_star
        );
        assert!(
            close(c.chi_1.unwrap(), chi_1, 1e-8),
            "chi_1 {:?} vs {chi_1}",
            c.chi_1
        );
        assert!(
            close(c.c_star.unwrap(), c_star, 1e-7),
            "c* {:?} vs {c_star}",
            c.c_star
        );
        assert!(
            close(c.xi_q.unwrap(), xi_q, 1e-8),
            "xi_q {:?} vs {xi_q}",
            c.xi_q
        );
        assert!(
            close(c.xi_c.unwrap(), xi_c, 1e-6),
            "xi_c {:?} vs {xi_c}",
            c.xi_c
        );
        // The diagram's Gauss–Hermite rule: 1e-6 of the adaptive values (its error ~1e-7).
        let d = MeanField {
            activation: Activation::Tanh,
            weight_var,
            bias_var: 0.05,
        }
        .criticality_with(1.0, Accuracy::Diagram);
        assert!(
            close(d.c_star.unwrap(), c_star, 1e-6),
            "diagram c* {:?}",
            d.c_star
        );
        assert!(
            close(d.xi_c.unwrap(), xi_c, 1e-5),
            "diagram xi_c {:?}",
            d.xi_c
        );
        // xi_q needs only 1-D averages: the diagram computes them adaptively, as above.
        assert!(
            close(d.xi_q.unwrap(), xi_q, 1e-8),
            "diagram xi_q {:?}",
            d.xi_q
        );
    }
}

/// Bad input names the option.
#[test]
fn bad_input_names_the_option() {
    let bad = [
        (
            ResidualConfig {
                gammas: vec![0.0, 1.2],
                ..ResidualConfig::default()
            }
            .validate(),
            "gammas",
        ),
        (
            ResidualConfig {
                gammas: vec![0.0, f64::NAN],
                ..ResidualConfig::default()
            }
            .validate(),
            "gammas",
        ),
        (
            ResidualConfig {
                activation: Activation::Relu,
                ..ResidualConfig::default()
            }
            .validate(),
            "activation",
        ),
        (
            DepthConfig {
                task: theorylab::core::data::DatasetName::Spiral,
                ..DepthConfig::default()
            }
            .validate(),
            "task",
        ),
        (
            EnsembleConfig {
                width: 0,
                ..EnsembleConfig::default()
            }
            .validate(),
            "width",
        ),
        (
            EnsembleConfig {
                depth: 0,
                ..EnsembleConfig::default()
            }
            .validate(),
            "depth",
        ),
        (
            EnsembleConfig {
                samples: 0,
                ..EnsembleConfig::default()
            }
            .validate(),
            "samples",
        ),
        (
            EnsembleConfig {
                weight_var: f64::NAN,
                ..EnsembleConfig::default()
            }
            .validate(),
            "weight variance",
        ),
        (
            EnsembleConfig {
                bias_var: -1.0,
                ..EnsembleConfig::default()
            }
            .validate(),
            "bias variance",
        ),
        (
            EnsembleConfig {
                residual: 1.0,
                ..EnsembleConfig::default()
            }
            .validate(),
            "residual",
        ),
        (
            EnsembleConfig {
                samples: 1_000_000,
                width: 4096,
                ..EnsembleConfig::default()
            }
            .validate(),
            "samples",
        ),
        (
            CriticalityConfig {
                activation: Activation::Linear,
                ..CriticalityConfig::default()
            }
            .validate(),
            "activation",
        ),
        (
            AspectConfig {
                widths: vec![32, 16],
                ..AspectConfig::default()
            }
            .validate(),
            "widths",
        ),
        (
            DepthConfig {
                width_log2: 11,
                ..DepthConfig::default()
            }
            .validate(),
            "width_log2",
        ),
    ];
    for (result, field) in bad {
        let message = result.unwrap_err().to_string();
        assert!(message.contains(field), "{message} should name {field}");
    }
}

fn figures<E: Experiment>(config: E) -> Vec<FigureData> {
    let result = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    E::figures(&result).unwrap()
}

/// Every figure of the room: its CSV is rectangular, no text is under 11 px, the theory is
/// drawn, and the drawn numbers are the result's.
#[test]
fn every_depth_figure_draws_the_results_numbers_readably() {
    let page = DepthConfig {
        samples_log2: 8,
        ..DepthConfig::default()
    };
    let ensemble = page.ensemble();
    let result = sample(ensemble.clone());
    let mut all = EnsembleConfig::figures(&result).unwrap();
    all.extend(figures(AspectConfig {
        depths: vec![1, 4],
        widths: vec![16, 32],
        samples: 200,
        ..page.aspect()
    }));
    all.extend(figures(ResidualConfig {
        samples: 200,
        ..page.residual()
    }));
    all.extend(figures(CriticalityConfig {
        cells: 6,
        flow_samples: 20,
        flow_depth: 5,
        ..page.criticality()
    }));
    all.extend(figures(CriticalityConfig {
        activation: Activation::Relu,
        weight_var: 2.0,
        bias_var: 0.0,
        cells: 6,
        flow_samples: 20,
        flow_depth: 5,
        ..CriticalityConfig::default()
    }));
    let stems: Vec<&str> = all.iter().map(|f| f.stem).collect();
    assert_eq!(
        stems,
        [
            "readout-histogram",
            "kurtosis-by-layer",
            "kurtosis-collapse",
            "ntk-fluctuations",
            "skip-weight",
            "phase-diagram",
            "gradient-ratio",
            "kernel-flow",
            "phase-diagram",
            "gradient-ratio",
            "kernel-flow"
        ]
    );
    for figure in &all {
        let mut lines = figure.csv.lines();
        let columns = lines.next().unwrap().split(',').count();
        for row in lines {
            assert_eq!(row.split(',').count(), columns, "{}: {row}", figure.stem);
        }
        let svg = figure.svg().unwrap();
        let smallest = svg
            .match_indices("font-size")
            .map(|(i, _)| {
                let rest = &svg[i + "font-size".len()..];
                rest.trim_start_matches(['=', '"', ':', ' '])
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect::<String>()
                    .parse::<f64>()
                    .unwrap()
            })
            .fold(f64::INFINITY, f64::min);
        // Sizes are written rounded to whole pixels: 0.5 px of slack.
        assert!(
            smallest >= MIN_FONT_PX - 0.5,
            "{}: text at {smallest} px",
            figure.stem
        );
        for panel in &figure.panels {
            if let Figure::Line(p) = panel {
                assert!(
                    !p.theory.is_empty(),
                    "{}: {} draws no theory",
                    figure.stem,
                    p.title
                );
            }
        }
    }
    // The kurtosis panel draws the result's numbers: excess = 3 (ratio - 1), bars 3 stderr.
    let Figure::Line(panel) = &all[1].panels[0] else {
        panic!("kurtosis is a line plot")
    };
    for (l, (&(x, y), e)) in result
        .layers
        .iter()
        .zip(panel.series[0].points.iter().zip(&panel.errors[0]))
    {
        assert_eq!(x, l.layer as f64);
        assert_eq!(y, 3.0 * (l.moments.kurtosis_ratio - 1.0));
        assert_eq!(*e, 3.0 * l.moments.stderr);
    }
    let Figure::Histogram(h) = &all[0].panels[0] else {
        panic!("a histogram")
    };
    assert_eq!(
        h.values.len(),
        result.output_values.len().min(h.values.len())
    );
    assert_eq!(h.theory.len(), 2, "Gaussian and its quartic correction");
}

/// Gradients through depth: E|delta^l|^2 = C_W E[phi'(z^l)^2] E|delta^(l+1)|^2 at infinite
/// width (Schoenholz et al. 2017, eq. 18), so the ratio between the first and the last of L
/// hidden layers is prod chi(q^l), vanishing below the line chi_1 = 1 and exploding above it.
/// Sampling error: the delta-method standard error over the networks (4 of them allowed).
/// Finite width: each of the L - 1 factors carries a relative O(1/n) correction, so the log
/// ratio moves by O(L / n) per unit of |log ratio| plus O(L / n) from the first and last layers;
/// the allowance is L / n (1 + |log theory|) (here 10 / 512 ~ 2%). The printed deviations use
/// at most 2.2 standard errors and half of the allowance.
#[test]
fn gradient_ratios_follow_chi_1_through_depth() {
    for (activation, weight_var, bias_var) in [
        (Activation::Tanh, 0.8, 0.05),
        (Activation::Tanh, 2.5, 0.05),
        (Activation::Erf, 3.0, 0.2),
        (Activation::Relu, 1.6, 0.0),
        (Activation::Relu, 2.4, 0.0),
    ] {
        let config = CriticalityConfig {
            activation,
            flow_depth: 10,
            flow_width: 512,
            gradient_samples: 400,
            ..CriticalityConfig::default()
        };
        let g = config.gradient_cell(weight_var, bias_var, 0);
        // The theory is a product of adaptive-quadrature factors: against mpmath's
        // (tests/golden/criticality_tanh.py) for tanh at C_W = 2.5, C_b = 0.05, L = 10.
        if activation == Activation::Tanh && weight_var == 2.5 {
            assert!(
                (g.theory / 1.7328973751561442 - 1.0).abs() < 1e-9,
                "{}",
                g.theory
            );
        }
        let finite_width = (g.theory.ln().abs() + 1.0) * 10.0 / 512.0;
        let sigma = g.stderr / g.measured;
        let off = (g.measured.ln() - g.theory.ln()).abs();
        println!(
            "{activation:?} C_W = {weight_var}: ratio {:.4e} ± {:.2e}, theory {:.4e}; |log diff| {off:.4} vs {:.4} s.e. + {finite_width:.4}",
            g.measured, g.stderr, g.theory, sigma
        );
        assert!(
            off <= 4.0 * sigma + finite_width,
            "{activation:?} at C_W = {weight_var}: measured {} theory {}",
            g.measured,
            g.theory
        );
        let critical = MeanField {
            activation,
            weight_var: 1.0,
            bias_var,
        }
        .critical_weight_var(1.0)
        .unwrap();
        assert_eq!(g.theory > 1.0, weight_var > critical, "{activation:?}");
    }
}

/// A click on the map picks the cell under it: the grid's corners give the extreme cells'
/// centres, the middle of cell (i, j) gives cell (i, j).
#[test]
fn a_click_on_the_map_picks_the_cell_under_it() {
    let c = CriticalityConfig {
        cells: 16,
        ..CriticalityConfig::default()
    };
    assert_eq!(c.cell_at(0.0, 0.0), (c.weight_var_at(0), c.bias_var_at(0)));
    assert_eq!(
        c.cell_at(1.0, 1.0),
        (c.weight_var_at(15), c.bias_var_at(15))
    );
    let (i, j) = (5, 11);
    let centre = |k: usize| (k as f64 + 0.5) / 16.0;
    assert_eq!(
        c.cell_at(centre(i), centre(j)),
        (c.weight_var_at(i), c.bias_var_at(j))
    );
    // C_W = 0.5 + 3.5 (5.5 / 16), C_b = 0.5 (11.5 / 16): the cell centres the CSV lists.
    assert!((c.weight_var_at(i) - (0.5 + 3.5 * 5.5 / 16.0)).abs() < 1e-15);
    assert!((c.bias_var_at(j) - 0.5 * 11.5 / 16.0).abs() < 1e-15);
}

/// The counter-based normals (`core::counter_rng`) are standard and independent: over N = 2^18
/// draws the mean, variance and fourth moment are 0, 1 and 3, and the products of a pair's two
/// members, of neighbouring neurons, networks, layers and seed keys have mean 0, each within 4
/// standard errors (Var z = 1, Var z^2 = 2, Var z^4 = 105 - 9 = 96, Var z z' = 1, over N).
#[test]
fn counter_normals_are_standard_and_independent() {
    use theorylab::core::counter_rng::{normal_pair, seed_key};
    let n = 1usize << 18;
    let k0 = seed_key(0);
    let mut sums = [0.0f64; 8];
    for i in 0..n {
        let (net, neuron) = ((i >> 9) as u32, (i & 511) as u32);
        let (a, b) = normal_pair(k0, net, 3, neuron, 1);
        let next_neuron = normal_pair(k0, net, 3, neuron + 1, 1).0;
        let next_net = normal_pair(k0, net + 1, 3, neuron, 1).0;
        let next_layer = normal_pair(k0, net, 4, neuron, 1).0;
        let next_seed = normal_pair(seed_key(1), net, 3, neuron, 1).0;
        for (s, v) in sums.iter_mut().zip([
            a,
            a * a,
            a.powi(4),
            a * b,
            a * next_neuron,
            a * next_net,
            a * next_layer,
            a * next_seed,
        ]) {
            *s += v / n as f64;
        }
    }
    // The batched draws the sampler uses are the same numbers, bit for bit.
    let (first, second) = theorylab::core::counter_rng::normal_pairs(k0, 5, 3, 1, 300);
    for i in 0..300 {
        assert_eq!((first[i], second[i]), normal_pair(k0, 5, 3, i as u32, 1));
    }
    let se = |var: f64| 4.0 * (var / n as f64).sqrt();
    let expect = [
        (0.0, 1.0),
        (1.0, 2.0),
        (3.0, 96.0),
        (0.0, 1.0),
        (0.0, 1.0),
        (0.0, 1.0),
        (0.0, 1.0),
        (0.0, 1.0),
    ];
    let names = [
        "mean", "E z^2", "E z^4", "pair", "neuron", "network", "layer", "seed",
    ];
    for ((&m, (mu, var)), name) in sums.iter().zip(expect).zip(names) {
        assert_within(name, m, mu, se(var));
    }
}

/// The sampler's own cosine and sine equal libm's on [-pi, pi] to f64 rounding (a few ulps:
/// the series' truncation is below 2e-19 and the double-angle step doubles the rounding).
#[test]
fn the_series_cos_and_sin_equal_libm() {
    use theorylab::core::counter_rng::cos_sin;
    let mut worst = 0.0f64;
    for k in 0..=200_000 {
        let t = -std::f64::consts::PI + 2.0 * std::f64::consts::PI * k as f64 / 200_000.0;
        let (c, s) = cos_sin(t);
        worst = worst.max((c - t.cos()).abs()).max((s - t.sin()).abs());
    }
    assert!(worst <= 2e-15, "worst difference {worst:e}");
}
