//! Reading and writing files: every error names its path and keeps its cause.

use std::path::Path;
use theorylab::error::{Error, Result};

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::File {
        path: path.display().to_string(),
        source,
    }
}

/// The bytes of a file.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io_error(path, e))
}

/// The text of a UTF-8 file.
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|_| Error::Io {
        path: path.display().to_string(),
        reason: "not UTF-8 text".into(),
    })
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
