//! Experiments: config -> stepper -> result, one module per idea. Training runs are written
//! once against the [`crate::core::train::Engine`] trait (CPU or GPU backend); the coordinate
//! check has a GPU driver of its own ([`coordcheck::GpuCoordCheck`]); the other Width
//! experiments run on the CPU.

pub mod coordcheck;
pub mod function_space;
pub mod kernel_convergence;
pub mod lr_transfer;
pub mod permalink;
pub mod playground;
pub mod training;
pub mod width;

use crate::error::{Error, Result};
use std::ops::RangeInclusive;

/// Checks counts such as steps or seeds: each `(name, value, allowed)` must lie in `allowed`.
pub(crate) fn check_counts(fields: &[(&str, usize, RangeInclusive<usize>)]) -> Result<()> {
    for (name, value, allowed) in fields {
        if !allowed.contains(value) {
            return Err(Error::config(
                *name,
                format!("{value} is not in {}..={}", allowed.start(), allowed.end()),
            ));
        }
    }
    Ok(())
}
