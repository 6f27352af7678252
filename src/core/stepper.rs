//! Long work in bounded slices (DESIGN.md section 2): the browser awaits `step` until its frame
//! budget is spent, the CLI in a loop with a progress bar; both can stop between slices.
//!
//! A slice is a future: on the CPU it resolves at once, on the GPU after its readback lands, so
//! one experiment runs on either backend and the browser never blocks on the device. Only
//! native code blocks on it ([`run`]).

use crate::error::Result;
use std::future::Future;

#[cfg(not(target_arch = "wasm32"))]
#[path = "stepper_blocking.rs"]
mod blocking;
#[cfg(not(target_arch = "wasm32"))]
pub use blocking::run;

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

    /// The share done, in thousandths (how parts whose own units do not compare add up).
    pub fn thousandths(self) -> usize {
        1000 * self.done.min(self.total) / self.total.max(1)
    }
}

/// An experiment that advances a bounded amount of work per call.
pub trait Stepper {
    /// What the finished (or stopped) experiment reports.
    type Output;

    /// Does one slice of work; after the last slice it keeps returning a finished progress.
    fn step(&mut self) -> impl Future<Output = Result<Progress>>;

    /// The result so far (a stopped run reports what it has).
    fn result(&self) -> Self::Output;
}
