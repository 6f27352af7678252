//! Infinite-width kernels (src/core/kernels.rs) against neural-tangents, against their own
//! closed forms and recursions, and against finite networks.
//!
//! Golden values: `tests/fixtures/nt_kernels.json`, written by `tests/fixtures/make_nt_kernels.py`
//! (neural-tangents 0.6.5, jax 0.4.30, float64). Every comparison of kernel entries is relative
//! to the Cauchy–Schwarz scale `sqrt(K_ii K_jj)` of the entry, so that entries near 0 (opposite
//! inputs) are judged on the scale of the kernel, not on their own.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::log_log_slope;
use nalgebra::DMatrix;
use serde::Deserialize;
use theorylab::core::activation::Activation;
use theorylab::core::kernels::{
    Dual, KernelParametrization, KernelSpec, analytic, dual, dual_by_quadrature, empirical_ntk,
    feature_nngp, network, relative_error,
};
use theorylab::core::mlp::Mlp;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::vocabulary::Choice;

#[derive(Deserialize)]
struct Golden {
    inputs: Vec<Vec<f64>>,
    cases: Vec<Case>,
    tanh_reference: Reference,
}

#[derive(Deserialize)]
struct Reference {
    depth: usize,
    weight_var: f64,
    bias_var: f64,
    nngp: Vec<Vec<f64>>,
    ntk: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Case {
    activation: Activation,
    depth: usize,
    weight_var: f64,
    bias_var: f64,
    parametrization: String,
    width: Option<usize>,
    input_scale: f64,
    nngp: Vec<Vec<f64>>,
    ntk: Vec<Vec<f64>>,
}

fn golden() -> Golden {
    serde_json::from_str(include_str!("fixtures/nt_kernels.json")).unwrap()
}

/// Inputs as the columns of `[d, N]`.
fn columns(rows: &[Vec<f64>]) -> DMatrix<f64> {
    DMatrix::from_fn(rows[0].len(), rows.len(), |i, j| rows[j][i])
}

/// Largest `|a_ij - b_ij| / sqrt(b_ii b_jj)`.
fn worst_scaled_error(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    let mut worst = 0.0f64;
    for i in 0..b.nrows() {
        for j in 0..b.ncols() {
            let scale = (b[(i, i)] * b[(j, j)]).sqrt();
            worst = worst.max((a[(i, j)] - b[(i, j)]).abs() / scale);
        }
    }
    worst
}

#[test]
fn analytic_kernels_match_neural_tangents() {
    let golden = golden();
    let x = columns(&golden.inputs);
    for case in &golden.cases {
        let spec = KernelSpec {
            depth: case.depth,
            activation: case.activation,
            weight_var: case.weight_var,
            bias_var: case.bias_var,
            parametrization: match case.parametrization.as_str() {
                "ntk" => KernelParametrization::Ntk,
                _ => KernelParametrization::Standard {
                    width: case.width.unwrap(),
                },
            },
        };
        let ours = analytic(&spec, &(&x * case.input_scale)).unwrap();
        // Closed forms agree to rounding (1e-8 leaves room for the ~1e-15 rounding of a few
        // dozen operations, amplified by at most depth); tanh is quadrature on both sides:
        // neural-tangents' Gauss-Hermite at degree 300 agrees with its degree 200 to ~1e-8,
        // ours is adaptive to 1e-11, so 1e-6 is the bound with margin.
        let tolerance = if case.activation == Activation::Tanh {
            1e-6
        } else {
            1e-8
        };
        for (name, mine, theirs) in [
            ("nngp", &ours.nngp, columns(&case.nngp)),
            ("ntk", &ours.ntk, columns(&case.ntk)),
        ] {
            let error = worst_scaled_error(mine, &theirs);
            assert!(
                error <= tolerance,
                "{name} of {:?} depth {} {}: scaled error {error:e} > {tolerance:e}",
                case.activation,
                case.depth,
                case.parametrization
            );
        }
    }
}

#[test]
fn tanh_quadrature_matches_scipy_where_gauss_hermite_is_off() {
    // One input has variance q ~ 8 after the first layer: neural-tangents' degree-300
    // Gauss-Hermite rule is off by 1.2e-5 there (tanh' is too sharp for its nodes), nested
    // adaptive scipy.integrate.quad at 1e-13 is not; ours asks 1e-11, so 1e-9 has margin.
    let golden = golden();
    let r = &golden.tanh_reference;
    let spec = KernelSpec {
        depth: r.depth,
        activation: Activation::Tanh,
        weight_var: r.weight_var,
        bias_var: r.bias_var,
        parametrization: KernelParametrization::Ntk,
    };
    let ours = analytic(&spec, &columns(&golden.inputs)).unwrap();
    assert!(worst_scaled_error(&ours.nngp, &columns(&r.nngp)) < 1e-9);
    assert!(worst_scaled_error(&ours.ntk, &columns(&r.ntk)) < 1e-9);
}

/// Variance/covariance triples at ordinary and at large norms; at q = 1e6 the activations are
/// near-steps (tanh, erf) or near-kinks (gelu) a thousandth of a standard deviation wide.
fn triples() -> Vec<(f64, f64, f64)> {
    let mut triples = Vec::new();
    for (q1, q2) in [(1.0, 1.0), (0.3, 2.5), (1e4, 2e4), (1e6, 0.5)] {
        for rho in [-1.0, -0.3, 0.5, 0.999] {
            triples.push((q1, q2, rho * f64::sqrt(q1 * q2)));
        }
    }
    triples
}

#[test]
fn closed_forms_equal_adaptive_quadrature_at_any_norm() {
    for activation in [
        Activation::Relu,
        Activation::Erf,
        Activation::Gelu,
        Activation::Linear,
    ] {
        for (q1, q2, c) in triples() {
            let closed = dual(activation, q1, q2, c);
            let numeric = dual_by_quadrature(activation, q1, q2, c);
            // Quadrature asks for 1e-11 relative; values are compared on the scale of
            // E[phi(u)^2]^1/2 E[phi(v)^2]^1/2 (Cauchy–Schwarz), derivatives on theirs.
            let scale = |f: fn(&Dual) -> f64| {
                (f(&dual(activation, q1, q1, q1)) * f(&dual(activation, q2, q2, q2))).sqrt()
            };
            for (what, a, b, s) in [
                (
                    "E[phi phi]",
                    numeric.value,
                    closed.value,
                    scale(|d| d.value),
                ),
                (
                    "E[phi' phi']",
                    numeric.derivative,
                    closed.derivative,
                    scale(|d| d.derivative),
                ),
            ] {
                // 1e-9 is 100x the accuracy asked of the quadrature. The relu derivative
                // (pi - theta)/(2 pi) has one more error: at |rho| = 1 the closed form's
                // theta = atan2(sqrt(q1 q2 - c^2), c) turns the O(eps) rounding of q1 q2 - c^2
                // into O(sqrt(eps)) in theta, so it is allowed sqrt(eps) / pi more.
                let rounding = if activation == Activation::Relu && what == "E[phi' phi']" {
                    f64::EPSILON.sqrt() / std::f64::consts::PI
                } else {
                    0.0
                };
                assert!(
                    (a - b).abs() <= 1e-9 * s + rounding,
                    "{activation:?} {what} at q1={q1} q2={q2} c={c}: quadrature {a} vs closed form {b}"
                );
            }
        }
    }
}

#[test]
fn relu_angles_zero_and_pi_are_exact() {
    // theta = 0: E[relu(u)^2] = q/2 and E[1(u>0)] = 1/2, exactly.
    let same = dual(Activation::Relu, 3.7, 3.7, 3.7);
    assert_eq!((same.value, same.derivative), (3.7 / 2.0, 0.5));
    // theta = pi: relu(u) relu(-u) = 0.
    let opposite = dual(Activation::Relu, 2.0, 2.0, -2.0);
    assert_eq!((opposite.value, opposite.derivative), (0.0, 0.0));
}

#[test]
fn deep_linear_network_kernels_are_powers_of_the_weight_variance() {
    // phi = id, NTK parametrization, no bias: K = W^(L+1) x.x'/d and every one of the L+1
    // layers contributes the same, Theta = (L+1) W^(L+1) x.x'/d (Arora et al. 2019, linear
    // case of the NTK recursion).
    let x = common::gaussian_matrix(4, 6, 1);
    let base = x.transpose() * &x / 4.0;
    for depth in 1..=4 {
        let spec = KernelSpec {
            depth,
            activation: Activation::Linear,
            weight_var: 1.3,
            bias_var: 0.0,
            parametrization: KernelParametrization::Ntk,
        };
        let k = analytic(&spec, &x).unwrap();
        let power = 1.3f64.powi(depth as i32 + 1);
        assert!(worst_scaled_error(&k.nngp, &(&base * power)) < 1e-14);
        assert!(worst_scaled_error(&k.ntk, &(&base * (power * (depth + 1) as f64))) < 1e-14);
    }
}

#[test]
fn critical_relu_preserves_norms_and_each_layer_adds_one_to_the_ntk() {
    // W = 2 is ReLU's critical point: each layer maps q -> 2 q/2 = q, and on the diagonal the
    // NTK recursion Theta <- 2q + 2 Theta/2 adds 2q per layer: Theta(x,x) = 2(L+1)|x|^2/d.
    let x = common::gaussian_matrix(5, 3, 2);
    for depth in 1..=5 {
        let spec = KernelSpec {
            depth,
            ..KernelSpec::default()
        };
        let k = analytic(&spec, &x).unwrap();
        for i in 0..3 {
            let q = x.column(i).norm_squared() / 5.0;
            common::assert_close("K(x,x)", k.nngp[(i, i)], 2.0 * q, 1e-14, 0.0);
            let expected = 2.0 * (depth + 1) as f64 * q;
            common::assert_close("Theta(x,x)", k.ntk[(i, i)], expected, 1e-14, 0.0);
        }
    }
}

#[test]
fn kernels_are_symmetric_positive_semidefinite() {
    let x = common::gaussian_matrix(3, 12, 3);
    for activation in Activation::all() {
        for parametrization in [
            KernelParametrization::Ntk,
            KernelParametrization::Standard { width: 32 },
        ] {
            let spec = KernelSpec {
                depth: 3,
                activation,
                weight_var: 1.7,
                bias_var: 0.2,
                parametrization,
            };
            let k = analytic(&spec, &x).unwrap();
            for m in [&k.nngp, &k.ntk] {
                assert_eq!(m, &m.transpose(), "{activation:?} kernel not symmetric");
                // Eigenvalues of a PSD matrix computed in f64 are >= -(n eps ||K||).
                let eigen = m.clone().symmetric_eigen().eigenvalues;
                let floor = -12.0 * f64::EPSILON * m.norm();
                assert!(
                    eigen.min() >= floor,
                    "{activation:?}: eigenvalue {}",
                    eigen.min()
                );
            }
        }
    }
}

/// The NTK of a one-output network the slow way: J J^T from per-sample gradients.
fn ntk_from_jacobian(mlp: &Mlp<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    let rows: Vec<_> = (0..x.ncols())
        .map(|i| {
            let xi = x.columns(i, 1).into_owned();
            let forward = mlp.forward(&xi).unwrap();
            let grads = mlp.backward(&forward, &DMatrix::from_element(1, 1, 1.0));
            Mlp::flatten_like(&grads)
        })
        .collect();
    DMatrix::from_fn(x.ncols(), x.ncols(), |i, j| rows[i].dot(&rows[j]))
}

#[test]
fn per_layer_empirical_ntk_equals_the_jacobian_product() {
    let x = common::gaussian_matrix(3, 7, 4);
    for parametrization in [
        KernelParametrization::Ntk,
        KernelParametrization::Standard { width: 20 },
    ] {
        let spec = KernelSpec {
            depth: 3,
            activation: Activation::Tanh,
            bias_var: 0.3,
            parametrization,
            ..KernelSpec::default()
        };
        let mlp = network(&spec, 3, 20, &mut Rng::new(5, Stream::Init)).unwrap();
        let fast = empirical_ntk(&mlp, &x).unwrap();
        let slow = ntk_from_jacobian(&mlp, &x);
        // The same products summed in another order: rounding only.
        assert!(worst_scaled_error(&fast, &slow) < 1e-12);
    }
}

const WIDTHS: [usize; 5] = [64, 128, 256, 512, 1024];
const SEEDS: u64 = 12;

/// Relative Frobenius errors (empirical NTK, feature NNGP) of one network of each width.
fn finite_width_errors(spec: &KernelSpec, x: &DMatrix<f64>, seed: u64) -> Vec<(f64, f64)> {
    let limit = analytic(spec, x).unwrap();
    WIDTHS
        .iter()
        .map(|&n| {
            let mlp = network(spec, x.nrows(), n, &mut Rng::new(seed, Stream::Init)).unwrap();
            (
                relative_error(&empirical_ntk(&mlp, x).unwrap(), &limit.ntk),
                relative_error(&feature_nngp(spec, &mlp, x).unwrap(), &limit.nngp),
            )
        })
        .collect()
}

#[test]
fn finite_width_kernels_converge_at_rate_n_to_the_minus_half() {
    // A finite network's kernels fluctuate around the limit by O(n^-1/2) (Hanin & Nica 2019;
    // Roberts, Yaida & Hanin 2022, ch. 8), so the relative error falls as n^-1/2; the O(1/n)
    // bias of the mean is smaller at every width here. We fit the slope per seed over
    // n = 64..1024 and compare the mean slope with -1/2 within 4 standard errors of the mean
    // over seeds, plus 0.05 for the bias term's curvature of the log-log line (an O(1/n)
    // term beside an O(n^-1/2) one of similar constant shifts the fitted slope by < 0.05).
    let x = common::gaussian_matrix(4, 8, 6);
    for activation in [Activation::Relu, Activation::Erf, Activation::Tanh] {
        let spec = KernelSpec {
            depth: 2,
            activation,
            weight_var: if activation == Activation::Relu {
                2.0
            } else {
                1.5
            },
            bias_var: 0.1,
            parametrization: KernelParametrization::Ntk,
        };
        let mut slopes = [Vec::new(), Vec::new()];
        for seed in 0..SEEDS {
            let errors = finite_width_errors(&spec, &x, seed);
            for (k, slopes) in slopes.iter_mut().enumerate() {
                let points: Vec<(f64, f64)> = WIDTHS
                    .iter()
                    .zip(&errors)
                    .map(|(&n, e)| (n as f64, if k == 0 { e.0 } else { e.1 }))
                    .collect();
                slopes.push(log_log_slope(&points));
            }
        }
        for (name, slopes) in ["NTK", "NNGP"].iter().zip(&slopes) {
            let n = slopes.len() as f64;
            let mean = slopes.iter().sum::<f64>() / n;
            let sd = (slopes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            let tolerance = 4.0 * sd / n.sqrt() + 0.05;
            assert!(
                (mean + 0.5).abs() <= tolerance,
                "{activation:?} {name}: slope {mean:.3} (sd {sd:.3}) vs -1/2 within {tolerance:.3}"
            );
        }
    }
}

#[test]
fn the_mean_empirical_ntk_is_the_analytic_ntk() {
    // Averaged over 32 networks of width 512 the empirical NTK estimates its expectation,
    // which is the limit up to an O(depth/n) correction. Per entry, the tolerance is 4
    // standard errors of the mean (from the spread of the 32 draws) plus 3 depth/n of scale.
    let x = common::gaussian_matrix(3, 5, 7);
    let spec = KernelSpec {
        depth: 2,
        bias_var: 0.1,
        ..KernelSpec::default()
    };
    let limit = analytic(&spec, &x).unwrap().ntk;
    let draws: Vec<DMatrix<f64>> = (0..32)
        .map(|seed| {
            let mlp = network(&spec, 3, 512, &mut Rng::new(seed, Stream::Init)).unwrap();
            empirical_ntk(&mlp, &x).unwrap()
        })
        .collect();
    let m = draws.len() as f64;
    let mean = draws.iter().fold(DMatrix::zeros(5, 5), |acc, d| acc + d) / m;
    for i in 0..5 {
        for j in 0..5 {
            let var = draws
                .iter()
                .map(|d| (d[(i, j)] - mean[(i, j)]).powi(2))
                .sum::<f64>()
                / (m - 1.0);
            let scale = (limit[(i, i)] * limit[(j, j)]).sqrt();
            let tolerance = 4.0 * (var / m).sqrt() + 3.0 * 2.0 / 512.0 * scale;
            common::assert_close(
                "mean NTK entry",
                mean[(i, j)],
                limit[(i, j)],
                0.0,
                tolerance,
            );
        }
    }
}

#[test]
fn bad_kernel_inputs_are_named() {
    let x = common::gaussian_matrix(2, 3, 8);
    let message = |spec: KernelSpec, x: &DMatrix<f64>| analytic(&spec, x).unwrap_err().to_string();
    assert!(
        message(
            KernelSpec {
                depth: 0,
                ..KernelSpec::default()
            },
            &x
        )
        .contains("depth")
    );
    let negative = KernelSpec {
        weight_var: -1.0,
        ..KernelSpec::default()
    };
    assert!(message(negative, &x).contains("weight variance"));
    let nan = KernelSpec {
        bias_var: f64::NAN,
        ..KernelSpec::default()
    };
    assert!(message(nan, &x).contains("bias variance"));
    let zero_width = KernelSpec {
        parametrization: KernelParametrization::Standard { width: 0 },
        ..KernelSpec::default()
    };
    assert!(message(zero_width, &x).contains("width"));
    let mut bad = x.clone();
    bad[(1, 2)] = f64::INFINITY;
    assert!(message(KernelSpec::default(), &bad).contains("input 3"));
    let spec = KernelSpec::default();
    assert!(network(&spec, 2, 0, &mut Rng::new(0, Stream::Init)).is_err());
}

#[test]
fn the_recursion_advanced_entry_by_entry_equals_the_whole() {
    let x = common::gaussian_matrix(3, 5, 9);
    let spec = KernelSpec {
        depth: 3,
        activation: Activation::Erf,
        bias_var: 0.2,
        ..KernelSpec::default()
    };
    let whole = analytic(&spec, &x).unwrap();
    let mut recursion = theorylab::core::kernels::Recursion::new(&spec, &x).unwrap();
    let mut calls = 0;
    while !recursion.advance(1) {
        calls += 1;
        assert!(recursion.kernels().is_none());
        assert_eq!(recursion.entries_done(), calls);
    }
    // 3 layers x 15 upper-triangle entries, the last call completing.
    assert_eq!(calls + 1, recursion.total_entries());
    assert_eq!(recursion.kernels().unwrap(), &whole);
}

#[test]
fn the_parallel_whole_layer_equals_the_entry_by_entry_recursion() {
    // 200 inputs: the whole-layer path splits columns among threads (when there are cores);
    // each entry is the same function of the same numbers, so the results are bitwise equal.
    let x = common::gaussian_matrix(4, 200, 3);
    for activation in [Activation::Relu, Activation::Gelu] {
        let spec = KernelSpec {
            depth: 2,
            activation,
            bias_var: 0.1,
            ..KernelSpec::default()
        };
        let whole = analytic(&spec, &x).unwrap();
        let mut recursion = theorylab::core::kernels::Recursion::new(&spec, &x).unwrap();
        // Fewer entries per call than a layer has: never the whole-layer path.
        while !recursion.advance(997) {}
        assert_eq!(recursion.kernels().unwrap(), &whole, "{activation:?}");
    }
}
