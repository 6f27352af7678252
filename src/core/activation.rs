//! Pointwise nonlinearities phi and their derivatives phi', as a name-based enum shared by
//! configs, URLs and CLI flags.

use super::scalar::Float;
use serde::{Deserialize, Serialize};

/// The activation function of every hidden layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// phi(x) = max(x, 0); phi'(0) = 0 and NaN stays NaN, as in PyTorch.
    #[default]
    Relu,
    /// phi(x) = tanh(x).
    Tanh,
    /// phi(x) = erf(x), the activation with a closed-form NNGP kernel (Williams 1997).
    Erf,
    /// phi(x) = x * Phi(x) with Phi the standard normal CDF (exact GELU, PyTorch's default).
    Gelu,
    /// phi(x) = x (deep linear networks).
    Linear,
}

/// 1/sqrt(2).
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// 1/sqrt(2 pi).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
/// 2/sqrt(pi).
const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;

impl Activation {
    /// Every activation, in the order the UI lists them.
    pub const ALL: [Activation; 5] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Erf,
        Activation::Gelu,
        Activation::Linear,
    ];

    /// The config name (`"relu"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Erf => "erf",
            Activation::Gelu => "gelu",
            Activation::Linear => "linear",
        }
    }

    /// phi(x).
    pub fn apply<T: Float>(self, x: T) -> T {
        match self {
            Activation::Relu => {
                if x > T::zero() || x.is_nan() {
                    x
                } else {
                    T::zero()
                }
            }
            Activation::Tanh => x.tanh(),
            Activation::Erf => x.erf(),
            Activation::Gelu => x * normal_cdf(x),
            Activation::Linear => x,
        }
    }

    /// phi'(x).
    pub fn derivative<T: Float>(self, x: T) -> T {
        match self {
            Activation::Relu => {
                if x > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Activation::Tanh => {
                let t = x.tanh();
                T::one() - t * t
            }
            // d/dx erf(x) = 2/sqrt(pi) exp(-x^2)
            Activation::Erf => T::of_f64(FRAC_2_SQRT_PI) * (-x * x).exp(),
            // d/dx x Phi(x) = Phi(x) + x phi_N(x)
            Activation::Gelu => {
                let density = T::of_f64(FRAC_1_SQRT_2PI) * (-x * x / T::of_f64(2.0)).exp();
                normal_cdf(x) + x * density
            }
            Activation::Linear => T::one(),
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Activation::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| {
                crate::error::Error::config(
                    "activation",
                    format!("unknown activation '{s}' (expected relu, tanh, erf, gelu or linear)"),
                )
            })
    }
}

/// Standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2.
fn normal_cdf<T: Float>(x: T) -> T {
    (T::one() + (x * T::of_f64(FRAC_1_SQRT_2)).erf()) / T::of_f64(2.0)
}
