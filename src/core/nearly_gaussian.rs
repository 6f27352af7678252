//! Finite-width corrections at initialization: the preactivations of a network of width n are
//! nearly Gaussian, with a connected four-point function of order 1/n that grows with depth
//! (Roberts, Yaida & Hanin, "The Principles of Deep Learning Theory" (PDLT), 2022, ch. 4-5).
//!
//! Conventions (PDLT): `z^(1) = W x + b` from a fixed input with `q_input = |x|^2 / n_0`; hidden
//! layers `z^(l+1) = gamma z^(l) + W phi(z^(l)) + b` for `l = 1..L-1`, and a readout
//! `z^(L+1) = W phi(z^(L)) + b`, all of width n, `W ~ N(0, C_W / fan_in)`, `b ~ N(0, C_b)`. With
//! a skip (`gamma > 0`) the residual branch's variances are `(1 - gamma^2) C_W` and
//! `(1 - gamma^2) C_b`, so the kernel recursion keeps the plain network's fixed points and
//! criticality.
//!
//! For one input, with `<.>_K` the Gaussian average at variance K and the branch's
//! `a = (1 - gamma^2) C_W`, `beta = (1 - gamma^2) C_b` (`gamma = 0` at the first layer and the
//! readout):
//! - kernel: `K^(l+1) = gamma^2 K + a <phi^2>_K + beta` (PDLT eq. 4.90 for gamma = 0);
//! - four-point vertex, with `chi = a <z phi phi'>_K / K` (PDLT's `chi_par`, eq. 5.11):
//!   `V^(l+1) = (gamma^2 + chi)^2 V + a^2 (<phi^4> - <phi^2>^2) + 2 gamma^2 a (<z^2 phi^2> -
//!   K <phi^2>)`, `V^(1) = 0`. For gamma = 0 this is PDLT eq. 4.118 at one input; the gamma
//!   terms follow from the same conditional-Gaussian step (`z^(l+1)_i` given layer l is Gaussian
//!   with mean `gamma z_i` and variance `beta + a |phi|^2 / n`), as derived in
//!   `docs/depth-theory.md`;
//! - the single-neuron moments: `E[z^4] - 3 E[z^2]^2 = 3 V / n + O(1/n^2)`, so the kurtosis
//!   ratio `E[z^4] / (3 E[z^2]^2) = 1 + V / (n K^2) + O(1/n^2)` and the excess kurtosis is
//!   `3 V / (n K^2)`.
//!
//! Where the Gaussian integrals close the law is exact at every width: for ReLU and for linear
//! networks at `C_b = 0`, `gamma = 0`, `|phi(z^(l+1))|^2 = (a / n) |phi(z^(l))|^2 S` with `S` a
//! sum of n independent `xi^2 1{xi > 0}` (`E S^2 = (n^2 / 4)(1 + 5/n)`) or `xi^2` (`E S^2 =
//! n^2 (1 + 2/n)`), so the ratio at layer l is `(1 + 5/n)^(l - 1)` or `(1 + 2/n)^(l - 1)`.

use super::activation::Activation;
use super::kernels::accurate_derivative;
use super::quadrature::normal_expectation;
use serde::{Deserialize, Serialize};

/// Relative accuracy of the Gaussian averages.
const TOL: f64 = 1e-11;

/// The architecture whose finite-width statistics are predicted.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepthSpec {
    /// phi.
    pub activation: Activation,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// Skip weight gamma in `[0, 1)` (0: a plain MLP).
    pub residual: f64,
    /// Hidden layers L.
    pub depth: usize,
    /// Width n of every hidden layer (and of the readout).
    pub width: usize,
    /// `|x|^2 / n_0` of the fixed input.
    pub q_input: f64,
}

/// The Gaussian averages one layer's step needs, at variance K.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Averages {
    /// `<phi^2>`.
    pub phi2: f64,
    /// `<phi^4>`.
    pub phi4: f64,
    /// `<z phi phi'>`.
    pub z_phi_dphi: f64,
    /// `<z^2 phi^2>`.
    pub z2_phi2: f64,
    /// `<phi'^2>`.
    pub dphi2: f64,
}

/// The averages at variance `k`: closed forms for ReLU and linear, quadrature otherwise.
pub fn averages(activation: Activation, k: f64) -> Averages {
    match activation {
        Activation::Relu => Averages {
            phi2: k / 2.0,
            phi4: 1.5 * k * k,
            z_phi_dphi: k / 2.0,
            z2_phi2: 1.5 * k * k,
            dphi2: 0.5,
        },
        Activation::Linear => Averages {
            phi2: k,
            phi4: 3.0 * k * k,
            z_phi_dphi: k,
            z2_phi2: 3.0 * k * k,
            dphi2: 1.0,
        },
        a => {
            let s = k.max(0.0).sqrt();
            let e = |g: &dyn Fn(f64) -> f64| normal_expectation(&g, 0.0, s, TOL);
            Averages {
                phi2: e(&|x| a.apply(x).powi(2)),
                phi4: e(&|x| a.apply(x).powi(4)),
                z_phi_dphi: e(&|x| x * a.apply(x) * accurate_derivative(a, x)),
                z2_phi2: e(&|x| (x * a.apply(x)).powi(2)),
                dphi2: e(&|x| accurate_derivative(a, x).powi(2)),
            }
        }
    }
}

/// What theory says of one layer's preactivation at the fixed input.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerTheory {
    /// Infinite-width variance `K^(l)`.
    pub kernel: f64,
    /// Four-point vertex `V^(l)`.
    pub vertex: f64,
    /// Leading order of `E[z^4] / (3 E[z^2]^2)`: `1 + V / (n K^2)`.
    pub kurtosis_ratio_leading: f64,
    /// The exact ratio where it is known (ReLU and linear at `C_b = 0`, no skip).
    pub kurtosis_ratio_exact: Option<f64>,
    /// Infinite-width `E |df / dz^(l)|^2` for `f = z^(L+1)_1`: 1 at the readout, and
    /// `(gamma^2 + a <phi'^2>_K) E|delta^(l+1)|^2` below (Schoenholz et al. 2017, eq. 12).
    pub gradient: f64,
}

impl LayerTheory {
    /// The lab's prediction: the exact law where there is one, else the leading order.
    pub fn kurtosis_ratio(&self) -> f64 {
        self.kurtosis_ratio_exact
            .unwrap_or(self.kurtosis_ratio_leading)
    }
}

/// Per-layer growth factor of the exact law (`1 + 5/n` ReLU, `1 + 2/n` linear), where the
/// Gaussian integrals close.
pub fn exact_growth(spec: &DepthSpec) -> Option<f64> {
    let n = spec.width as f64;
    if spec.bias_var != 0.0 || spec.residual != 0.0 {
        return None;
    }
    match spec.activation {
        Activation::Relu => Some(1.0 + 5.0 / n),
        Activation::Linear => Some(1.0 + 2.0 / n),
        _ => None,
    }
}

/// `K^(l)`, `V^(l)` and the kurtosis ratio for `l = 1..=L+1` (the readout last).
pub fn layer_theory(spec: &DepthSpec) -> Vec<LayerTheory> {
    let n = spec.width as f64;
    let growth = exact_growth(spec);
    let mut out = Vec::with_capacity(spec.depth + 1);
    let (mut k, mut v) = (spec.bias_var + spec.weight_var * spec.q_input, 0.0);
    let mut backward = Vec::with_capacity(spec.depth);
    for l in 1..=spec.depth + 1 {
        out.push(LayerTheory {
            kernel: k,
            vertex: v,
            kurtosis_ratio_leading: if k > 0.0 { 1.0 + v / (n * k * k) } else { 1.0 },
            kurtosis_ratio_exact: growth.map(|g| g.powi(l as i32 - 1)),
            gradient: 1.0,
        });
        if l == spec.depth + 1 {
            break;
        }
        // Layer l -> l+1: hidden-to-hidden steps carry the skip, the readout does not.
        let gamma = if l < spec.depth { spec.residual } else { 0.0 };
        let g2 = gamma * gamma;
        let (a, beta) = ((1.0 - g2) * spec.weight_var, (1.0 - g2) * spec.bias_var);
        let m = averages(spec.activation, k);
        let chi = if k > 0.0 { a * m.z_phi_dphi / k } else { 0.0 };
        v = (g2 + chi).powi(2) * v
            + a * a * (m.phi4 - m.phi2 * m.phi2)
            + 2.0 * g2 * a * (m.z2_phi2 - k * m.phi2);
        backward.push(g2 + a * m.dphi2);
        k = g2 * k + a * m.phi2 + beta;
    }
    // Backward: the gradient at layer l is the product of the factors of the steps above it.
    let mut gradient = 1.0;
    for (layer, factor) in out.iter_mut().zip(&backward).rev() {
        gradient *= factor;
        layer.gradient = gradient;
    }
    out
}

/// Whether the recursion above describes the network: always without a skip (flipping the
/// signs of every `W` and `b` of a layer flips its preactivations, so odd moments vanish), and
/// with a skip only for odd phi (tanh, erf, linear), where flipping every layer's weights flips
/// every `z`. ReLU or GELU with a skip lose the symmetry: `E[z^3]` becomes O(1/n) (from
/// `E[z_i phi(z_i)^2] != 0` in the step's variance) and feeds the kernel and the vertex at the
/// same order, which the recursion omits; the lab then states no prediction.
pub fn recursion_applies(spec: &DepthSpec) -> bool {
    spec.residual == 0.0
        || matches!(
            spec.activation,
            Activation::Tanh | Activation::Erf | Activation::Linear
        )
}

/// PDLT's estimate of the optimal depth-to-width ratio `r* = L/n` of a ReLU network at
/// criticality (`C_W = 2`, `C_b = 0`) with `outputs` readout neurons, `r* = 4 / (20 + 3 n_L)`
/// (Roberts, Yaida & Hanin 2022, Appendix A, "the optimal aspect ratio"): where the mutual
/// information among the outputs carried by the effective four-point vertex is largest before
/// the next order in L/n turns it down. An information estimate at initialization, quoted from
/// the book, not re-derived here; the lab states it for critical ReLU only.
pub fn optimal_aspect_ratio(outputs: usize) -> Option<f64> {
    (outputs > 0).then(|| 4.0 / (20.0 + 3.0 * outputs as f64))
}
