//! Training in function space (src/core/kernel_gd.rs, src/experiments/function_space.rs).
//!
//! Under a fixed kernel Theta, gradient descent on `(1/m) sum (f - y)^2` with step eta moves
//! every output by `f_{t+1}(x) = f_t(x) - (2 eta / m) Theta(x, X) (f_t(X) - y)` (Lee et al. 2019,
//! Section 2). The closed form must equal this iteration, tend to the gradient-flow formula with
//! `exp` as eta -> 0, and, with `f_0 ~ GP(0, K)`, have the Gaussian moments of Lee et al. eq. (16).
//! Finite networks: under the NTK parametrization they follow their linearization up to
//! O(n^-1/2) (Lee et al. 2019, Theorem 2.1); under muP they do not (Yang & Hu 2021).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use nalgebra::{DMatrix, DVector};
use std::ops::ControlFlow;
use theorylab::core::activation::Activation;
use theorylab::core::kernel_gd::KernelGd;
use theorylab::core::kernels::{KernelSpec, Kernels, analytic};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::{Stepper, run};
use theorylab::experiments::sweep::power_law_fit;
use theorylab::experiments::width::function_space::{FunctionSpace, FunctionSpaceConfig};

/// NNGP and NTK of a depth-2 erf network with biases on `n` Gaussian inputs in d = 3.
fn kernels(n: usize) -> Kernels {
    let spec = KernelSpec {
        activation: Activation::Erf,
        bias_var: 0.1,
        ..KernelSpec::default()
    };
    let mut rng = Rng::new(7, Stream::Data);
    let x = DMatrix::from_fn(3, n, |_, _| rng.normal());
    analytic(&spec, &x).unwrap()
}

fn targets(m: usize) -> DVector<f64> {
    DVector::from_fn(m, |i, _| (i as f64 * 0.7).sin())
}

#[test]
fn closed_form_equals_iterated_kernel_gradient_descent() {
    let (n, m, lr, steps) = (10, 6, 0.3, 40);
    let k = kernels(n);
    let y = targets(m);
    let f0 = DVector::from_fn(n, |i, _| 0.2 * (i as f64).cos());
    let gd = KernelGd::new(&k.ntk, m, lr).unwrap();
    let mut f = f0.clone();
    for _ in 0..steps {
        let residual = f.rows(0, m) - &y;
        f -= k.ntk.columns(0, m) * residual * (2.0 * lr / m as f64);
    }
    let closed = gd.predict(steps, &f0, &y).unwrap();
    // Both are O(steps * N) floating-point operations on O(1) numbers: agreement to ~1e-13,
    // asserted at 1e-11.
    assert!((&closed - &f).amax() < 1e-11, "{}", (&closed - &f).amax());
}

#[test]
fn small_steps_tend_to_gradient_flow() {
    // f_t = f0 + Theta(x, X) Theta^-1 (I - exp(-2 eta t Theta / m)) (y - f0) at eta t = 2.
    let (n, m, time) = (9, 5, 2.0);
    let k = kernels(n);
    let y = targets(m);
    let f0 = DVector::zeros(n);
    let theta = k.ntk.view((0, 0), (m, m)).into_owned();
    let flow_train = DMatrix::identity(m, m) - (&theta * (-2.0 * time / m as f64)).exp();
    let flow = k.ntk.columns(0, m) * theta.clone().try_inverse().unwrap() * flow_train * &y;
    let error = |steps: usize| {
        let gd = KernelGd::new(&k.ntk, m, time / steps as f64).unwrap();
        (gd.predict(steps, &f0, &y).unwrap() - &flow).amax()
    };
    let (coarse, fine) = (error(100), error(1600));
    // (1 - x)^t = exp(-x t) (1 - t x^2 / 2 + ...): the gap is first order in eta, so 16 times
    // smaller steps shrink it about 16 times (between 8 and 32 allows higher orders).
    let ratio = coarse / fine;
    assert!((8.0..32.0).contains(&ratio), "ratio {ratio}");
    assert!(fine < 1e-2 * y.amax(), "{fine}");
}

#[test]
fn gaussian_moments_match_monte_carlo() {
    let (n, m, lr, steps) = (8, 5, 0.4, 15);
    let k = kernels(n);
    let y = targets(m);
    let gd = KernelGd::new(&k.ntk, m, lr).unwrap();
    let (mean, variance) = gd.gaussian(steps, &k.nngp, &y).unwrap();
    let chol = (k.nngp.clone() + DMatrix::identity(n, n) * 1e-12)
        .cholesky()
        .unwrap()
        .l();
    let samples = 20_000;
    let mut rng = Rng::new(1, Stream::Init);
    let draws: Vec<DVector<f64>> = (0..samples)
        .map(|_| {
            let f0 = &chol * DVector::from_fn(n, |_, _| rng.normal());
            gd.predict(steps, &f0, &y).unwrap()
        })
        .collect();
    let s = samples as f64;
    for i in 0..n {
        let mc_mean = draws.iter().map(|d| d[i]).sum::<f64>() / s;
        let mc_var = draws.iter().map(|d| (d[i] - mc_mean).powi(2)).sum::<f64>() / (s - 1.0);
        // Standard errors of a Gaussian sample: sd / sqrt(S) for the mean and
        // var sqrt(2 / (S - 1)) for the variance; 5 of them.
        let se_mean = (variance[i] / s).sqrt();
        let se_var = variance[i] * (2.0 / (s - 1.0)).sqrt();
        assert!(
            (mc_mean - mean[i]).abs() <= 5.0 * se_mean + 1e-12,
            "mean at {i}"
        );
        assert!(
            (mc_var - variance[i]).abs() <= 5.0 * se_var + 1e-12,
            "variance at {i}"
        );
    }
    // On the train inputs the expected loss is the mean of (bias^2 + variance), exactly.
    let expected: f64 = (0..m)
        .map(|i| (mean[i] - y[i]).powi(2) + variance[i])
        .sum::<f64>()
        / m as f64;
    let loss = gd.expected_loss(steps, &k.nngp, &y).unwrap();
    assert!((loss - expected).abs() < 1e-12 * expected.max(1e-3));
}

#[test]
fn gradient_descent_diverges_above_the_critical_rate() {
    let (n, m) = (8, 6);
    let k = kernels(n);
    let y = targets(m);
    let f0 = DVector::zeros(n);
    let critical = KernelGd::new(&k.ntk, m, 1.0).unwrap().critical_lr();
    let train_error = |lr: f64| {
        let gd = KernelGd::new(&k.ntk, m, lr).unwrap();
        (gd.predict(2000, &f0, &y).unwrap().rows(0, m) - &y).amax()
    };
    assert!(train_error(0.95 * critical) < 1e-6 * y.amax());
    assert!(train_error(1.05 * critical) > 1e6 * y.amax());
}

#[test]
fn bad_input_is_named() {
    let k = kernels(4);
    let err = |r: theorylab::error::Result<KernelGd>| r.unwrap_err().to_string();
    assert!(err(KernelGd::new(&k.ntk, 0, 0.1)).contains("train points"));
    assert!(err(KernelGd::new(&k.ntk, 5, 0.1)).contains("train points"));
    assert!(err(KernelGd::new(&k.ntk, 2, f64::NAN)).contains("learning rate"));
    assert!(err(KernelGd::new(&k.ntk, 2, -1.0)).contains("learning rate"));
    assert!(err(KernelGd::new(&k.ntk.columns(0, 3).into_owned(), 2, 0.1)).contains("square"));
    let gd = KernelGd::new(&k.ntk, 2, 0.1).unwrap();
    let wrong = gd.predict(3, &DVector::zeros(3), &DVector::zeros(2));
    assert!(wrong.unwrap_err().to_string().contains("4 inputs"));
    let bad = |config: FunctionSpaceConfig| FunctionSpace::new(&config).unwrap_err().to_string();
    let base = FunctionSpaceConfig::default;
    assert!(
        bad(FunctionSpaceConfig {
            lr_fraction: 1.0,
            ..base()
        })
        .contains("diverges")
    );
    assert!(
        bad(FunctionSpaceConfig {
            widths: vec![0],
            ..base()
        })
        .contains("width 0")
    );
    assert!(
        bad(FunctionSpaceConfig {
            train_points: 0,
            ..base()
        })
        .contains("train points")
    );
}

#[test]
fn kernels_from_angle_differences_equal_the_full_recursion() {
    // On the circle the kernels depend on theta - theta' only; assembling them from the P/2 + 1
    // differences must give the direct recursion on all inputs, up to the rounding of cos and
    // sin of the grid angles (~1e-16, asserted at 1e-12).
    let config = FunctionSpaceConfig {
        spec: KernelSpec {
            activation: Activation::Erf,
            bias_var: 0.3,
            depth: 3,
            ..KernelSpec::default()
        },
        test_points: 17,
        train_points: 5,
        ..FunctionSpaceConfig::default()
    };
    let mut fs = FunctionSpace::new(&config).unwrap();
    while fs.kernels().is_none() {
        pollster::block_on(fs.step()).unwrap();
    }
    let assembled = fs.kernels().unwrap();
    let direct = analytic(&config.spec, fs.inputs()).unwrap();
    assert!((&assembled.nngp - &direct.nngp).amax() < 1e-12);
    assert!((&assembled.ntk - &direct.ntk).amax() < 1e-12);
}

#[test]
fn ntk_networks_follow_their_kernel_and_mup_networks_leave_it() {
    // Per seed (data and init), the slope of the gap ||f_T - f_T^lin|| / ||f_T^lin - f_0|| vs
    // width over n = 128..2048. Theory: -1/2 under NTK, 0 under muP. Tolerance as in
    // tests/coordcheck.rs: 4 standard errors of the mean slope over seeds plus 0.1 for
    // finite-width corrections.
    let seeds = 6;
    let mut slopes = [Vec::new(), Vec::new()];
    for seed in 0..seeds {
        let config = FunctionSpaceConfig {
            widths: vec![128, 256, 512, 1024, 2048],
            seeds: 1,
            seed,
            ..FunctionSpaceConfig::default()
        };
        let result = run(&mut FunctionSpace::new(&config).unwrap(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        for (slot, runs) in slopes.iter_mut().zip(&result.runs) {
            let points: Vec<(f64, f64)> = runs
                .widths
                .iter()
                .zip(&runs.linearization_gap)
                .map(|(&n, &g)| (n as f64, g))
                .collect();
            slot.push(power_law_fit(&points).unwrap().0);
        }
        assert_eq!(result.runs[0].parametrization, Parametrization::Ntk);
        assert_eq!(result.runs[1].parametrization, Parametrization::Mup);
    }
    eprintln!("gap slopes: NTK {:.3?}, muP {:.3?}", slopes[0], slopes[1]);
    for (name, slopes, theory) in [("NTK", &slopes[0], -0.5), ("muP", &slopes[1], 0.0)] {
        let (mean, se) = common::mean_and_standard_error(slopes);
        assert!(
            (mean - theory).abs() <= 4.0 * se + 0.1,
            "{name}: the gap to the linearization scales like n^{mean:.3} (se {se:.3}), theory n^{theory}"
        );
    }
}
