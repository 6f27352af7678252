//! abc-parametrizations (Yang & Hu 2021, "Feature Learning in Infinite-Width Neural Networks",
//! Section 3, Definition 3.1): every layer's effective weight is `W = n^-a w` with trainable
//! `w ~ N(0, sigma^2 n^-2b)` and learning rate `eta n^-c`.
//!
//! Conventions.
//! - `n` is the width the layer touches: the fan-in for hidden and output layers, the fan-out
//!   for the input layer, whose fan-in `d` stays fixed as n grows (Yang & Hu, Section 3). The
//!   input layer's init also carries a constant `1/sqrt(d)` so its preactivations are O(1) for
//!   any `d` (Tensor Programs V, Table 3: input weights have variance 1/fan_in).
//! - The biases of the input and hidden layers are input weights on a constant input 1 (Yang &
//!   Hu, Section 3) and follow the input rule, without the `1/sqrt(d)`; the output bias has a
//!   fixed size and takes a = b = c = 0.
//! - SGD presets (Yang & Hu, Table 1 / TP4 eq. (4)): muP a = (-1/2, 0, 1/2), b = 1/2, c = 0;
//!   NTK a = (0, 1/2, 1/2), b = 0, c = 0; SP a = 0, b = (0, 1/2, 1/2), c = 0 (the fixed
//!   learning rate that blows up with width); mean-field a = (0, 1/2, 1), b = 0, c = -1 (TP4
//!   Section 3.1 for one hidden layer, a_2 = 1, c = -1; it is muP shifted by the symmetry
//!   (a, b, c) -> (a + 1/2, b - 1/2, c - 1) of TP4 eq. (5), so for SGD it trains identically).
//! - Adam is invariant to the gradient's scale, so its symmetry is (a, b, c) -> (a + t, b - t,
//!   c - t) per layer and its c must keep `a + c` at the update size each regime needs (TP5,
//!   Table 3 and the `mup` package's MuAdam: hidden LR eta/fan_in, input and output LR eta in
//!   the a = 0 gauge with output init variance 1/fan_in^2). In our gauges: muP c = (1/2, 1,
//!   1/2); NTK c = (1/2, 1, 1/2) (kernel-regime update sizes n^-1/2, n^-3/2, n^-1 of W);
//!   mean-field c = (0, 1/2, 0); SP c = 0.

use super::optim::OptimizerKind;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Exponents of one layer type: multiplier `n^-a`, init std `sigma n^-b`, learning rate
/// `eta n^-c`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Abc {
    /// Multiplier exponent a.
    pub a: f64,
    /// Init exponent b.
    pub b: f64,
    /// Learning-rate exponent c.
    pub c: f64,
}

impl Abc {
    const fn new(a: f64, b: f64, c: f64) -> Self {
        Abc { a, b, c }
    }
}

/// The rules for the three layer types (input l = 1, hidden 2..L, output L + 1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbcRules {
    /// Input layer (and the biases of input and hidden layers).
    pub input: Abc,
    /// Hidden-to-hidden layers.
    pub hidden: Abc,
    /// Output (readout) layer.
    pub output: Abc,
}

/// A named parametrization or free exponents.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parametrization {
    /// Standard parametrization with a width-independent learning rate.
    #[default]
    Sp,
    /// Neural tangent parametrization (Jacot et al. 2018): kernel regime.
    Ntk,
    /// Maximal-update parametrization (Yang & Hu 2021): feature learning at every width.
    Mup,
    /// Mean-field parametrization (Mei et al. 2018; TP4 Section 3.1).
    MeanField,
    /// Free exponents per layer type.
    Custom(AbcRules),
}

impl Parametrization {
    /// The preset names accepted in configs and flags.
    pub const PRESETS: [(&'static str, Parametrization); 4] = [
        ("sp", Parametrization::Sp),
        ("ntk", Parametrization::Ntk),
        ("mup", Parametrization::Mup),
        ("mean_field", Parametrization::MeanField),
    ];

    /// The exponents this parametrization uses with the given optimizer (see module docs).
    pub fn rules(self, optimizer: OptimizerKind) -> AbcRules {
        let adam = optimizer == OptimizerKind::Adam;
        let rules = |input: Abc, hidden: Abc, output: Abc| AbcRules {
            input,
            hidden,
            output,
        };
        match (self, adam) {
            (Parametrization::Custom(r), _) => r,
            (Parametrization::Sp, _) => rules(
                Abc::new(0.0, 0.0, 0.0),
                Abc::new(0.0, 0.5, 0.0),
                Abc::new(0.0, 0.5, 0.0),
            ),
            (Parametrization::Ntk, false) => rules(
                Abc::new(0.0, 0.0, 0.0),
                Abc::new(0.5, 0.0, 0.0),
                Abc::new(0.5, 0.0, 0.0),
            ),
            (Parametrization::Ntk, true) => rules(
                Abc::new(0.0, 0.0, 0.5),
                Abc::new(0.5, 0.0, 1.0),
                Abc::new(0.5, 0.0, 0.5),
            ),
            (Parametrization::Mup, false) => rules(
                Abc::new(-0.5, 0.5, 0.0),
                Abc::new(0.0, 0.5, 0.0),
                Abc::new(0.5, 0.5, 0.0),
            ),
            (Parametrization::Mup, true) => rules(
                Abc::new(-0.5, 0.5, 0.5),
                Abc::new(0.0, 0.5, 1.0),
                Abc::new(0.5, 0.5, 0.5),
            ),
            (Parametrization::MeanField, false) => rules(
                Abc::new(0.0, 0.0, -1.0),
                Abc::new(0.5, 0.0, -1.0),
                Abc::new(1.0, 0.0, -1.0),
            ),
            (Parametrization::MeanField, true) => rules(
                Abc::new(0.0, 0.0, 0.0),
                Abc::new(0.5, 0.0, 0.5),
                Abc::new(1.0, 0.0, 0.0),
            ),
        }
    }

    /// Parses a preset name (`sp`, `ntk`, `mup`, `mean_field` or `mean-field`).
    pub fn from_name(name: &str) -> Result<Self> {
        let normalized = name.replace('-', "_");
        Self::PRESETS
            .iter()
            .find(|(n, _)| *n == normalized)
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                Error::config(
                    "parametrization",
                    format!(
                        "unknown parametrization '{name}' (expected sp, ntk, mup or mean_field)"
                    ),
                )
            })
    }

    /// Free exponents from `"a,b,c;a,b,c;a,b,c"` (input; hidden; output).
    pub fn parse_abc(text: &str) -> Result<Self> {
        let bad = |reason: String| Error::config("abc", reason);
        let layers: Vec<&str> = text.split(';').collect();
        if layers.len() != 3 {
            return Err(bad(format!(
                "'{text}' must have three layer types 'a,b,c;a,b,c;a,b,c' (input; hidden; output)"
            )));
        }
        let mut parsed = [Abc::new(0.0, 0.0, 0.0); 3];
        for (slot, layer) in parsed.iter_mut().zip(&layers) {
            let numbers: Vec<f64> = layer
                .split(',')
                .map(|x| x.trim().parse::<f64>())
                .collect::<std::result::Result<_, _>>()
                .map_err(|_| bad(format!("'{layer}' is not three numbers a,b,c")))?;
            match numbers[..] {
                [a, b, c] if [a, b, c].iter().all(|x| x.is_finite()) => *slot = Abc::new(a, b, c),
                _ => return Err(bad(format!("'{layer}' is not three finite numbers a,b,c"))),
            }
        }
        let [input, hidden, output] = parsed;
        Ok(Parametrization::Custom(AbcRules {
            input,
            hidden,
            output,
        }))
    }
}
