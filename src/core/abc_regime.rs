//! Which infinite-width limit an abc-parametrization has (Yang & Hu 2021, "Feature Learning in
//! Infinite-Width Neural Networks", Definition 3.2 and Theorem 3.3), in this crate's gauge
//! (src/core/parametrization.rs: per-layer learning-rate exponents c_l; input layer l = 1,
//! hidden layers l = 2..L, output L + 1).
//!
//! Three exponents decide it, with `alpha = a_{L+1} + b_{L+1}` (the output at init is
//! `Theta(n^(1/2 - alpha))`):
//! - `r`: after an update the last features move by `Delta h_L = Theta(n^-r)`.
//!   SGD: `r = min(alpha, 2 a_{L+1} + c_{L+1}) + min_{l <= L} (2 a_l + c_l + [l = 1]) - 1`, TP4's
//!   `r` with a per-layer c (SGD's symmetry `(a, b, c) -> (a + t, b - t, c - 2t)` makes a common c
//!   out of any per-layer ones; the input layer's update sums over the fixed d, not n, hence
//!   the `+1`). Adam normalizes the gradient, so each layer's update has entries
//!   `eta n^-(a + c)` and `r = min(a_1 + c_1, min_{2 <= l <= L} (a_l + c_l - 1))` (TP5, Table 3;
//!   Yang & Littwin 2023, TP4b).
//! - `u`: the output's own update moves f by `Theta(n^-u)`: SGD `u = 2 a_{L+1} + c_{L+1} - 1`,
//!   Adam `u = a_{L+1} + c_{L+1} - 1`.
//!
//! Theorem 3.3: stable iff `a_1 + b_1 = 0`, `a_l + b_l = 1/2` for hidden l, `alpha >= 1/2`,
//! `r >= 0`, `alpha + r >= 1` and `u >= 0`; nontrivial iff `alpha + r <= 1` or `u <= 0`; a stable
//! nontrivial parametrization learns features iff `r = 0` and is otherwise in the kernel regime.

use super::abc::AbcRules;
use super::optim::OptimizerKind;
use serde::{Deserialize, Serialize};

/// Exponents are compared with this slack: slider steps are multiples of 1/4 (exact in binary),
/// and sums of a few of them stay exact; the slack only absorbs decimal input such as 0.1.
pub const SLACK: f64 = 1e-9;

/// The four kinds of limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Some quantity blows up with width.
    Unstable,
    /// Stable, but the function does not move in the limit.
    Trivial,
    /// Stable and nontrivial with `r > 0`: features freeze, training is kernel gradient descent.
    Kernel,
    /// Stable and nontrivial with `r = 0`: the last features move by Theta(1).
    FeatureLearning,
}

impl Regime {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Unstable => "unstable",
            Regime::Trivial => "trivial",
            Regime::Kernel => "kernel regime",
            Regime::FeatureLearning => "feature learning",
        }
    }
}

/// The verdict on one choice of exponents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// `alpha = a_{L+1} + b_{L+1}`.
    pub alpha: f64,
    /// Feature-update exponent r.
    pub r: f64,
    /// Output-update exponent u.
    pub u: f64,
    /// Which limit.
    pub regime: Regime,
    /// Every condition of Theorem 3.3 that fails, in words (empty when stable).
    pub violations: Vec<String>,
}

/// Classifies `rules` for a network of `depth` hidden layers trained by `optimizer`.
pub fn classify(rules: &AbcRules, depth: usize, optimizer: OptimizerKind) -> Classification {
    let (i, h, o) = (rules.input, rules.hidden, rules.output);
    let hidden_layers = depth >= 2;
    let alpha = o.a + o.b;
    let (r, u) = match optimizer {
        OptimizerKind::Sgd => {
            let mut inner = 2.0 * i.a + i.c + 1.0;
            if hidden_layers {
                inner = inner.min(2.0 * h.a + h.c);
            }
            (
                alpha.min(2.0 * o.a + o.c) + inner - 1.0,
                2.0 * o.a + o.c - 1.0,
            )
        }
        OptimizerKind::Adam => {
            let mut r = i.a + i.c;
            if hidden_layers {
                r = r.min(h.a + h.c - 1.0);
            }
            (r, o.a + o.c - 1.0)
        }
    };
    let mut violations = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            violations.push(what);
        }
    };
    need(
        (i.a + i.b).abs() <= SLACK,
        format!(
            "a1 + b1 = {} ≠ 0: the first preactivations are not Θ(1)",
            i.a + i.b
        ),
    );
    if hidden_layers {
        need(
            (h.a + h.b - 0.5).abs() <= SLACK,
            format!(
                "a + b = {} ≠ 1/2 in the hidden layers: they are not Θ(1) at init",
                h.a + h.b
            ),
        );
    }
    need(
        alpha >= 0.5 - SLACK,
        format!("a + b = {alpha} < 1/2 at the output: f blows up at init"),
    );
    need(
        r >= -SLACK,
        format!("r = {r} < 0: the features blow up after an update"),
    );
    need(
        alpha + r >= 1.0 - SLACK,
        format!(
            "α + r = {} < 1: the readout of the feature update blows up",
            alpha + r
        ),
    );
    need(
        u >= -SLACK,
        format!("u = {u} < 0: the readout's own update blows up"),
    );
    let regime = if !violations.is_empty() {
        Regime::Unstable
    } else if alpha + r > 1.0 + SLACK && u > SLACK {
        Regime::Trivial
    } else if r <= SLACK {
        Regime::FeatureLearning
    } else {
        Regime::Kernel
    };
    Classification {
        alpha,
        r,
        u,
        regime,
        violations,
    }
}
