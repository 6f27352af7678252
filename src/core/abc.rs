//! The exponents of an abc-parametrization (Yang & Hu 2021, Definition 3.1): per layer type a
//! multiplier `n^-a`, an init std `sigma n^-b` and a learning rate `eta n^-c`. The named
//! presets that choose them are in [`super::parametrization`].

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
    /// The exponents `(a, b, c)`.
    pub const fn new(a: f64, b: f64, c: f64) -> Self {
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
