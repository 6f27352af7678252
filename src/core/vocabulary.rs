//! One vocabulary for every user-facing choice (activation, parametrization, optimizer, loss,
//! data set, precision, backend): each enum has one table of names, and CLI flags, TOML/JSON
//! configs, permalinks and the page's selects all parse and print through it, so that they
//! accept exactly the same words (aliases included) and a bad word gets the same error, which
//! lists every name.
//!
//! Names are matched after trimming, lower-casing and reading `-` as `_`, so `mean-field`,
//! `Mean_Field` and `mean_field` are one name.

use crate::error::{Error, Result};

/// One row of a choice's table.
#[derive(Clone, Copy, Debug)]
pub struct Entry<T: 'static> {
    /// The value.
    pub value: T,
    /// Its canonical name: what configs, URLs and JSON results write.
    pub name: &'static str,
    /// Its label in menus.
    pub label: &'static str,
    /// Other names it is read from.
    pub aliases: &'static [&'static str],
}

impl<T: Copy> Entry<T> {
    /// A row without aliases.
    pub const fn new(value: T, name: &'static str, label: &'static str) -> Self {
        Entry {
            value,
            name,
            label,
            aliases: &[],
        }
    }

    /// The same row, also read from `aliases`.
    pub const fn or(self, aliases: &'static [&'static str]) -> Self {
        Entry { aliases, ..self }
    }
}

/// An enum whose values are chosen by name.
pub trait Choice: Copy + PartialEq + Sized + 'static {
    /// What is being chosen, as error messages say it (`"optimizer"`, `"data set"`).
    const WHAT: &'static str;
    /// Every value with its names, in the order menus list them.
    const TABLE: &'static [Entry<Self>];

    /// Every value, in table order.
    fn all() -> impl Iterator<Item = Self> {
        Self::TABLE.iter().map(|e| e.value)
    }

    /// The canonical name.
    fn name(self) -> &'static str {
        self.entry().map_or("custom", |e| e.name)
    }

    /// The menu label.
    fn label(self) -> &'static str {
        self.entry().map_or("custom", |e| e.label)
    }

    /// This value's row of the table (`None` for a value with fields, such as free exponents).
    fn entry(self) -> Option<&'static Entry<Self>> {
        Self::TABLE.iter().find(|e| e.value == self)
    }

    /// The value named `text` (canonical name or alias), or an error listing every name.
    fn parse_name(text: &str) -> Result<Self> {
        let wanted = normalize(text);
        Self::TABLE
            .iter()
            .find(|e| {
                normalize(e.name) == wanted || e.aliases.iter().any(|a| normalize(a) == wanted)
            })
            .map(|e| e.value)
            .ok_or_else(|| Error::config(Self::WHAT, unknown_name::<Self>(text)))
    }
}

/// "unknown optimizer 'lbfgs' (expected one of sgd, adam)", with aliases after the names.
pub fn unknown_name<T: Choice>(text: &str) -> String {
    let names: Vec<&str> = T::TABLE.iter().map(|e| e.name).collect();
    let aliases: Vec<String> = T::TABLE
        .iter()
        .flat_map(|e| e.aliases.iter().map(move |a| format!("{a} for {}", e.name)))
        .collect();
    let also = if aliases.is_empty() {
        String::new()
    } else {
        format!("; also {}", aliases.join(", "))
    };
    format!(
        "unknown {} '{text}' (expected one of {}{also})",
        T::WHAT,
        names.join(", ")
    )
}

fn normalize(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// `FromStr`, `Display`, `Serialize` and `Deserialize` through the [`Choice`] table, so that
/// serde (configs, permalinks, JSON results) reads and writes exactly the names the CLI does.
#[macro_export]
macro_rules! choice_by_name {
    ($t:ty) => {
        impl std::str::FromStr for $t {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                <$t as $crate::core::vocabulary::Choice>::parse_name(s)
            }
        }

        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::core::vocabulary::Choice::name(*self))
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str($crate::core::vocabulary::Choice::name(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                <$t as $crate::core::vocabulary::Choice>::parse_name(&text).map_err(|_| {
                    serde::de::Error::custom($crate::core::vocabulary::unknown_name::<$t>(&text))
                })
            }
        }
    };
}
