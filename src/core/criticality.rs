//! Mean-field signal propagation at initialization (Poole et al. 2016, "Exponential
//! expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017,
//! "Deep Information Propagation"), for `z^(l+1) = W phi(z^(l)) + b`, `W ~ N(0, C_W / n)`,
//! `b ~ N(0, C_b)` (C_W = sigma_w^2, C_b = sigma_b^2):
//!
//! - length map `q^(l+1) = C_W E[phi(sqrt(q^l) z)^2] + C_b`, fixed point `q*` (Poole eq. 3);
//! - correlation map `c^(l+1) = (C_W E[phi(u1) phi(u2)] + C_b) / q*`, `(u1, u2)` with variance
//!   `q*` and correlation `c^l`, stable fixed point `c*` (Poole eq. 5);
//! - `chi_1 = C_W E[phi'(sqrt(q*) z)^2]`, the slope of the correlation map at `c = 1`: order for
//!   `chi_1 < 1`, chaos for `chi_1 > 1` (Poole eq. 7);
//! - depth scales `xi_q^-1 = -log[chi_1 + C_W E(phi'' phi)]` and `xi_c^-1 = -log[C_W E(phi'(u1)
//!   phi'(u2))]` at `c*` (Schoenholz eqs. 6 and 9); both diverge on the line `chi_1 = 1`.

use super::activation::Activation;
use super::kernels::{accurate_derivative, dual};
use super::quadrature::normal_expectation;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Relative accuracy of the 1-D Gaussian expectations.
const TOL: f64 = 1e-11;
/// Bisection steps of a root (2^-60 of the bracket: below f64 resolution of any bracket here).
const BISECTIONS: usize = 60;

/// Where a network's initialization sits: the activation and the two variances.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanField {
    /// phi.
    pub activation: Activation,
    /// `C_W = sigma_w^2`.
    pub weight_var: f64,
    /// `C_b = sigma_b^2`.
    pub bias_var: f64,
}

/// The fixed points, slopes and depth scales at one `(C_W, C_b)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Criticality {
    /// `q*`; `None` where the length map has no fixed point (q grows without bound).
    pub q_star: Option<f64>,
    /// `c*`, the stable fixed point of the correlation map (1 in the ordered phase).
    pub c_star: Option<f64>,
    /// `chi_1 = C_W E[phi'^2]` at `q*` (ReLU at `C_b = 0`: at any q, it is scale free).
    pub chi_1: Option<f64>,
    /// `chi_q = dq^(l+1)/dq^l` at `q*` = `chi_1 + C_W E[phi'' phi]`.
    pub chi_q: Option<f64>,
    /// `chi_c = C_W E[phi'(u1) phi'(u2)]` at `c*`.
    pub chi_c: Option<f64>,
    /// `xi_q = -1 / log chi_q` (infinite where `chi_q >= 1`; JSON: `"infinity"`).
    #[serde(with = "depth_scale")]
    pub xi_q: Option<f64>,
    /// `xi_c = -1 / log chi_c` (infinite on the critical line; JSON: `"infinity"`).
    #[serde(with = "depth_scale")]
    pub xi_c: Option<f64>,
}

/// A depth scale in JSON: a number, or `"infinity"` where it diverges (JSON has no infinity,
/// and `null` would read as "not computed").
mod depth_scale {
    use serde::{Deserialize, Deserializer, Serializer};

    const INFINITY: &str = "infinity";

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scale {
        Finite(f64),
        Infinite(String),
    }

    pub fn serialize<S: Serializer>(xi: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match xi {
            Some(x) if x.is_infinite() && *x > 0.0 => s.serialize_str(INFINITY),
            Some(x) => s.serialize_some(x),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        match Option::<Scale>::deserialize(d)? {
            None => Ok(None),
            Some(Scale::Finite(x)) => Ok(Some(x)),
            Some(Scale::Infinite(text)) if text == INFINITY => Ok(Some(f64::INFINITY)),
            Some(Scale::Infinite(text)) => Err(serde::de::Error::custom(format!(
                "a depth scale is a number or \"{INFINITY}\", not \"{text}\""
            ))),
        }
    }
}

/// Nodes of the Gauss–Hermite rule for the phase diagram's bivariate averages.
const HERMITE_NODES: usize = 64;

/// Gauss–Hermite nodes and weights for `E f(Z)`, `Z ~ N(0, 1)` (Golub & Welsch 1969: the
/// eigenvalues of the Jacobi matrix of the probabilists' Hermite polynomials, off-diagonal
/// `sqrt(k)`, and the squared first components of its eigenvectors).
fn hermite_rule() -> &'static (Vec<f64>, Vec<f64>) {
    static RULE: std::sync::OnceLock<(Vec<f64>, Vec<f64>)> = std::sync::OnceLock::new();
    RULE.get_or_init(|| {
        let n = HERMITE_NODES;
        let jacobi = nalgebra::DMatrix::from_fn(n, n, |i, j| {
            if i.abs_diff(j) == 1 {
                (i.max(j) as f64).sqrt()
            } else {
                0.0
            }
        });
        let eigen = jacobi.symmetric_eigen();
        let mut pairs: Vec<(f64, f64)> = (0..n)
            .map(|k| (eigen.eigenvalues[k], eigen.eigenvectors[(0, k)].powi(2)))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        pairs.into_iter().unzip()
    })
}

/// `(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)])` at variance `q`, correlation `c`, by the
/// 64 x 64 Gauss–Hermite product rule. For tanh at `q <= 5` (every `q*` of the diagram's range,
/// `q* <= C_W + C_b`) the nearest pole of `tanh(sqrt(q) z)` is at `|Im z| = pi / (2 sqrt q) >=
/// 0.7`, where the rule's error is about `exp(-2 * 0.7 * sqrt(2 * 64)) ~ 1e-7` relative; the
/// tests check the diagram against the adaptive quadrature to 1e-6.
pub fn dual_hermite(activation: Activation, q: f64, c: f64) -> (f64, f64) {
    let (x, w) = hermite_rule();
    let s = q.max(0.0).sqrt();
    let perp = (1.0 - c * c).max(0.0).sqrt();
    let (mut value, mut slope) = (0.0, 0.0);
    for (&z1, &w1) in x.iter().zip(w) {
        let u1 = s * z1;
        let (f1, d1) = (activation.apply(u1), accurate_derivative(activation, u1));
        let (mut fv, mut dv) = (0.0, 0.0);
        for (&z2, &w2) in x.iter().zip(w) {
            let u2 = s * (c * z1 + perp * z2);
            fv += w2 * activation.apply(u2);
            dv += w2 * accurate_derivative(activation, u2);
        }
        value += w1 * f1 * fv;
        slope += w1 * d1 * dv;
    }
    (value, slope)
}

/// How the bivariate averages are integrated: adaptively to 1e-11 (a point), or by the
/// Gauss–Hermite rule to about 1e-7 (the phase diagram's hundreds of cells).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accuracy {
    /// Adaptive Gauss–Kronrod ([`dual`]).
    Full,
    /// 64 x 64 Gauss–Hermite (tanh only; the other activations have closed forms).
    Diagram,
}

/// phi''(x), the second derivative (ReLU's delta at 0 does not enter `E[phi'' phi]`, as phi(0) = 0).
pub fn second_derivative(activation: Activation, x: f64) -> f64 {
    const FRAC_2_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
    match activation {
        Activation::Relu | Activation::Linear => 0.0,
        Activation::Tanh => {
            let t = x.tanh();
            let c = x.cosh();
            -2.0 * t / (c * c)
        }
        Activation::Erf => -2.0 * x * FRAC_2_SQRT_PI * (-x * x).exp(),
        // d/dx [Phi(x) + x phi_N(x)] = (2 - x^2) phi_N(x)
        Activation::Gelu => {
            (2.0 - x * x) * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
        }
    }
}

/// `E[g(sqrt(q) z)]`, `z ~ N(0, 1)`.
fn gauss(g: impl Fn(f64) -> f64, q: f64) -> f64 {
    normal_expectation(&g, 0.0, q.max(0.0).sqrt(), TOL)
}

/// Root of `f` in `[lo, hi]` where `f(lo) >= 0 >= f(hi)`, by bisection.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..BISECTIONS {
        let mid = 0.5 * (lo + hi);
        if f(mid) >= 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= f64::EPSILON * hi.abs() {
            break;
        }
    }
    0.5 * (lo + hi)
}

impl MeanField {
    /// Checks the variances (finite, `C_W > 0`, `C_b >= 0`).
    pub fn validate(&self) -> Result<()> {
        if !(self.weight_var.is_finite() && self.weight_var > 0.0 && self.weight_var <= 1e3) {
            return Err(Error::config(
                "weight variance",
                format!("{} must be a number in (0, 1000]", self.weight_var),
            ));
        }
        if !(self.bias_var.is_finite() && self.bias_var >= 0.0 && self.bias_var <= 1e3) {
            return Err(Error::config(
                "bias variance",
                format!("{} must be a number in [0, 1000]", self.bias_var),
            ));
        }
        Ok(())
    }

    /// phi.
    fn phi(&self, x: f64) -> f64 {
        self.activation.apply(x)
    }

    /// The length map `q -> C_W E[phi(sqrt(q) z)^2] + C_b`.
    pub fn length_map(&self, q: f64) -> f64 {
        self.weight_var * gauss(|x| self.phi(x).powi(2), q) + self.bias_var
    }

    /// `(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)])` at variance `q`, correlation `c`.
    fn duals(&self, q: f64, c: f64, accuracy: Accuracy) -> (f64, f64) {
        if accuracy == Accuracy::Diagram && self.activation == Activation::Tanh {
            return dual_hermite(self.activation, q, c);
        }
        let d = dual(self.activation, q, q, c * q);
        (d.value, d.derivative)
    }

    /// The correlation map at variance `q`: `c -> (C_W E[phi(u1) phi(u2)] + C_b) / q`.
    pub fn correlation_map(&self, q: f64, c: f64) -> f64 {
        self.correlation_map_with(q, c, Accuracy::Full)
    }

    fn correlation_map_with(&self, q: f64, c: f64, accuracy: Accuracy) -> f64 {
        if q <= 0.0 {
            return 1.0;
        }
        (self.weight_var * self.duals(q, c, accuracy).0 + self.bias_var) / q
    }

    /// `C_W E[phi'(u1) phi'(u2)]` at variance `q` and correlation `c`.
    pub fn correlation_slope(&self, q: f64, c: f64) -> f64 {
        self.correlation_slope_with(q, c, Accuracy::Full)
    }

    fn correlation_slope_with(&self, q: f64, c: f64, accuracy: Accuracy) -> f64 {
        if c >= 1.0 || q <= 0.0 {
            return self.chi_1_at(q);
        }
        self.weight_var * self.duals(q, c, accuracy).1
    }

    /// `C_W E[phi'(sqrt(q) z)^2]`.
    pub fn chi_1_at(&self, q: f64) -> f64 {
        let a = self.activation;
        self.weight_var * gauss(|x| accurate_derivative(a, x).powi(2), q)
    }

    /// `dq^(l+1)/dq^l = C_W E[phi'^2 + phi'' phi]` (Stein's lemma on the length map).
    pub fn length_slope(&self, q: f64) -> f64 {
        let a = self.activation;
        self.chi_1_at(q) + self.weight_var * gauss(|x| second_derivative(a, x) * self.phi(x), q)
    }

    /// The fixed point `q*` of the length map, `None` where q grows without bound. At the
    /// marginal ReLU point (C_W = 2, C_b = 0) every q is fixed: `q_input` is returned.
    pub fn q_star(&self, q_input: f64) -> Option<f64> {
        let (cw, cb) = (self.weight_var, self.bias_var);
        match self.activation {
            Activation::Relu | Activation::Linear => {
                let slope = if self.activation == Activation::Relu {
                    cw / 2.0
                } else {
                    cw
                };
                if slope < 1.0 {
                    Some(cb / (1.0 - slope))
                } else if slope == 1.0 && cb == 0.0 {
                    Some(q_input)
                } else {
                    None
                }
            }
            Activation::Gelu => {
                // Unbounded and not odd: the fixed point the network reaches from its input,
                // by iterating the map (10^4 steps; q above 1e12 counts as diverged).
                let mut q = q_input;
                for _ in 0..10_000 {
                    let next = self.length_map(q);
                    if !(next.is_finite() && next < 1e12) {
                        return None;
                    }
                    if (next - q).abs() <= 1e-13 * next.max(1e-300) {
                        return Some(next);
                    }
                    q = next;
                }
                Some(q)
            }
            _ => {
                let h = |q: f64| self.length_map(q) - q;
                // q = 0 is fixed when phi(0) = 0 and C_b = 0; it is the attracting one when the
                // map's slope there, C_W phi'(0)^2, is at most 1.
                let zero_fixed = cb == 0.0 && self.phi(0.0) == 0.0;
                if zero_fixed && cw * accurate_derivative(self.activation, 0.0).powi(2) <= 1.0 {
                    return Some(0.0);
                }
                let lo = if zero_fixed { 1e-300 } else { 0.0 };
                // Bracket: grow hi until the map falls below the diagonal.
                let mut hi = (cw + cb).max(1.0);
                while h(hi) >= 0.0 {
                    hi *= 4.0;
                    if hi > 1e12 {
                        return None;
                    }
                }
                // Below q ~ 1e-300 the bisection's midpoints of [lo, hi] are positive: fine.
                Some(bisect(h, lo, hi))
            }
        }
    }

    /// Everything at `(C_W, C_b)`; `q_input` is the first layer's variance (it matters only at
    /// the marginal ReLU point).
    pub fn criticality(&self, q_input: f64) -> Criticality {
        self.criticality_with(q_input, Accuracy::Full)
    }

    /// [`Self::criticality`] with the bivariate averages at `accuracy`.
    pub fn criticality_with(&self, q_input: f64, accuracy: Accuracy) -> Criticality {
        let q_star = self.q_star(q_input);
        // ReLU without bias is scale free (phi(a z) = a phi(z) for a > 0): its slopes and the
        // correlation map do not depend on q, so they are evaluated at the input's q, and stay
        // defined where q* is 0 (ordered) or diverges (chaotic).
        let scale_free = self.activation == Activation::Relu && self.bias_var == 0.0;
        let q_ref = match q_star {
            Some(q) if q > 0.0 || !scale_free => Some(q),
            _ if scale_free => Some(q_input),
            _ => None,
        };
        let Some(q) = q_ref else {
            return Criticality::default();
        };
        let chi_1 = self.chi_1_at(q);
        let chi_q = self.length_slope(q);
        let c_star = self.c_star(q, chi_1, accuracy);
        let chi_c = self.correlation_slope_with(q, c_star, accuracy);
        let depth_scale = |chi: f64| {
            if chi < 1.0 {
                -1.0 / chi.ln()
            } else {
                f64::INFINITY
            }
        };
        Criticality {
            q_star,
            c_star: Some(c_star),
            chi_1: Some(chi_1),
            chi_q: Some(chi_q),
            chi_c: Some(chi_c),
            xi_q: Some(depth_scale(chi_q)),
            xi_c: Some(depth_scale(chi_c)),
        }
    }

    /// The stable fixed point of the correlation map at `q*`: 1 when `chi_1 <= 1`, else the
    /// root of `f(c) = c` in `[0, 1)` (the map is increasing and convex, `f(0) >= 0`).
    fn c_star(&self, q: f64, chi_1: f64, accuracy: Accuracy) -> f64 {
        if chi_1 <= 1.0 || q <= 0.0 {
            return 1.0;
        }
        let g = |c: f64| self.correlation_map_with(q, c, accuracy) - c;
        if g(0.0) <= 0.0 {
            // An odd phi without bias maps c = 0 to 0 exactly (or below, by rounding).
            return 0.0;
        }
        // Near c = 1 the map is 1 - chi_1 (1 - c) + O((1 - c)^2): below the diagonal.
        let mut top = 1.0 - 1e-3;
        while g(top) > 0.0 && top < 1.0 - 1e-12 {
            top = 1.0 - (1.0 - top) * 0.1;
        }
        if g(top) > 0.0 {
            return 1.0;
        }
        bisect(g, 0.0, top)
    }

    /// The weight variance on the line `chi_1 = 1` at this bias variance, by bisection on
    /// `C_W in (0, 100]`; `None` when `chi_1` does not cross 1 there.
    pub fn critical_weight_var(&self, q_input: f64) -> Option<f64> {
        let chi = |cw: f64| {
            let at = MeanField {
                weight_var: cw,
                ..*self
            };
            at.q_star(q_input).map(|q| at.chi_1_at(q))
        };
        if self.activation == Activation::Relu {
            return (self.bias_var == 0.0).then_some(2.0);
        }
        let (mut lo, mut hi) = (1e-3, 100.0);
        // chi_1 rises with C_W from below 1 (ordered) to above (chaotic, or q diverges).
        let above = |cw: f64| chi(cw).is_none_or(|c| c >= 1.0);
        if above(lo) || !above(hi) {
            return None;
        }
        for _ in 0..BISECTIONS {
            let mid = 0.5 * (lo + hi);
            if above(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
            if hi - lo <= 1e-13 * hi {
                break;
            }
        }
        Some(0.5 * (lo + hi))
    }

    /// The mean-field ratio `E|df/dz^(1)|^2 / E|df/dz^(L)|^2` of a depth-`depth` network:
    /// `prod_(l=1)^(L-1) C_W E[phi'(sqrt(q^l) z)^2]` along the length map from `q1`
    /// (Schoenholz et al. 2017, eq. 18), by adaptive quadrature.
    pub fn gradient_ratio(&self, q1: f64, depth: usize) -> f64 {
        let (mut q, mut ratio) = (q1, 1.0);
        for _ in 1..depth {
            ratio *= self.chi_1_at(q);
            q = self.length_map(q);
        }
        ratio
    }

    /// The exact iteration of the length and correlation maps for `depth` layers from the first
    /// layer's `(q^1, c^1)`: `(q^l, c^l)` for `l = 1..=depth`.
    pub fn kernel_flow(&self, q1: f64, c1: f64, depth: usize) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(depth);
        let (mut q, mut c) = (q1, c1);
        for _ in 0..depth {
            out.push((q, c));
            let q_next = self.length_map(q);
            let cross = self.weight_var * dual(self.activation, q, q, c * q).value + self.bias_var;
            (q, c) = (q_next, if q_next > 0.0 { cross / q_next } else { 1.0 });
        }
        out
    }
}
