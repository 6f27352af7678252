//! Shared test helpers: one closeness check, small random networks and data.
#![allow(dead_code)]

use nalgebra::DMatrix;
use theorylab::core::rng::{Rng, Stream};

/// |actual - expected| <= abs + rel * |expected|, with a message naming what was compared.
pub fn assert_close(what: &str, actual: f64, expected: f64, rel: f64, abs: f64) {
    let tolerance = abs + rel * expected.abs();
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} vs expected {expected} (|diff| {} > tolerance {tolerance})",
        (actual - expected).abs()
    );
}

/// A `[rows, cols]` matrix of N(0, 1) draws.
pub fn gaussian_matrix(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut rng = Rng::new(seed, Stream::Experiment);
    DMatrix::from_fn(rows, cols, |_, _| rng.normal())
}

/// Least-squares slope of log(y) against log(x): the exponent of a power law y ~ x^slope.
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let logs: Vec<(f64, f64)> = points.iter().map(|(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let mean_x = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = logs.iter().map(|(x, y)| (x - mean_x) * (y - mean_y)).sum();
    let sxx: f64 = logs.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    sxy / sxx
}

/// Root mean square of all entries.
pub fn rms(m: &DMatrix<f64>) -> f64 {
    (m.iter().map(|x| x * x).sum::<f64>() / m.len() as f64).sqrt()
}

/// Mean and standard error of the mean of independent estimates (e.g. one slope per seed).
pub fn mean_and_standard_error(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Runs the `theorylab` binary with `args`.
pub fn theorylab(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args(args)
        .output()
        .unwrap()
}

/// The command fails, without a panic, with an error message containing `needle`.
pub fn fails_with(args: &[&str], needle: &str) {
    let out = theorylab(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected '{needle}' in: {stderr}"
    );
}
