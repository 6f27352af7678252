//! What every sweep shares: checked counts and width lists, powers of two, and power-law fits
//! on log-log axes.

use crate::core::bounds;
use crate::error::{Error, Result};
use std::ops::RangeInclusive;

/// Largest width accepted: [`bounds::WIDTH`].
pub const MAX_WIDTH: usize = bounds::WIDTH.max;

/// The widest network the page trains, as log2, on WebGPU (4096) or on the CPU backend (wasm:
/// 1024, where one step already takes about a frame's budget). Every room reads its cap here.
pub const fn page_max_width_log2(gpu: bool) -> u32 {
    if gpu { 12 } else { 10 }
}

/// Checks counts such as steps or seeds: each `(name, value, allowed)` must lie in `allowed`.
pub fn check_counts(fields: &[(&str, usize, RangeInclusive<usize>)]) -> Result<()> {
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

/// `2^from, 2^(from+1), ..., 2^to`.
pub fn powers_of_two(from: u32, to: u32) -> Vec<usize> {
    (from..=to).map(|k| 1usize << k).collect()
}

/// Checks a width sweep: non-empty, each in `1..=MAX_WIDTH`, strictly increasing.
pub fn check_widths(widths: &[usize]) -> Result<()> {
    if widths.is_empty() {
        return Err(Error::config("widths", "give at least one width"));
    }
    bounds::SWEEP_WIDTHS.check(widths.len()).map_err(|_| {
        Error::config(
            "widths",
            format!(
                "{} widths are more than the {} one sweep takes ({})",
                widths.len(),
                bounds::SWEEP_WIDTHS.max,
                bounds::SWEEP_WIDTHS.reason
            ),
        )
    })?;
    if let Some(&w) = widths.iter().find(|&&w| bounds::WIDTH.check(w).is_err()) {
        return Err(Error::config(
            "widths",
            format!(
                "width {w} is not in 1..={MAX_WIDTH} ({})",
                bounds::WIDTH.reason
            ),
        ));
    }
    if widths.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::config("widths", "must be strictly increasing"));
    }
    Ok(())
}

/// Least-squares fit of `log y = log a + p log x`: returns `(p, a)`, or None with fewer than two
/// positive points.
pub fn power_law_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && y.is_finite())
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect();
    if logs.len() < 2 {
        return None;
    }
    let n = logs.len() as f64;
    let (mx, my) = (
        logs.iter().map(|p| p.0).sum::<f64>() / n,
        logs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let p = sxy / sxx;
    Some((p, (my - p * mx).exp()))
}
