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

use super::abc::{Abc, AbcRules};
use super::optimizer_kind::OptimizerKind;
use super::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A named parametrization or free exponents.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
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

impl Choice for Parametrization {
    const WHAT: &'static str = "parametrization";
    /// The presets; free exponents are written `{"custom": {"input": {"a": .., ..}, ..}}`.
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Parametrization::Sp, "sp", "standard (SP)"),
        Entry::new(Parametrization::Ntk, "ntk", "NTK"),
        Entry::new(Parametrization::Mup, "mup", "muP"),
        Entry::new(Parametrization::MeanField, "mean_field", "mean field"),
    ];
}

impl std::str::FromStr for Parametrization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Parametrization::parse_name(s)
    }
}

impl std::fmt::Display for Parametrization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A preset is its name; free exponents are `{"custom": rules}` (serde's external tagging).
impl Serialize for Parametrization {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Parametrization::Custom(rules) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("custom", rules)?;
                map.end()
            }
            preset => s.serialize_str(preset.name()),
        }
    }
}

impl<'de> Deserialize<'de> for Parametrization {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Named;
        impl<'de> Visitor<'de> for Named {
            type Value = Parametrization;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a parametrization name or {\"custom\": abc rules}")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> std::result::Result<Self::Value, E> {
                Parametrization::parse_name(text).map_err(|_| {
                    E::custom(super::vocabulary::unknown_name::<Parametrization>(text))
                })
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                match map.next_key::<String>()?.as_deref() {
                    Some("custom") => Ok(Parametrization::Custom(map.next_value()?)),
                    Some(other) => Err(de::Error::unknown_variant(other, &["custom"])),
                    None => Err(de::Error::invalid_length(0, &self)),
                }
            }
        }
        d.deserialize_any(Named)
    }
}

impl Parametrization {
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
