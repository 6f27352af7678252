//! Running a [`Stepper`] to the end by blocking on each slice: native code only (this file is
//! not compiled to wasm, where the browser awaits slices between animation frames).

#![cfg(not(target_arch = "wasm32"))]

use super::{Progress, Stepper};
use crate::error::Result;
use std::ops::ControlFlow;

/// Steps until done or until `on_progress` breaks, and returns the result, blocking on each
/// slice (native code only: the browser awaits slices between animation frames).
pub fn run<S: Stepper>(
    stepper: &mut S,
    mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<S::Output> {
    loop {
        let progress = pollster::block_on(stepper.step())?;
        if on_progress(progress).is_break() || progress.finished() {
            return Ok(stepper.result());
        }
    }
}
