//! Figures of the Connectivity room: loss and error along the straight path, naive beside
//! matched, with the quadratic the midpoint curvature predicts; B's singular values before and
//! after matching and the alignment of A's and B's singular vectors; each hidden layer's
//! permutation as an assignment matrix; the barrier against width or spawn step.

use crate::error::Result;
use crate::experiments::FigureData;
use crate::experiments::connectivity::lmc::{LmcResult, Pair};
use crate::experiments::connectivity::sweep::{LmcSweepResult, MeanStderr, SweepAxis};
use crate::plot::{Figure, Heatmap, LinePlot, Scale, Series};
use std::fmt::Write;

fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
    }
}

fn line(title: String, x_label: &str, y_label: &str) -> LinePlot {
    LinePlot {
        title,
        x_label: x_label.into(),
        y_label: y_label.into(),
        ..LinePlot::default()
    }
}

/// Most permutation matrices drawn (one panel per hidden layer).
const MAX_PERMUTATION_PANELS: usize = 3;

/// Every figure of one pair, in the order the page shows them.
pub fn figures(r: &LmcResult) -> Result<Vec<FigureData>> {
    if r.train_loss.naive.is_empty() {
        return Ok(Vec::new());
    }
    let mut all = vec![FigureData {
        stem: "path",
        panels: path(r),
        panel_size: (340, 340),
        csv: path_csv(r),
    }];
    if !r.layers.is_empty() {
        all.push(FigureData {
            stem: "spectra",
            panels: spectra(r),
            panel_size: (340, 340),
            csv: spectra_csv(r),
        });
    }
    if !r.permutations.is_empty() {
        all.push(FigureData {
            stem: "permutations",
            panels: permutations(r),
            panel_size: (340, 340),
            csv: permutations_csv(r),
        });
    }
    Ok(all)
}

/// The alpha grid zipped with a curve.
fn along(r: &LmcResult, values: &[f64]) -> Vec<(f64, f64)> {
    r.alphas
        .iter()
        .copied()
        .zip(values.iter().copied())
        .collect()
}

/// The quadratic `f(1/2) + c (alpha - 1/2)^2 / 2` of the midpoint curvature `c`, on [0, 1],
/// where it stays above `floor` (a quadratic of a sharp peak would otherwise set the axis).
fn midpoint_quadratic(mid: f64, curvature: f64, floor: f64) -> Vec<(f64, f64)> {
    (0..=40)
        .map(|i| {
            let a = f64::from(i) / 40.0;
            (a, mid + 0.5 * curvature * (a - 0.5).powi(2))
        })
        .filter(|&(_, y)| y >= floor)
        .collect()
}

/// A curve's value at alpha = 1/2 by linear interpolation of the grid.
fn at_half(alphas: &[f64], values: &[f64]) -> f64 {
    let i = alphas.partition_point(|&a| a < 0.5).min(alphas.len() - 1);
    if i == 0 || (alphas[i] - 0.5).abs() < 1e-12 {
        return values[i];
    }
    let t = (0.5 - alphas[i - 1]) / (alphas[i] - alphas[i - 1]);
    values[i - 1] + t * (values[i] - values[i - 1])
}

/// Loss (train, test) and test error along the path; each legend entry names its path's
/// barrier.
pub fn path(r: &LmcResult) -> Vec<Figure> {
    let matching = r.config.matching.to_string();
    let curves = |p: &Pair<Vec<f64>>, barriers: Pair<String>| -> Vec<Series> {
        let mut s = vec![series(
            &format!("naive{}", barriers.naive),
            along(r, &p.naive),
        )];
        if let Some(m) = &p.matched {
            let b = barriers.matched.unwrap_or_default();
            s.push(series(&format!("{matching}-matched{b}"), along(r, m)));
        }
        s
    };
    let loss_barriers = |naive: Option<f64>, matched: Option<f64>| Pair {
        naive: naive.map_or(String::new(), |v| format!(", barrier {v:.3}")),
        matched: matched.map(|m| format!(", barrier {m:.3}")),
    };
    let mut panels = Vec::new();
    let mut train = line(
        "Training loss along the path".into(),
        "α (0: A, 1: B)",
        &format!("{} loss (nats)", r.config.loss),
    );
    train.series = curves(
        &r.train_loss,
        loss_barriers(Some(r.barrier.naive), r.barrier.matched),
    );
    let measured = || {
        train
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.1))
    };
    let (low, high) = measured().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let floor = low - 0.15 * (high - low);
    // The local quadratic of each path's midpoint curvature (the prediction -c/8).
    let mut theory = vec![series(
        &format!("naive -c/8 = {:.3}", r.predicted_barrier.naive),
        midpoint_quadratic(
            at_half(&r.alphas, &r.train_loss.naive),
            r.curvature.naive,
            floor,
        ),
    )];
    if let (Some(m), Some(c), Some(p)) = (
        &r.train_loss.matched,
        r.curvature.matched,
        r.predicted_barrier.matched,
    ) {
        theory.push(series(
            &format!("matched -c/8 = {p:.3}"),
            midpoint_quadratic(at_half(&r.alphas, m), c, floor),
        ));
    }
    train.theory = theory;
    panels.push(Figure::Line(train));
    if !r.test_loss.naive.is_empty() {
        let mut test = line(
            "Test loss along the path".into(),
            "α (0: A, 1: B)",
            &format!("{} loss (nats)", r.config.loss),
        );
        let barriers = loss_barriers(r.test_barrier.naive, r.test_barrier.matched.flatten());
        test.series = curves(&r.test_loss, barriers);
        panels.push(Figure::Line(test));
    }
    let (error, which) = if r.test_error.naive.is_empty() {
        (&r.train_error, "Training")
    } else {
        (&r.test_error, "Test")
    };
    if !error.naive.is_empty() {
        let mut err = line(
            format!("{which} error along the path"),
            "α (0: A, 1: B)",
            "error (%)",
        );
        let pct = |p: &Pair<Vec<f64>>| Pair {
            naive: p.naive.iter().map(|e| 100.0 * e).collect(),
            matched: p
                .matched
                .as_ref()
                .map(|m| m.iter().map(|e| 100.0 * e).collect()),
        };
        let barrier =
            |b: Option<f64>| b.map_or(String::new(), |b| format!(", barrier {:.1} %", 100.0 * b));
        let barriers = Pair {
            naive: barrier(r.error_barrier.naive),
            matched: r.error_barrier.matched.map(barrier),
        };
        err.series = curves(&pct(error), barriers);
        panels.push(Figure::Line(err));
    }
    panels
}

/// The CSV of [`path`]: the curves on the grid, and the dashed quadratics
/// `f(1/2) + c (alpha - 1/2)^2 / 2` of the exact midpoint curvature `c = Delta^T H Delta` on the
/// same grid.
pub fn path_csv(r: &LmcResult) -> String {
    let quadratic = |values: &[f64], c: f64| -> Vec<f64> {
        let mid = at_half(&r.alphas, values);
        r.alphas
            .iter()
            .map(|a| mid + 0.5 * c * (a - 0.5).powi(2))
            .collect()
    };
    let quadratics = Pair {
        naive: quadratic(&r.train_loss.naive, r.curvature.naive),
        matched: r
            .train_loss
            .matched
            .as_ref()
            .zip(r.curvature.matched)
            .map(|(m, c)| quadratic(m, c)),
    };
    let columns: [(&str, &Pair<Vec<f64>>); 5] = [
        ("train_loss", &r.train_loss),
        ("test_loss", &r.test_loss),
        ("train_error", &r.train_error),
        ("test_error", &r.test_error),
        ("midpoint_quadratic", &quadratics),
    ];
    let mut csv = String::from("alpha");
    for (name, _) in &columns {
        let _ = write!(csv, ",{name}_naive,{name}_matched");
    }
    csv.push('\n');
    let cell = |v: Option<&f64>| v.map_or(String::new(), f64::to_string);
    for (i, a) in r.alphas.iter().enumerate() {
        let _ = write!(csv, "{a}");
        for (_, p) in &columns {
            let m = p.matched.as_ref().and_then(|m| m.get(i));
            let _ = write!(csv, ",{},{}", cell(p.naive.get(i)), cell(m));
        }
        csv.push('\n');
    }
    csv
}

/// The layer the spectra figure shows: the middle one (for depth 2, the hidden-to-hidden
/// layer, permuted on both sides).
fn shown_layer(r: &LmcResult) -> usize {
    r.layers.len() / 2
}

/// B's singular values naive beside matched (identical: the naive ones dashed as the
/// prediction) and the `|cos|` of A's and B's top singular vectors.
pub fn spectra(r: &LmcResult) -> Vec<Figure> {
    let l = shown_layer(r);
    let layer = &r.layers[l];
    let index = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, &s)| ((i + 1) as f64, s))
            .collect()
    };
    let positive = |v: &[f64]| -> Vec<f64> { v.iter().map(|&s| s.max(1e-300)).collect() };
    let mut values = line(
        format!(
            "Singular values of W_{} (layer {} of {})",
            l + 1,
            l + 1,
            r.layers.len()
        ),
        "index i (descending)",
        "singular value σ_i (log scale)",
    );
    values.y_scale = Scale::Log;
    values.series = vec![series("A", index(&positive(&layer.singular_values_a)))];
    match &layer.singular_values_b.matched {
        Some(m) => {
            values.markers = vec![series("B matched", index(&positive(m)))];
            values.theory = vec![series(
                "B as trained (same values)",
                index(&positive(&layer.singular_values_b.naive)),
            )];
        }
        None => values.series.push(series(
            "B",
            index(&positive(&layer.singular_values_b.naive)),
        )),
    }
    let cosines = |title: &str, p: &Pair<Vec<f64>>| {
        let mut plot = line(
            format!("{title} of W_{}: A vs B", l + 1),
            "index i (descending σ)",
            "|cos(A_i, B_i)|",
        );
        plot.series = vec![series("naive", index(&p.naive))];
        if let Some(m) = &p.matched {
            plot.series.push(series("matched", index(m)));
        }
        Figure::Line(plot)
    };
    vec![
        Figure::Line(values),
        cosines("Left singular vectors", &layer.left_cosines),
        cosines("Right singular vectors", &layer.right_cosines),
    ]
}

/// The CSV of [`spectra`], every layer.
pub fn spectra_csv(r: &LmcResult) -> String {
    let mut csv = String::from(
        "layer,index,sigma_a,sigma_b_naive,sigma_b_matched,left_cos_naive,left_cos_matched,right_cos_naive,right_cos_matched\n",
    );
    let cell = |v: Option<&f64>| v.map_or(String::new(), f64::to_string);
    for (l, s) in r.layers.iter().enumerate() {
        for i in 0..s.singular_values_a.len() {
            let m = |p: &Pair<Vec<f64>>| cell(p.matched.as_ref().and_then(|m| m.get(i)));
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{}",
                l + 1,
                i + 1,
                s.singular_values_a[i],
                cell(s.singular_values_b.naive.get(i)),
                m(&s.singular_values_b),
                cell(s.left_cosines.naive.get(i)),
                m(&s.left_cosines),
                cell(s.right_cosines.naive.get(i)),
                m(&s.right_cosines),
            );
        }
    }
    csv
}

/// Each hidden layer's permutation as a 0/1 assignment matrix (row j: A's unit j; column: the
/// unit of B it is matched with).
pub fn permutations(r: &LmcResult) -> Vec<Figure> {
    r.permutations
        .iter()
        .take(MAX_PERMUTATION_PANELS)
        .enumerate()
        .map(|(l, p)| {
            let n = p.len();
            let mut values = vec![0.0; n * n];
            for (j, &k) in p.iter().enumerate() {
                values[j * n + k] = 1.0;
            }
            Figure::Heatmap(Heatmap {
                title: format!("Hidden layer {}: assignment A ← B", l + 1),
                x_label: "unit of B".into(),
                y_label: "unit of A".into(),
                x_range: (0.0, n as f64),
                y_range: (0.0, n as f64),
                nx: n,
                ny: n,
                values,
                colorbar_label: "P[j, k] (1: matched)".into(),
                overlay: Vec::new(),
                contours: Vec::new(),
                lines: Vec::new(),
            })
        })
        .collect()
}

/// The CSV of [`permutations`], every layer.
pub fn permutations_csv(r: &LmcResult) -> String {
    let mut csv = String::from("layer,unit_a,unit_b\n");
    for (l, p) in r.permutations.iter().enumerate() {
        for (j, k) in p.iter().enumerate() {
            let _ = writeln!(csv, "{},{j},{k}", l + 1);
        }
    }
    csv
}

/// The sweep's figure: loss barrier and error barrier against the swept value, naive beside
/// matched, one standard error as bars, and zero (linear connectivity) dashed.
pub fn sweep_figures(r: &LmcSweepResult) -> Result<Vec<FigureData>> {
    if r.values.is_empty() {
        return Ok(Vec::new());
    }
    let (x_label, x_scale, stem, what) = match r.config.axis {
        SweepAxis::Width => (
            "hidden width n (log scale)",
            Scale::Log,
            "barrier-vs-width",
            "width",
        ),
        SweepAxis::Spawn => (
            "spawn step k (SGD steps)",
            Scale::Linear,
            "barrier-vs-spawn",
            "spawn step",
        ),
    };
    let xs: Vec<f64> = r.values.iter().map(|&v| v as f64).collect();
    let points = |s: &[MeanStderr]| -> Vec<(f64, f64)> {
        xs.iter().copied().zip(s.iter().map(|m| m.mean)).collect()
    };
    let bars =
        |s: &[MeanStderr]| -> Vec<f64> { s.iter().map(|m| m.stderr.unwrap_or(0.0)).collect() };
    let zero = vec![(xs[0], 0.0), (xs[xs.len() - 1], 0.0)];
    let pairs = r.config.pairs;
    let panel =
        |title: String, y_label: &str, naive: &[MeanStderr], matched: &[MeanStderr], scale: f64| {
            let scaled = |s: &[MeanStderr]| -> Vec<MeanStderr> {
                s.iter()
                    .map(|m| MeanStderr {
                        mean: scale * m.mean,
                        stderr: m.stderr.map(|e| scale * e),
                    })
                    .collect()
            };
            let (naive, matched) = (scaled(naive), scaled(matched));
            let mut plot = line(title, x_label, y_label);
            plot.x_scale = x_scale;
            plot.series = vec![
                series("naive", points(&naive)),
                series("weight-matched", points(&matched)),
            ];
            plot.errors = vec![bars(&naive), bars(&matched)];
            plot.theory = vec![series("0: linearly connected", zero.clone())];
            Figure::Line(plot)
        };
    let bar_note = if pairs > 1 {
        format!("mean ± 1 s.e. of {pairs} pairs")
    } else {
        "1 pair".into()
    };
    let panels = vec![
        panel(
            format!("Loss barrier vs {what} ({bar_note})"),
            "training-loss barrier (nats)",
            &r.naive,
            &r.matched,
            1.0,
        ),
        panel(
            format!("Error barrier vs {what} ({bar_note})"),
            "test-error barrier (%)",
            &r.error_naive,
            &r.error_matched,
            100.0,
        ),
    ];
    let mut csv = String::from(
        "value,pair,barrier_naive,barrier_matched,error_barrier_naive,error_barrier_matched\n",
    );
    for (i, v) in r.values.iter().enumerate() {
        for p in 0..r.barrier_naive[i].len() {
            let get = |rows: &[Vec<f64>]| rows[i].get(p).map_or(String::new(), f64::to_string);
            let _ = writeln!(
                csv,
                "{v},{p},{},{},{},{}",
                get(&r.barrier_naive),
                get(&r.barrier_matched),
                get(&r.error_barrier_naive),
                get(&r.error_barrier_matched)
            );
        }
    }
    Ok(vec![FigureData {
        stem,
        panels,
        panel_size: (420, 340),
        csv,
    }])
}
