//! The crate's one error type. Every fallible path returns [`Result`]; messages name the
//! offending field, line, key or shape so that a user can fix the input without reading code.

use thiserror::Error;

/// Everything that can go wrong in theorylab, with the context needed to act on it.
#[derive(Debug, Error)]
pub enum Error {
    /// A configuration value is out of its domain (width 0, NaN learning rate, ...).
    #[error("invalid {field}: {reason}")]
    InvalidConfig {
        /// The field, flag or key.
        field: String,
        /// What is wrong with its value.
        reason: String,
    },

    /// A CSV file could not be read as numbers; `line` is 1-based.
    #[error("CSV line {line}: {reason}")]
    Csv {
        /// The 1-based line.
        line: usize,
        /// What is wrong on it.
        reason: String,
    },

    /// A data set is unusable as a whole (empty, wrong number of columns, ...).
    #[error("data: {0}")]
    Data(String),

    /// Two arrays that must agree in shape do not.
    #[error("shape mismatch for {what}: expected {expected}, found {found}")]
    Shape {
        /// The array.
        what: String,
        /// The shape it must have.
        expected: String,
        /// The shape it has.
        found: String,
    },

    /// A model file is malformed or does not match the requested network.
    #[error("model file: {0}")]
    Model(String),

    /// The loss became non-finite: the run is stopped instead of reporting NaN curves.
    #[error(
        "training diverged at step {step} (loss = {loss}); try a smaller learning rate than {lr:e}"
    )]
    Diverged {
        /// The step whose loss was not finite.
        step: usize,
        /// That loss.
        loss: f64,
        /// The base learning rate of the run.
        lr: f64,
    },

    /// A result holds a number that is not finite: it is refused rather than printed as
    /// `null` (or drawn as a gap).
    #[error(
        "the result's {path} is {value}, not a finite number: the run overflowed or divided by zero. The likely cause is a learning rate, a variance or an input scale too large (or too small); lower it, or use f64"
    )]
    NonFinite {
        /// Where in the result (`curves.train_loss[42]`).
        path: String,
        /// The value (NaN or an infinity).
        value: f64,
    },

    /// A figure cannot be drawn honestly from the data given.
    #[error("figure '{title}': {reason}")]
    Plot {
        /// The panel's title.
        title: String,
        /// Why it cannot be drawn.
        reason: String,
    },

    /// The GPU backend cannot run this (no adapter, device lost, out of memory, a limit).
    #[error("GPU: {0}")]
    Gpu(String),

    /// A file's contents are unusable (not UTF-8, a config that does not parse, ...).
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// What is wrong with its contents.
        reason: String,
    },

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    File {
        /// The file or directory.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Shorthand for [`Error::InvalidConfig`].
    pub fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Plot`].
    pub fn plot(title: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Plot {
            title: title.into(),
            reason: reason.into(),
        }
    }
}
