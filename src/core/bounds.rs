//! The largest value of every count a config holds, in one place, each with its reason.
//! Validation enforces them, `theorylab --help` prints them ([`table`]), and a room may
//! narrow one (the page's smaller caps) but never widen it. Memory and work are priced
//! separately ([`super::budget`]): a count inside its bound can still be refused by its cost.

use crate::error::{Error, Result};

/// A bound on one count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    /// The option it bounds.
    pub name: &'static str,
    /// The smallest accepted value.
    pub min: usize,
    /// The largest accepted value.
    pub max: usize,
    /// Why the bound is where it is.
    pub reason: &'static str,
}

impl Bound {
    /// `Ok` when `value` lies in `min..=max`, else an error naming the option, the bound and its
    /// reason.
    pub fn check(&self, value: usize) -> Result<()> {
        self.check_as(self.name, value)
    }

    /// [`Self::check`] for another option of the same kind (`teacher_width` is a width).
    pub fn check_as(&self, option: &str, value: usize) -> Result<()> {
        if (self.min..=self.max).contains(&value) {
            return Ok(());
        }
        Err(Error::config(
            option,
            format!(
                "{value} is not in {}..={} ({})",
                self.min, self.max, self.reason
            ),
        ))
    }
}

/// Optimizer steps (or epochs) of one training run.
pub const STEPS: Bound = Bound {
    name: "steps",
    min: 1,
    max: 10_000_000,
    reason: "10^7 steps of even the smallest network take hours here; every curve keeps at most one point per step",
};

/// Hidden layers of a trained network or of a kernel recursion.
pub const DEPTH: Bound = Bound {
    name: "depth",
    min: 1,
    max: 1024,
    reason: "signals die or explode within a few depth scales (tens of layers off criticality); 1024 reaches L/n = 16 at width 64",
};

/// Hidden width of one layer.
pub const WIDTH: Bound = Bound {
    name: "width",
    min: 1,
    max: 1 << 14,
    reason: "a 2^14 x 2^14 layer is 1 GiB in f32; wider layers are the infinite-width kernels' job",
};

/// Widths in one sweep (coordcheck, lrtransfer, fnspace, convergence, aspect, lmc-sweep).
pub const SWEEP_WIDTHS: Bound = Bound {
    name: "widths",
    min: 1,
    max: 15,
    reason: "powers of two from 1 to 2^14 are 15 widths; a figure shows no more lines than that legibly",
};

/// Independent seeds (networks, pairs) averaged over.
pub const SEEDS: Bound = Bound {
    name: "seeds",
    min: 1,
    max: 1000,
    reason: "1000 seeds bring a standard error to 3% of the spread; more is a job for the ensemble commands",
};

/// Samples drawn from a built-in data set.
pub const SAMPLES: Bound = Bound {
    name: "samples",
    min: 2,
    max: 1 << 22,
    reason: "4 million rows are 64 MB per column in f64; larger data is a job for a data loader, not this lab",
};

/// Input dimension of a synthetic data set.
pub const DIM: Bound = Bound {
    name: "dim",
    min: 1,
    max: 1 << 16,
    reason: "65,536 input dimensions already make the first layer the largest at width 2^14",
};

/// Points along each axis of a loss-landscape grid.
pub const GRID: Bound = Bound {
    name: "grid",
    min: 3,
    max: 201,
    reason: "201 x 201 points resolve the plane finer than a figure's pixels; each point is a pass over the data",
};

/// Lanczos steps of one Hessian spectrum.
pub const LANCZOS_STEPS: Bound = Bound {
    name: "iterations",
    min: 1,
    max: 500,
    reason: "full re-orthogonalization keeps every Lanczos vector; 500 resolve the top eigenvalues and the density of networks this size",
};

/// Random networks in one ensemble at initialization.
pub const ENSEMBLE: Bound = Bound {
    name: "samples",
    min: 2,
    max: 1_000_000,
    reason: "10^6 networks bring the kurtosis' standard error to 0.1% of its spread; the page's 10^4 already resolve the 1/n corrections",
};

/// Largest magnitude of a scale: an init std or variance, a noise std, a residual multiplier,
/// a weight decay.
pub const MAX_SCALE: f64 = 1e6;

/// Why [`MAX_SCALE`] is where it is.
pub const MAX_SCALE_REASON: &str = "the data's features are of order 1; a factor of 10^6 per layer passes f32's 3.4e38 within 7 layers, and nothing in the theory needs more";

/// `Ok` when `value` is finite with `|value| <= MAX_SCALE`, else an error naming the option.
pub fn check_scale(option: &str, value: f64) -> Result<()> {
    if value.is_finite() && value.abs() <= MAX_SCALE {
        return Ok(());
    }
    Err(Error::config(
        option,
        format!(
            "{value:e} is not finite with magnitude at most {MAX_SCALE:e} ({MAX_SCALE_REASON})"
        ),
    ))
}

/// Every bound above, in the order `--help` lists them.
pub const ALL: &[Bound] = &[
    STEPS,
    DEPTH,
    WIDTH,
    SWEEP_WIDTHS,
    SEEDS,
    SAMPLES,
    DIM,
    GRID,
    LANCZOS_STEPS,
    ENSEMBLE,
];

/// The bounds as lines of text for `--help`.
pub fn table() -> String {
    let lines: Vec<String> = ALL
        .iter()
        .map(|b| format!("  {:<10} {}..={:<10} {}", b.name, b.min, b.max, b.reason))
        .collect();
    format!(
        "Bounds on counts (memory and work are priced as well, against --memory-limit):\n{}\n  scales     |x| <= {MAX_SCALE:e}      init stds and variances, noise, residual multipliers, weight decay: {MAX_SCALE_REASON}",
        lines.join("\n")
    )
}
