//! Figures of the Width room: kernel matrices, kernel error vs width, the coordinate check and
//! feature/kernel movement, all power laws on log-log axes with their fitted slopes.

use super::{Figure, Heatmap, LinePlot, Scale, Series};
use crate::core::kernels::Kernels;
use crate::core::parametrization::Parametrization;
use crate::error::Result;
use crate::experiments::coordcheck::{CoordCheckResult, power_law_fit};
use crate::experiments::kernel_convergence::KernelConvergenceResult;
use crate::experiments::lr_transfer::LrTransferResult;
use nalgebra::DMatrix;

/// The positive points of `(width, value)` pairs (a log axis cannot show the others).
fn positive(widths: &[usize], values: impl IntoIterator<Item = f64>) -> Vec<(f64, f64)> {
    widths
        .iter()
        .zip(values)
        .map(|(&n, v)| (n as f64, v))
        .filter(|(_, v)| *v > 0.0 && v.is_finite())
        .collect()
}

/// `name (slope p)` with the least-squares exponent, or just `name` with fewer than 2 points.
fn with_slope(name: &str, points: &[(f64, f64)]) -> String {
    match power_law_fit(points) {
        Some((p, _)) => format!("{name} (slope {p:.2})"),
        None => name.to_string(),
    }
}

fn matrix_map(title: &str, m: &DMatrix<f64>) -> Figure {
    let n = m.nrows();
    Figure::Heatmap(Heatmap {
        title: title.into(),
        x_label: "input j".into(),
        y_label: "input i".into(),
        x_range: (0.0, n as f64),
        y_range: (0.0, n as f64),
        nx: n,
        ny: n,
        // Row iy of the grid is input i = iy (the first input at the bottom).
        values: (0..n)
            .flat_map(|i| (0..n).map(move |j| m[(i, j)]))
            .collect(),
        colorbar_label: "kernel value".into(),
        overlay: Vec::new(),
    })
}

/// The NNGP and the NTK as heat maps over pairs of inputs.
pub fn kernel_maps(kernels: &Kernels) -> Result<Vec<Figure>> {
    Ok(vec![
        matrix_map("NNGP kernel K(x_i, x_j)", &kernels.nngp),
        matrix_map("NTK Theta(x_i, x_j)", &kernels.ntk),
    ])
}

/// Relative Frobenius error of finite-width kernels to the limit vs width, with the theory
/// slope -1/2 drawn through the first NTK point.
pub fn kernel_error(result: &KernelConvergenceResult) -> Result<Vec<Figure>> {
    let ntk = positive(&result.widths, result.ntk_error.iter().copied());
    let nngp = positive(&result.widths, result.nngp_error.iter().copied());
    let mut series = vec![
        Series {
            name: with_slope("empirical NTK", &ntk),
            points: ntk.clone(),
        },
        Series {
            name: with_slope("feature NNGP", &nngp),
            points: nngp,
        },
    ];
    if let (Some(&(n0, e0)), Some(&(n1, _))) = (ntk.first(), ntk.last()) {
        series.push(Series {
            name: "theory n^-1/2".into(),
            points: vec![(n0, e0), (n1, e0 * (n1 / n0).powf(-0.5))],
        });
    }
    Ok(vec![Figure::Line(LinePlot {
        title: "Finite width vs the infinite-width kernel".into(),
        x_label: "hidden width n (log scale)".into(),
        y_label: "||K_n - K||_F / ||K||_F (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        series,
    })])
}

/// One panel per recorded step: `table[width][step][layer]` vs width, one curve per layer.
fn per_step(
    result: &CoordCheckResult,
    table: &[Vec<Vec<f64>>],
    steps: std::ops::Range<usize>,
    title: &str,
    y_label: &str,
) -> Vec<Figure> {
    steps
        .map(|t| {
            let series = result
                .layers
                .iter()
                .enumerate()
                .map(|(l, name)| {
                    let points = positive(&result.widths, table.iter().map(|w| w[t][l]));
                    Series {
                        name: with_slope(name, &points),
                        points,
                    }
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            Figure::Line(LinePlot {
                title: format!("{title}, t = {}", t + 1),
                x_label: "hidden width n (log scale)".into(),
                y_label: y_label.into(),
                x_scale: Scale::Log,
                y_scale: Scale::Log,
                series,
            })
        })
        .collect()
}

/// The `mup` coordinate check: mean |x_t| of every layer output vs width, one panel per step.
pub fn coordinate_check(result: &CoordCheckResult) -> Result<Vec<Figure>> {
    let steps = result.act_size.first().map_or(0, Vec::len);
    Ok(per_step(
        result,
        &result.act_size,
        0..steps,
        "Coordinate size",
        "mean |x_t| (log scale)",
    ))
}

/// The change since initialization, mean |x_t - x_1|, for steps t >= 2.
pub fn coordinate_change(result: &CoordCheckResult) -> Result<Vec<Figure>> {
    let steps = result.delta_size.first().map_or(0, Vec::len);
    Ok(per_step(
        result,
        &result.delta_size,
        1.min(steps)..steps,
        "Change since init",
        "mean |x_t - x_1| (log scale)",
    ))
}

/// Relative feature and kernel movement after training vs width.
pub fn movement(result: &CoordCheckResult) -> Result<Vec<Figure>> {
    let feature = positive(&result.widths, result.feature_movement.iter().copied());
    let kernel = positive(&result.widths, result.kernel_movement.iter().copied());
    Ok(vec![Figure::Line(LinePlot {
        title: "Feature and kernel movement".into(),
        x_label: "hidden width n (log scale)".into(),
        y_label: "relative change after training (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        series: vec![
            Series {
                name: with_slope("features ||h_T - h_1|| / ||h_1||", &feature),
                points: feature,
            },
            Series {
                name: with_slope("NTK ||Theta_T - Theta_1|| / ||Theta_1||", &kernel),
                points: kernel,
            },
        ]
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect(),
    })])
}

/// Training loss after T steps vs log2 of the learning rate, one curve per width, and the best
/// rate of each width marked: one panel per sweep (e.g. SP beside muP).
pub fn lr_transfer(results: &[&LrTransferResult]) -> Result<Vec<Figure>> {
    Ok(results
        .iter()
        .map(|r| {
            let mut series: Vec<Series> = r
                .widths
                .iter()
                .zip(&r.loss)
                .map(|(n, row)| Series {
                    name: format!("width {n}"),
                    points: r
                        .log2_lrs
                        .iter()
                        .zip(row)
                        .filter_map(|(&lr, l)| l.filter(|l| *l > 0.0).map(|l| (lr as f64, l)))
                        .collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            let best: Vec<(f64, f64)> = r
                .argmin
                .iter()
                .zip(&r.loss)
                .filter_map(|(&i, row)| {
                    row[i]
                        .filter(|l| *l > 0.0)
                        .map(|l| (r.log2_lrs[i] as f64, l))
                })
                .collect();
            if !best.is_empty() {
                series.push(Series {
                    name: "best rate per width".into(),
                    points: best,
                });
            }
            let name = match r.config.parametrization {
                Parametrization::Sp => "SP",
                Parametrization::Ntk => "NTK",
                Parametrization::Mup => "muP",
                Parametrization::MeanField => "mean field",
                Parametrization::Custom(_) => "abc",
            };
            Figure::Line(LinePlot {
                title: format!("{name}: loss after {} steps", r.config.steps),
                x_label: "log2 learning rate".into(),
                y_label: "training loss, MSE (log scale)".into(),
                x_scale: Scale::Linear,
                y_scale: Scale::Log,
                series,
            })
        })
        .collect())
}
