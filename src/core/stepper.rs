//! Long work in bounded slices (DESIGN.md section 2): the browser calls `step` once per
//! animation frame, the CLI in a loop with a progress bar; both can stop between slices.

use crate::error::Result;
use std::ops::ControlFlow;

/// How far a stepper has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Units of work done (e.g. optimizer steps).
    pub done: usize,
    /// Units of work in total.
    pub total: usize,
}

impl Progress {
    /// Whether all the work is done.
    pub fn finished(self) -> bool {
        self.done >= self.total
    }
}

/// An experiment that advances a bounded amount of work per call.
pub trait Stepper {
    /// What the finished (or stopped) experiment reports.
    type Output;

    /// Does one slice of work; after the last slice it keeps returning a finished progress.
    fn step(&mut self) -> Result<Progress>;

    /// The result so far (a stopped run reports what it has).
    fn result(&self) -> Self::Output;
}

/// Steps until done or until `on_progress` breaks, and returns the result.
pub fn run<S: Stepper>(
    stepper: &mut S,
    mut on_progress: impl FnMut(Progress) -> ControlFlow<()>,
) -> Result<S::Output> {
    loop {
        let progress = stepper.step()?;
        if on_progress(progress).is_break() || progress.finished() {
            return Ok(stepper.result());
        }
    }
}
