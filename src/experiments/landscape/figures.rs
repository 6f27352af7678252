//! Figures of the Landscape room: the loss on a plane with the training trajectory, 1-D slices
//! beside the quadratic model of exact Hessian-vector products, the Hessian's top eigenvalues
//! and spectral density (whole and per layer), sharpness against 2/eta, and accuracy against
//! subspace dimension.

use crate::core::loss::Loss;
use crate::error::Result;
use crate::experiments::FigureData;
use crate::experiments::landscape::intrinsic::{IntrinsicResult, THRESHOLD};
use crate::experiments::landscape::sharpness::SharpnessResult;
use crate::experiments::landscape::spectrum::{Density, SpectrumResult};
use crate::experiments::landscape::surface::SurfaceResult;
use crate::plot::{Figure, Heatmap, LinePlot, Scale, Series, Surface};
use std::fmt::Write;

fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
    }
}

fn line(title: &str, x_label: &str, y_label: &str) -> LinePlot {
    LinePlot {
        title: title.into(),
        x_label: x_label.into(),
        y_label: y_label.into(),
        ..LinePlot::default()
    }
}

/// Densities are drawn down to this fraction of their peak on the log axis, and clamped there
/// (the Gaussian tails of the broadening underflow to 0 between separated eigenvalues).
const DENSITY_FLOOR: f64 = 1e-5;

/// The plane's axis labels.
fn axis_labels(r: &SurfaceResult) -> (String, String) {
    match r.plane.as_ref().and_then(|p| p.explained_variance) {
        Some([e1, e2]) => (
            format!("PC 1 ({:.0}% of variance)", 100.0 * e1),
            format!("PC 2 ({:.0}% of variance)", 100.0 * e2),
        ),
        None => (
            "α along d₁ (filter-normalized)".into(),
            "β along d₂ (filter-normalized)".into(),
        ),
    }
}

/// A loss axis's label: cross-entropy in nats, or the mean squared error.
fn loss_axis(loss: Loss, log: bool) -> &'static str {
    match (loss, log) {
        (Loss::CrossEntropy, false) => "cross-entropy loss (nats)",
        (Loss::CrossEntropy, true) => "cross-entropy loss (nats, log scale)",
        (Loss::Mse, false) => "mean squared error",
        (Loss::Mse, true) => "mean squared error (log scale)",
    }
}

/// The surface's figures: the plane (loss, and accuracy or test loss) with the trajectory, and
/// the 1-D slices beside the quadratic model.
pub fn surface_figures(r: &SurfaceResult) -> Result<Vec<FigureData>> {
    if r.train_loss.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![
        FigureData {
            stem: "plane",
            panels: plane(r),
            // Wide enough beside the colour bar for three ticks on the x axis.
            panel_size: (460, 380),
            csv: plane_csv(r),
        },
        FigureData {
            stem: "surface",
            panels: vec![surface(r)],
            panel_size: (520, 440),
            csv: plane_csv(r),
        },
        FigureData {
            stem: "slices",
            panels: slices(r),
            panel_size: (380, 340),
            csv: slices_csv(r),
        },
    ])
}

/// The loss (log10) on the plane, and the training accuracy, with the trajectory drawn on both.
pub fn plane(r: &SurfaceResult) -> Vec<Figure> {
    let (x_label, y_label) = axis_labels(r);
    let m = r.grid;
    let (lo, hi) = (r.axis[0], r.axis[m - 1]);
    let half_cell = (hi - lo) / (2.0 * (m - 1) as f64);
    let range = (lo - half_cell, hi + half_cell);
    let trajectory: Vec<(f64, f64)> = r.trajectory.iter().map(|p| (p[0], p[1])).collect();
    let inside = |p: &(f64, f64)| p.0.abs() <= range.1 && p.1.abs() <= range.1;
    let lines = if trajectory.len() >= 2 && trajectory.iter().all(inside) {
        vec![series("training trajectory (init → solution)", trajectory)]
    } else {
        Vec::new()
    };
    let solution = vec![series("solution θ*", vec![(0.0, 0.0)])];
    let map = |title: &str, values: Vec<f64>, label: &str| {
        let step = contour_step(&values);
        let contours = contour_segments(&r.axis, &values, step);
        Figure::Heatmap(Heatmap {
            contours,
            title: title.into(),
            x_label: x_label.clone(),
            y_label: y_label.clone(),
            x_range: range,
            y_range: range,
            nx: m,
            ny: m,
            values,
            colorbar_label: label.into(),
            overlay: solution.clone(),
            lines: lines.clone(),
        })
    };
    // Relative to the plane's minimum, so the colour map is one-signed (viridis: dark = low)
    // and a decade is a decade wherever it is.
    let min = r
        .train_loss
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-300);
    let log_loss = r
        .train_loss
        .iter()
        .map(|v| (v.max(1e-300) / min).log10())
        .collect();
    let mut panels = vec![map(
        &format!("Training loss on the plane (min {min:.3})"),
        log_loss,
        "log₁₀(training loss / min)",
    )];
    if !r.train_accuracy.is_empty() {
        panels.push(map(
            "Training accuracy on the plane",
            r.train_accuracy.iter().map(|a| 100.0 * a).collect(),
            "training accuracy (%)",
        ));
    }
    panels
}

/// A level spacing giving about eight contours over the values' range: 1, 2 or 5 times a
/// power of ten.
pub fn contour_step(values: &[f64]) -> f64 {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let raw = (hi - lo) / 8.0;
    if !(raw.is_finite() && raw > 0.0) {
        return 0.0;
    }
    let decade = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * decade)
}

/// Level curves of a field on the grid `axis x axis` (values `j * m + i` at `(axis[i],
/// axis[j])`) at every multiple of `step`, by marching squares: each cell crossed by a level
/// gives a segment between the linearly interpolated crossings on its edges (a saddle cell
/// gives two, paired by the cell's centre value).
pub fn contour_segments(axis: &[f64], values: &[f64], step: f64) -> Vec<Series> {
    let m = axis.len();
    if step <= 0.0 || m < 2 || values.len() != m * m {
        return Vec::new();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let mut segments = Vec::new();
    let mut level = (lo / step).floor() * step + step;
    while level < hi {
        for j in 0..m - 1 {
            for i in 0..m - 1 {
                // Corners counter-clockwise from bottom-left, with their positions.
                let corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)];
                let v: Vec<f64> = corners.iter().map(|&(a, b)| values[b * m + a]).collect();
                let p: Vec<(f64, f64)> = corners.iter().map(|&(a, b)| (axis[a], axis[b])).collect();
                let mut crossings = Vec::new();
                for e in 0..4 {
                    let (a, b) = (e, (e + 1) % 4);
                    if (v[a] < level) != (v[b] < level) {
                        let t = (level - v[a]) / (v[b] - v[a]);
                        crossings.push((
                            p[a].0 + t * (p[b].0 - p[a].0),
                            p[a].1 + t * (p[b].1 - p[a].1),
                        ));
                    }
                }
                if crossings.len() == 4 {
                    // A saddle: pair the crossings so the centre's side stays connected.
                    let centre = v.iter().sum::<f64>() / 4.0;
                    if (centre < level) == (v[0] < level) {
                        crossings.swap(1, 3);
                    }
                }
                for pair in crossings.chunks(2) {
                    if pair.len() == 2 {
                        segments.push(series("", vec![pair[0], pair[1]]));
                    }
                }
            }
        }
        level += step;
    }
    segments
}

/// The training loss over the plane as a 3-D surface (height log10 of loss over its minimum,
/// as the plane's colours), seen from the side of the first direction's negative end.
pub fn surface(r: &SurfaceResult) -> Figure {
    let (x_label, y_label) = axis_labels(r);
    let min = r
        .train_loss
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-300);
    Figure::Surface(Surface {
        title: "Training loss as a surface".into(),
        caption: format!("{x_label} (left), {y_label} (right); height log₁₀(loss / min)"),
        x: r.axis.clone(),
        y: r.axis.clone(),
        values: r
            .train_loss
            .iter()
            .map(|v| (v.max(1e-300) / min).log10())
            .collect(),
        yaw: 0.7,
        pitch: 0.5,
    })
}

/// The plane's numbers: one row per grid point.
pub fn plane_csv(r: &SurfaceResult) -> String {
    let mut csv = String::from("a,b,train_loss,train_accuracy,test_loss,test_accuracy\n");
    let m = r.grid;
    let get = |v: &Vec<f64>, p: usize| v.get(p).map_or(String::new(), |x| x.to_string());
    for j in 0..m {
        for i in 0..m {
            let p = j * m + i;
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                r.axis[i],
                r.axis[j],
                r.train_loss[p],
                get(&r.train_accuracy, p),
                get(&r.test_loss, p),
                get(&r.test_accuracy, p)
            );
        }
    }
    csv
}

/// The quadratic model `L* + a g.d + a^2 d^T H d / 2` on the slice's coordinates, where it stays
/// within the measured range (beyond it a parabola would only set the axis).
fn quadratic_curve(coords: &[f64], q: [f64; 3], measured: &[f64]) -> Vec<(f64, f64)> {
    let (lo, hi) = measured
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &y| {
            (l.min(y), h.max(y))
        });
    let pad = 0.1 * (hi - lo);
    let (first, last) = (coords[0], coords[coords.len() - 1]);
    (0..=100)
        .map(|i| {
            let a = first + (last - first) * f64::from(i) / 100.0;
            (a, q[0] + a * q[1] + 0.5 * a * a * q[2])
        })
        .filter(|&(_, y)| y >= lo - pad && y <= hi + pad)
        .collect()
}

/// The 1-D slices through the solution along each direction, with the quadratic model.
pub fn slices(r: &SurfaceResult) -> Vec<Figure> {
    let (x1, x2) = axis_labels(r);
    [x1, x2]
        .iter()
        .enumerate()
        .map(|(k, x_label)| {
            let s = &r.slices[k];
            let mut plot = line(
                &format!("Loss along direction {}", k + 1),
                x_label,
                loss_axis(r.config.problem.loss, false),
            );
            let points = |v: &[f64]| s.coords.iter().copied().zip(v.iter().copied()).collect();
            plot.series
                .push(series("training loss", points(&s.train_loss)));
            if !s.test_loss.is_empty() {
                plot.series.push(series("test loss", points(&s.test_loss)));
            }
            if let Some(&q) = r.quadratic.get(k) {
                let curve = quadratic_curve(&s.coords, q, &s.train_loss);
                if curve.len() >= 2 {
                    plot.theory.push(series(
                        &format!("quadratic model, dᵀHd = {:.3}", q[2]),
                        curve,
                    ));
                }
            }
            Figure::Line(plot)
        })
        .collect()
}

/// The slices' numbers.
pub fn slices_csv(r: &SurfaceResult) -> String {
    let mut csv = String::from("direction,coordinate,train_loss,test_loss,quadratic_model\n");
    for (k, s) in r.slices.iter().enumerate() {
        for (i, &a) in s.coords.iter().enumerate() {
            let q = r.quadratic.get(k).map_or(String::new(), |q| {
                (q[0] + a * q[1] + 0.5 * a * a * q[2]).to_string()
            });
            let test = s.test_loss.get(i).map_or(String::new(), |x| x.to_string());
            let _ = writeln!(csv, "{},{a},{},{test},{q}", k + 1, s.train_loss[i]);
        }
    }
    csv
}

/// A density as drawable points, clamped below at [`DENSITY_FLOOR`] times the peak.
fn density_points(d: &Density) -> Vec<(f64, f64)> {
    let peak = d.values.iter().copied().fold(0.0, f64::max);
    d.grid
        .iter()
        .copied()
        .zip(d.values.iter().map(|&v| v.max(DENSITY_FLOOR * peak)))
        .collect()
}

/// The spectrum's figures: top eigenvalues (full batch beside mini-batch) and the density;
/// per-layer top eigenvalues and densities.
pub fn spectrum_figures(r: &SpectrumResult) -> Result<Vec<FigureData>> {
    if r.eigenvalues.is_empty() {
        return Ok(Vec::new());
    }
    let mut all = vec![FigureData {
        stem: "spectrum",
        panels: spectrum(r),
        panel_size: (380, 340),
        csv: spectrum_csv(r),
    }];
    if !r.layers.is_empty() {
        all.push(FigureData {
            stem: "layer-spectra",
            panels: layer_spectra(r),
            panel_size: (380, 340),
            csv: layer_csv(r),
        });
    }
    Ok(all)
}

/// Top eigenvalues with their Ritz residuals as bars, and the SLQ density.
pub fn spectrum(r: &SpectrumResult) -> Vec<Figure> {
    let ranked = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, &x)| ((i + 1) as f64, x))
            .collect()
    };
    let mut top = line(
        "Top Hessian eigenvalues",
        "rank i",
        "eigenvalue λᵢ (loss per unit² of θ)",
    );
    top.series.push(series(
        &format!("full batch ({} samples)", r.samples),
        ranked(&r.eigenvalues),
    ));
    top.errors.push(r.residuals.clone());
    let all_positive = r
        .eigenvalues
        .iter()
        .chain(&r.minibatch_eigenvalues)
        .chain(r.trace.as_slice())
        .all(|&x| x > 0.0);
    if all_positive {
        top.y_scale = Scale::Log;
        top.y_label = "eigenvalue λᵢ (log scale)".into();
    }
    if !r.minibatch_eigenvalues.is_empty() {
        top.series.push(series(
            &format!("mini-batch of {}", r.config.minibatch),
            ranked(&r.minibatch_eigenvalues),
        ));
        top.errors.push(Vec::new());
    }
    if let (Some(trace), true) = (r.trace, r.params > 0) {
        let mean = trace / r.params as f64;
        top.theory.push(series(
            &format!("mean eigenvalue tr H / D = {mean:.2e}"),
            vec![(1.0, mean), (r.eigenvalues.len() as f64, mean)],
        ));
    }
    let mut panels = vec![Figure::Line(top)];
    if let Some(d) = &r.density {
        let mut plot = line(
            "Spectral density (SLQ)",
            "eigenvalue λ",
            "density (log; floor 10⁻⁵ of peak)",
        );
        plot.y_scale = Scale::Log;
        plot.series.push(series(
            &format!(
                "{} probes × {} Lanczos steps",
                r.config.density_probes, r.config.iterations
            ),
            density_points(d),
        ));
        let peak = d.values.iter().copied().fold(0.0, f64::max);
        plot.markers.push(series(
            "top-k eigenvalues (Lanczos)",
            r.eigenvalues.iter().map(|&l| (l, peak * 1e-3)).collect(),
        ));
        panels.push(Figure::Line(plot));
    }
    panels
}

/// Eigenvalues, residuals, trace and density.
pub fn spectrum_csv(r: &SpectrumResult) -> String {
    let mut csv = String::from("kind,index_or_lambda,value,error\n");
    for (i, (l, e)) in r.eigenvalues.iter().zip(&r.residuals).enumerate() {
        let _ = writeln!(csv, "eigenvalue,{},{l},{e}", i + 1);
    }
    for (i, l) in r.minibatch_eigenvalues.iter().enumerate() {
        let _ = writeln!(csv, "minibatch_eigenvalue,{},{l},", i + 1);
    }
    if let (Some(t), Some(e)) = (r.trace, r.trace_stderr) {
        let _ = writeln!(csv, "trace,,{t},{e}");
    }
    if let Some(d) = &r.density {
        for (x, v) in d.grid.iter().zip(&d.values) {
            let _ = writeln!(csv, "density,{x},{v},");
        }
    }
    csv
}

/// Per layer: the top eigenvalues, and the one-probe densities.
pub fn layer_spectra(r: &SpectrumResult) -> Vec<Figure> {
    let mut top = line(
        "Top eigenvalues of each layer's block",
        "rank i",
        "eigenvalue of H_ll (log scale)",
    );
    let positive = r
        .layers
        .iter()
        .all(|l| l.eigenvalues.iter().all(|&x| x > 0.0));
    if positive {
        top.y_scale = Scale::Log;
    }
    for l in &r.layers {
        top.series.push(series(
            &l.name,
            l.eigenvalues
                .iter()
                .enumerate()
                .map(|(i, &x)| ((i + 1) as f64, x))
                .collect(),
        ));
    }
    let mut density = line(
        "Each layer's spectral density",
        "eigenvalue λ of H_ll",
        "density (log; floor 10⁻⁵ of peak)",
    );
    density.y_scale = Scale::Log;
    for l in &r.layers {
        density
            .series
            .push(series(&l.name, density_points(&l.density)));
    }
    vec![Figure::Line(top), Figure::Line(density)]
}

/// Per-layer numbers.
pub fn layer_csv(r: &SpectrumResult) -> String {
    let mut csv = String::from("layer,kind,index_or_lambda,value\n");
    for l in &r.layers {
        for (i, x) in l.eigenvalues.iter().enumerate() {
            let _ = writeln!(csv, "{},eigenvalue,{},{x}", l.name, i + 1);
        }
        for (x, v) in l.density.grid.iter().zip(&l.density.values) {
            let _ = writeln!(csv, "{},density,{x},{v}", l.name);
        }
    }
    csv
}

/// Sharpness against step with each rate's `2/eta` (or `(2 + 2 beta)/eta`) dashed, and the
/// training loss.
pub fn sharpness_figures(r: &SharpnessResult) -> Result<Vec<FigureData>> {
    // A run that diverged before its second measurement stays (one marker, "diverged" in its
    // legend entry): above the threshold is the interesting case.
    let runs: Vec<_> = r.runs.iter().filter(|c| !c.sharpness.is_empty()).collect();
    if runs.is_empty() {
        return Ok(Vec::new());
    }
    let threshold_name = if r.config.momentum > 0.0 {
        "(2 + 2β)/η"
    } else {
        "2/η"
    };
    let mut sharp = line(
        "Sharpness during full-batch GD",
        "gradient-descent step",
        "top Hessian eigenvalue λ₁",
    );
    let mut loss = line(
        "Training loss",
        "gradient-descent step",
        loss_axis(r.config.problem.loss, true),
    );
    loss.y_scale = Scale::Log;
    let last = r.config.steps as f64;
    for c in &runs {
        let diverged = c
            .diverged_at
            .map_or(String::new(), |s| format!(", diverged at {s}"));
        let name = format!("η = {}{diverged}", c.lr);
        sharp.series.push(series(
            &name,
            c.steps
                .iter()
                .map(|&s| s as f64)
                .zip(c.sharpness.iter().copied())
                .collect(),
        ));
        sharp.theory.push(series(
            &format!("{threshold_name} = {:.3} (η = {})", c.threshold, c.lr),
            vec![(0.0, c.threshold), (last, c.threshold)],
        ));
        let points: Vec<(f64, f64)> = c
            .loss
            .iter()
            .enumerate()
            .filter(|(_, l)| **l > 0.0 && l.is_finite())
            .map(|(i, &l)| (i as f64, l))
            .collect();
        if points.len() >= 2 {
            loss.series.push(series(&name, points));
        }
    }
    let mut panels = vec![Figure::Line(sharp)];
    if !loss.series.is_empty() {
        panels.push(Figure::Line(loss));
    }
    let mut csv = String::from("lr,threshold,step,sharpness,loss\n");
    for c in &r.runs {
        for (i, l) in c.loss.iter().enumerate() {
            let s = c
                .steps
                .iter()
                .position(|&s| s == i)
                .map_or(String::new(), |k| c.sharpness[k].to_string());
            let _ = writeln!(csv, "{},{},{i},{s},{l}", c.lr, c.threshold);
        }
    }
    Ok(vec![FigureData {
        stem: "sharpness",
        panels,
        // Tall enough that the six-entry legend fits above the thresholds (the headroom is
        // capped at 45% of the plot).
        panel_size: (400, 430),
        csv,
    }])
}

/// Accuracy against subspace dimension (log scale) with the full-space baseline and 90% of it.
pub fn intrinsic_figures(r: &IntrinsicResult) -> Result<Vec<FigureData>> {
    let Some(base) = r.baseline_accuracy else {
        return Ok(Vec::new());
    };
    if r.dims.is_empty() {
        return Ok(Vec::new());
    }
    let on = if r.on_test { "test" } else { "training" };
    let mut plot = line(
        "Training in a random subspace",
        "subspace dimension d (log scale)",
        &format!("{on} accuracy (%)"),
    );
    plot.x_scale = Scale::Log;
    let found = r
        .d_int90
        .map_or("not reached".into(), |d| format!("d_int90 = {d}"));
    plot.series.push(series(
        &format!("subspace training ({found}, D = {})", r.params),
        r.dims
            .iter()
            .map(|&d| d as f64)
            .zip(r.accuracy.iter().map(|a| 100.0 * a))
            .collect(),
    ));
    let (first, last) = (
        r.config.dims[0] as f64,
        r.config.dims[r.config.dims.len() - 1] as f64,
    );
    plot.theory.push(series(
        &format!("full space: {:.1}%", 100.0 * base),
        vec![(first, 100.0 * base), (last, 100.0 * base)],
    ));
    plot.theory.push(series(
        &format!("{:.0}% of full space", 100.0 * THRESHOLD),
        vec![
            (first, 100.0 * THRESHOLD * base),
            (last, 100.0 * THRESHOLD * base),
        ],
    ));
    let mut csv = String::from("d,train_loss,accuracy,baseline_accuracy\n");
    for ((d, l), a) in r.dims.iter().zip(&r.train_loss).zip(&r.accuracy) {
        let _ = writeln!(csv, "{d},{l},{a},{base}");
    }
    Ok(vec![FigureData {
        stem: "intrinsic-dim",
        panels: vec![Figure::Line(plot)],
        panel_size: (460, 360),
        csv,
    }])
}
