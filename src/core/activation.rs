//! Pointwise nonlinearities phi and their derivatives phi', as a name-based enum shared by
//! configs, URLs and CLI flags.

use super::scalar::Float;
use super::vocabulary::{Choice, Entry};

/// The activation function of every hidden layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
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

impl Choice for Activation {
    const WHAT: &'static str = "activation";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Activation::Relu, "relu", "ReLU"),
        Entry::new(Activation::Tanh, "tanh", "tanh"),
        Entry::new(Activation::Erf, "erf", "erf"),
        Entry::new(Activation::Gelu, "gelu", "GELU"),
        Entry::new(Activation::Linear, "linear", "linear"),
    ];
}
crate::choice_by_name!(Activation);

impl Activation {
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

    /// phi''(x), for Hessian-vector products (Pearlmutter's R-operator through phi').
    pub fn second_derivative<T: Float>(self, x: T) -> T {
        match self {
            Activation::Relu | Activation::Linear => T::zero(),
            // d/dx (1 - tanh^2) = -2 tanh (1 - tanh^2)
            Activation::Tanh => {
                let t = x.tanh();
                T::of_f64(-2.0) * t * (T::one() - t * t)
            }
            // d/dx 2/sqrt(pi) exp(-x^2) = -2x 2/sqrt(pi) exp(-x^2)
            Activation::Erf => T::of_f64(-2.0 * FRAC_2_SQRT_PI) * x * (-x * x).exp(),
            // d/dx (Phi(x) + x phi_N(x)) = phi_N(x) (2 - x^2)
            Activation::Gelu => {
                let density = T::of_f64(FRAC_1_SQRT_2PI) * (-x * x / T::of_f64(2.0)).exp();
                density * (T::of_f64(2.0) - x * x)
            }
        }
    }
}

impl Activation {
    /// `h = phi(z)` elementwise, with the choice of phi made once outside the loop (so the
    /// loop vectorizes); the same numbers as [`Self::apply`].
    pub fn apply_to<T: Float>(self, z: &[T], h: &mut [T]) {
        match self {
            Activation::Relu => map_into(z, h, |x| Activation::Relu.apply(x)),
            Activation::Tanh => map_into(z, h, |x| Activation::Tanh.apply(x)),
            Activation::Erf => map_into(z, h, |x| Activation::Erf.apply(x)),
            Activation::Gelu => map_into(z, h, |x| Activation::Gelu.apply(x)),
            Activation::Linear => h.copy_from_slice(z),
        }
    }

    /// `delta = g * phi'(z)` elementwise (`delta = alpha g * phi'(z)` for a residual branch
    /// with multiplier alpha), the choice of phi made once outside the loop; the same numbers as
    /// [`Self::derivative`].
    pub fn backpropagate_into<T: Float>(self, g: &[T], z: &[T], alpha: Option<T>, delta: &mut [T]) {
        fn each<T: Float>(g: &[T], z: &[T], a: Option<T>, d: &mut [T], dphi: impl Fn(T) -> T) {
            let terms = d.iter_mut().zip(g).zip(z);
            match a {
                Some(a) => terms.for_each(|((d, &g), &z)| *d = a * g * dphi(z)),
                None => terms.for_each(|((d, &g), &z)| *d = g * dphi(z)),
            }
        }
        match self {
            Activation::Relu => each(g, z, alpha, delta, |x| Activation::Relu.derivative(x)),
            Activation::Tanh => each(g, z, alpha, delta, |x| Activation::Tanh.derivative(x)),
            Activation::Erf => each(g, z, alpha, delta, |x| Activation::Erf.derivative(x)),
            Activation::Gelu => each(g, z, alpha, delta, |x| Activation::Gelu.derivative(x)),
            Activation::Linear => each(g, z, alpha, delta, |x| Activation::Linear.derivative(x)),
        }
    }
}

/// `out[i] = f(x[i])`.
fn map_into<T: Float>(x: &[T], out: &mut [T], f: impl Fn(T) -> T) {
    for (out, &x) in out.iter_mut().zip(x) {
        *out = f(x);
    }
}

/// Standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2.
fn normal_cdf<T: Float>(x: T) -> T {
    (T::one() + (x * T::of_f64(FRAC_1_SQRT_2)).erf()) / T::of_f64(2.0)
}
