//! Reading and writing files: every error names its path and keeps its cause.

use super::limits;
use std::path::Path;
use theorylab::core::budget::{Cost, bytes};
use theorylab::error::{Error, Result};

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::File {
        path: path.display().to_string(),
        source,
    }
}

/// The bytes of a file (a model: its f32 tensors become f64, so it is priced at three times
/// its size).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    read_priced(path, 3.0)
}

/// The text of a UTF-8 file (a CSV: a number takes 2 bytes of text at least and 8 as f64, held
/// as read and as split, so it is priced at nine times its size).
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_priced(path, 9.0)?).map_err(|_| Error::Io {
        path: path.display().to_string(),
        reason: "not UTF-8 text".into(),
    })
}

/// Reads a file after checking that `factor` times its size fits the memory budget.
fn read_priced(path: &Path, factor: f64) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path)
        .map_err(|e| io_error(path, e))?
        .len() as f64;
    let what = format!("the file {} ({}) as numbers", path.display(), bytes(size));
    limits::budget()
        .check(&Cost::new().memory("data", what, factor * size))
        .map_err(in_file(path))?;
    std::fs::read(path).map_err(|e| io_error(path, e))
}

/// Writes a file, replacing it.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| io_error(path, e))
}

/// Creates a directory and its parents.
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))
}

/// A config from a TOML file, or JSON where the name ends in `.json`.
pub fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = read_text(path)?;
    let parsed = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    } else {
        toml::from_str(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|reason| Error::Io {
        path: path.display().to_string(),
        reason,
    })
}

/// An error about the contents of `path` (a CSV cell, a model tensor), prefixed with the path.
pub fn in_file(path: &Path) -> impl Fn(Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}
