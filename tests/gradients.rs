//! Backpropagation equals central finite differences of the loss, for every activation,
//! parametrization, loss, with and without biases and residual blocks (f64).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::gaussian_matrix;
use theorylab::core::activation::Activation;
use theorylab::core::loss::{Loss, Target};
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::vocabulary::Choice;

const BATCH: usize = 6;
const OUTPUTS: usize = 3;

fn parametrizations() -> Vec<Parametrization> {
    let mut all: Vec<Parametrization> = Parametrization::all().collect();
    all.push(Parametrization::parse_abc("-0.3,0.2,0.1;0.25,0.4,-0.5;0.7,0.1,0.3").unwrap());
    all
}

/// Relative error ||g - g_fd|| / max(||g||, ||g_fd||) of the backprop gradient against
/// (L(theta + h e_i) - L(theta - h e_i)) / 2h. With h = 1e-6 the truncation error is
/// O(h^2 L''') ~ 1e-12 and the rounding error O(eps |L| / h) ~ 1e-10, so an exact gradient
/// lands near 1e-9 and any formula error (wrong multiplier, missing skip path) near 1.
fn gradient_error(mlp: &Mlp<f64>, loss: Loss) -> f64 {
    let x = gaussian_matrix(mlp.input_dim(), BATCH, 11);
    let labels: Vec<usize> = (0..BATCH).map(|i| (i * 7) % OUTPUTS).collect();
    let values = gaussian_matrix(OUTPUTS, BATCH, 12);
    let target = match loss {
        Loss::CrossEntropy => Target::Classes(&labels),
        Loss::Mse => Target::Values(&values),
    };
    let loss_at = |net: &Mlp<f64>| loss.value(&net.predict(&x).unwrap(), target).unwrap();

    let forward = mlp.forward(&x).unwrap();
    let (_, d_output) = loss.value_and_gradient(forward.output(), target).unwrap();
    let analytic = Mlp::flatten_like(&mlp.backward(&forward, &d_output));

    let theta = mlp.flatten();
    let h = 1e-6;
    let mut numeric = theta.clone();
    let mut probe = mlp.clone();
    for i in 0..theta.len() {
        let mut shifted = theta.clone();
        shifted[i] += h;
        probe.set_flat(&shifted).unwrap();
        let plus = loss_at(&probe);
        shifted[i] -= 2.0 * h;
        probe.set_flat(&shifted).unwrap();
        let minus = loss_at(&probe);
        numeric[i] = (plus - minus) / (2.0 * h);
    }
    (&analytic - &numeric).norm() / analytic.norm().max(numeric.norm())
}

#[test]
fn backprop_matches_finite_differences_everywhere() {
    let mut checked = 0;
    for activation in Activation::all() {
        for parametrization in parametrizations() {
            for loss in [Loss::Mse, Loss::CrossEntropy] {
                for bias in [false, true] {
                    for residual in [None, Some(0.7)] {
                        let config = MlpConfig {
                            input_dim: 3,
                            hidden: vec![5, 5, 5],
                            output_dim: OUTPUTS,
                            activation,
                            bias,
                            residual,
                            rules: parametrization.rules(OptimizerKind::Sgd),
                            sigma_w: 1.3,
                            sigma_b: 0.5,
                        };
                        let mlp =
                            Mlp::<f64>::init(&config, &mut Rng::new(3, Stream::Init)).unwrap();
                        let error = gradient_error(&mlp, loss);
                        assert!(
                            error < 1e-6,
                            "{activation:?} {parametrization:?} {loss:?} bias={bias} residual={residual:?}: relative error {error:e}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 5 * 5 * 2 * 2 * 2);
}

#[test]
fn backprop_matches_finite_differences_through_linear_hidden_layers() {
    // The last k hidden layers without activation (the Collapse room's partly deep-linear
    // networks), after nonlinear ones; same error budget.
    for activation in [Activation::Tanh, Activation::Gelu] {
        for k in 1..=3 {
            let config = MlpConfig {
                input_dim: 3,
                hidden: vec![5, 4, 5],
                output_dim: OUTPUTS,
                activation,
                bias: true,
                residual: None,
                rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
                sigma_w: 1.3,
                sigma_b: 0.5,
            };
            let mlp = Mlp::<f64>::init(&config, &mut Rng::new(4, Stream::Init))
                .unwrap()
                .with_linear_tail(k)
                .unwrap();
            for loss in [Loss::Mse, Loss::CrossEntropy] {
                let error = gradient_error(&mlp, loss);
                assert!(error < 1e-6, "{activation:?} k={k} {loss:?}: {error:e}");
            }
            // The forward pass: the tail's activations are its preactivations.
            let forward = mlp.forward(&gaussian_matrix(3, BATCH, 5)).unwrap();
            for l in 1..=3 {
                let (z, h) = (&forward.preactivations[l - 1], &forward.activations[l]);
                assert_eq!(z == h, l > 3 - k, "{activation:?} k={k}, layer {l}");
            }
        }
    }
    let config = MlpConfig {
        input_dim: 2,
        hidden: vec![3],
        output_dim: 2,
        activation: Activation::Relu,
        bias: false,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.0,
        sigma_b: 0.0,
    };
    let mlp = Mlp::<f64>::init(&config, &mut Rng::new(1, Stream::Init)).unwrap();
    assert!(
        mlp.with_linear_tail(2).is_err(),
        "one hidden layer has no tail of two"
    );
}

/// The activation derivatives themselves against finite differences at points away from the
/// ReLU kink (same error budget as above, per point).
#[test]
fn activation_derivatives_match_finite_differences() {
    let h = 1e-6;
    for activation in Activation::all() {
        for x in [-2.3f64, -0.7, -0.1, 0.2, 0.9, 1.7, 3.1] {
            let numeric = (activation.apply(x + h) - activation.apply(x - h)) / (2.0 * h);
            let analytic = activation.derivative(x);
            assert!(
                (numeric - analytic).abs() < 1e-8,
                "{activation:?} at {x}: {analytic} vs {numeric}"
            );
        }
    }
}
