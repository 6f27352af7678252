//! Permalinks: a room's whole config in the URL, as a query string of dotted keys that differ
//! from the defaults (`width=256&optimizer.lr=0.1&data.dataset=xor`).
//!
//! Decoding is strict: an unknown key, a value of the wrong type or an invalid config is an
//! error naming the key, so the page can fall back to the defaults and say why.

use crate::error::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Longest query string accepted (a config is a few hundred characters).
pub const MAX_QUERY_LEN: usize = 4096;

/// The query string of the keys of `config` whose values differ from `T::default()`.
pub fn encode<T: Serialize + Default>(config: &T) -> Result<String> {
    let value = to_value(config)?;
    let default = to_value(&T::default())?;
    let mut pairs = Vec::new();
    flatten("", &value, Some(&default), &mut pairs);
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        query.append_pair(&key, &value);
    }
    Ok(query.finish())
}

/// The config a query string describes: its keys over `T::default()` (so a nested config's
/// unnamed fields keep the outer default's values, not the nested type's own defaults).
pub fn decode<T: DeserializeOwned + Serialize + Default>(query: &str) -> Result<T> {
    if query.len() > MAX_QUERY_LEN {
        return Err(Error::config(
            "permalink",
            format!(
                "{} characters, more than the {MAX_QUERY_LEN} a config can need",
                query.len()
            ),
        ));
    }
    let mut pairs = Vec::new();
    for (key, text) in form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
        if key.is_empty() {
            continue;
        }
        // Numbers, booleans, null and flat lists of them (`[16,32]`, as `encode` writes a list)
        // are JSON; anything else is a string (enum names).
        let scalar = |v: &Value| !v.is_object() && !v.is_array();
        let value = serde_json::from_str::<Value>(&text)
            .ok()
            .filter(|v| scalar(v) || v.as_array().is_some_and(|a| a.iter().all(scalar)))
            .unwrap_or_else(|| Value::String(text.to_string()));
        pairs.push((key.to_string(), value));
    }
    let over = |pairs: &[(String, Value)]| -> Result<T> {
        let mut root = Map::new();
        for (key, value) in pairs {
            insert(&mut root, key, value.clone())?;
        }
        serde_json::from_value(over_defaults::<T>(root)?)
            .map_err(|e| Error::config("permalink", e.to_string()))
    };
    // On a refusal, name the key: the first of the link's keys refused on its own.
    over(&pairs).map_err(|whole| {
        let alone = pairs
            .iter()
            .find_map(|p| over(std::slice::from_ref(p)).err().map(|e| (&p.0, e)));
        match alone {
            Some((key, Error::InvalidConfig { reason, .. })) if !reason.contains(key.as_str()) => {
                Error::config("permalink", format!("{key}: {reason}"))
            }
            Some((_, own)) => own,
            None => whole,
        }
    })
}

/// `T::default()` as JSON with `over` laid on it key by key (a nested config's other fields
/// keep the outer default's values): what a permalink or a config file describes.
pub(crate) fn over_defaults<T: Serialize + Default>(over: Map<String, Value>) -> Result<Value> {
    let mut value = to_value(&T::default())?;
    merge(&mut value, Value::Object(over));
    Ok(value)
}

fn to_value<T: Serialize>(config: &T) -> Result<Value> {
    serde_json::to_value(config).map_err(|e| Error::config("permalink", e.to_string()))
}

/// Dotted `(key, value)` pairs of the leaves of `value` that differ from `default`.
fn flatten(prefix: &str, value: &Value, default: Option<&Value>, out: &mut Vec<(String, String)>) {
    if default == Some(value) {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                let d = default.and_then(|d| d.get(key));
                flatten(&path, v, d, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Lays `over` onto `base`: objects key by key, anything else replaced (a key `base` lacks is
/// added, for the config's own check to name it).
fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(b) => merge(b, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

/// Sets `root[a][b][c] = value` for the key `a.b.c`.
fn insert(root: &mut Map<String, Value>, key: &str, value: Value) -> Result<()> {
    let mut parts = key.split('.').peekable();
    let mut map = root;
    while let Some(part) = parts.next() {
        if part.is_empty() {
            return Err(Error::config("permalink", format!("malformed key '{key}'")));
        }
        if parts.peek().is_none() {
            if map.insert(part.to_string(), value).is_some() {
                return Err(Error::config("permalink", format!("'{key}' given twice")));
            }
            return Ok(());
        }
        let entry = map
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        map = entry
            .as_object_mut()
            .ok_or_else(|| Error::config("permalink", format!("'{key}' clashes with '{part}'")))?;
    }
    Ok(())
}
