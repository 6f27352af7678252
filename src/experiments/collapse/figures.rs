//! Figures of the Collapse room: NC1-NC4 against epoch, the features' projection onto the
//! class means' plane, the Gram matrix of the normalized class means beside the simplex ETF's,
//! and class norms against class size beside Dang et al.'s closed form.

use crate::core::collapse::NcMetrics;
use crate::core::collapse::{local_product, norms_of_product, ufm_norms_at};
use crate::core::loss::Loss;
use crate::error::Result;
use crate::experiments::collapse::training::CLOSED_FORM_TOLERANCE;
use crate::experiments::collapse::{CollapseResult, Snapshot};
use crate::plot::{Cloud, Figure, Heatmap, LinePlot, Scale, Series, Series3};
use nalgebra::{DMatrix, Matrix3, Vector3};
use std::f64::consts::TAU;
use std::fmt::Write;

/// `(epoch, value)` of the records with a positive value, skipping initialization (epoch 0)
/// so the epoch axis can be logarithmic.
fn positive(r: &CollapseResult, values: &[Option<f64>]) -> Vec<(f64, f64)> {
    r.epochs
        .iter()
        .zip(values)
        .filter_map(|(&e, v)| v.filter(|&v| e > 0 && v > 0.0).map(|v| (e as f64, v)))
        .collect()
}

fn series(name: &str, points: Vec<(f64, f64)>) -> Series {
    Series {
        name: name.into(),
        points,
    }
}

/// The zero-error epoch as a marker on a curve.
fn zero_error_marker(r: &CollapseResult, curve: &[(f64, f64)]) -> Vec<Series> {
    r.zero_error_epoch
        .and_then(|e| curve.iter().find(|p| p.0 >= e as f64).copied())
        .map(|p| {
            vec![series(
                &format!("zero training error (epoch {})", p.0),
                vec![p],
            )]
        })
        .unwrap_or_default()
}

fn title_suffix(r: &CollapseResult) -> String {
    let c = &r.config;
    format!("{}, {}, C = {}", c.dataset, c.loss, c.classes)
}

/// NC1 and NC2 against epoch (the first two panels), NC3 and NC4 (the last two).
fn metric_panels(r: &CollapseResult) -> Vec<Figure> {
    let nc1 = positive(r, &r.nc1);
    let log_panel = |title: String, y_label: &str, series: Vec<Series>, markers| {
        Figure::Line(LinePlot {
            title,
            x_label: "epoch (log scale)".into(),
            y_label: y_label.into(),
            x_scale: Scale::Log,
            y_scale: Scale::Log,
            series,
            markers,
            theory: Vec::new(),
            errors: Vec::new(),
        })
    };
    let error: Vec<(f64, f64)> = r
        .epochs
        .iter()
        .zip(&r.train_accuracy)
        .filter(|(e, _)| **e > 0)
        .map(|(&e, a)| (e as f64, 1.0 - a))
        .collect();
    let nc4: Vec<(f64, f64)> = r
        .epochs
        .iter()
        .zip(&r.nc4)
        .filter_map(|(&e, v)| v.filter(|_| e > 0).map(|v| (e as f64, v)))
        .collect();
    vec![
        log_panel(
            format!("NC1 within-class variability ({})", title_suffix(r)),
            "Tr(Σ_W Σ_B⁺) / C",
            vec![series("NC1", nc1.clone())],
            zero_error_marker(r, &nc1),
        ),
        log_panel(
            "NC2 convergence to a simplex ETF".into(),
            "coefficient of variation, |cos + 1/(C-1)|",
            vec![
                series("equinorm, class means", positive(r, &r.nc2_equinorm_means)),
                series(
                    "equinorm, classifier rows",
                    positive(r, &r.nc2_equinorm_classifier),
                ),
                series("equiangularity", positive(r, &r.nc2_equiangular)),
            ],
            Vec::new(),
        ),
        log_panel(
            "NC3 classifier aligns with the means".into(),
            "‖Wᵀ/‖W‖ − M/‖M‖‖²_F",
            vec![series("NC3", positive(r, &r.nc3))],
            Vec::new(),
        ),
        Figure::Line(LinePlot {
            title: "NC4 nearest class mean decides".into(),
            x_label: "epoch (log scale)".into(),
            y_label: "fraction of training samples".into(),
            x_scale: Scale::Log,
            y_scale: Scale::Linear,
            series: vec![
                series("NC4: argmax(Wh+b) ≠ nearest mean", nc4),
                series("training error", error),
            ],
            markers: Vec::new(),
            theory: Vec::new(),
            errors: Vec::new(),
        }),
    ]
}

/// NC1 and NC2 against epoch.
pub fn variability(r: &CollapseResult) -> Result<Vec<Figure>> {
    Ok(metric_panels(r).into_iter().take(2).collect())
}

/// NC3 and NC4 against epoch.
pub fn duality(r: &CollapseResult) -> Result<Vec<Figure>> {
    Ok(metric_panels(r).into_iter().skip(2).collect())
}

/// The CSV of [`variability`] and [`duality`]: one row per record.
pub fn metrics_csv(r: &CollapseResult) -> String {
    let mut csv = String::from(
        "epoch,nc1,nc2_equinorm_means,nc2_equinorm_classifier,nc2_equiangular,nc2_cos_std,nc3,nc4,train_loss,train_accuracy\n",
    );
    let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for i in 0..r.epochs.len() {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{}",
            r.epochs[i],
            cell(r.nc1[i]),
            cell(r.nc2_equinorm_means[i]),
            cell(r.nc2_equinorm_classifier[i]),
            cell(r.nc2_equiangular[i]),
            cell(r.nc2_cos_std[i]),
            cell(r.nc3[i]),
            cell(r.nc4[i]),
            r.train_loss[i],
            r.train_accuracy[i]
        );
    }
    csv
}

/// The ideal shapes in the projection plane: the circle of the class means' RMS radius
/// (equinorm), and for C = 3 the equilateral triangle through class 0's mean (a simplex ETF of
/// three vectors spans exactly this plane).
fn ideal_in_plane(means: &[(f64, f64)]) -> Vec<Series> {
    let c = means.len();
    let radius = (means.iter().map(|(x, y)| x * x + y * y).sum::<f64>() / c as f64).sqrt();
    if radius <= 0.0 {
        return Vec::new();
    }
    let circle = (0..=64)
        .map(|i| {
            let t = TAU * i as f64 / 64.0;
            (radius * t.cos(), radius * t.sin())
        })
        .collect();
    let mut ideal = vec![series("equinorm circle (RMS mean norm)", circle)];
    if c == 3 {
        let start = means[0].1.atan2(means[0].0);
        let sign = if (means[1].1.atan2(means[1].0) - start).rem_euclid(TAU) < TAU / 2.0 {
            1.0
        } else {
            -1.0
        };
        ideal.push(series(
            "simplex ETF (aligned on class 0)",
            (0..=3)
                .map(|k| {
                    let t = start + sign * TAU * (k % 3) as f64 / 3.0;
                    (radius * t.cos(), radius * t.sin())
                })
                .collect(),
        ));
    }
    ideal
}

/// Record `index` (the last one if past it), or an error before the first record.
fn snapshot_at(r: &CollapseResult, index: usize) -> Result<&Snapshot> {
    let last = r
        .snapshots
        .len()
        .checked_sub(1)
        .ok_or_else(|| crate::error::Error::plot("features", "nothing recorded yet"))?;
    Ok(&r.snapshots[index.min(last)])
}

/// Features and class means at record `index`, on the plane of the means' top two principal
/// directions.
pub fn features(r: &CollapseResult, index: usize) -> Result<Vec<Figure>> {
    let s = snapshot_at(r, index)?;
    let title = format!("Centred features at epoch {}", s.epoch);
    Ok(vec![projection(s, &r.class_sizes, &title)])
}

/// A snapshot's features and means on the plane, with the equinorm circle (and the triangle
/// for C = 3).
fn projection(s: &Snapshot, class_sizes: &[usize], title: &str) -> Figure {
    let mut markers: Vec<Series> = s
        .points
        .iter()
        .enumerate()
        .map(|(k, p)| series(&format!("class {k} (n = {})", class_sizes[k]), p.clone()))
        .collect();
    markers.push(series("class means", s.means.clone()));
    Figure::Line(LinePlot {
        title: title.into(),
        x_label: "1st principal direction of the means".into(),
        y_label: "2nd principal direction".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series: Vec::new(),
        markers,
        theory: ideal_in_plane(&s.means),
        errors: Vec::new(),
    })
}

/// The figure of features made elsewhere (the page's upload): their projection, and their
/// centred means' cosines beside the simplex ETF.
pub fn own_features(
    snapshot: &Snapshot,
    class_sizes: &[usize],
    metrics: &NcMetrics,
) -> Result<Vec<Figure>> {
    let c = class_sizes.len();
    let mut panels = vec![projection(snapshot, class_sizes, "Your centred features")];
    panels.extend(gram_panels(
        c,
        ("Your class-mean cosines", metrics.mean_cosines.clone()),
        (&etf_name(c), etf_gram(c)),
    ));
    Ok(panels)
}

/// The CSV of [`own_features`]: the projected points, then the cosines.
pub fn own_features_csv(snapshot: &Snapshot, metrics: &NcMetrics) -> String {
    let c = snapshot.means.len();
    let mut csv = String::from("kind,class,column,x,y\n");
    for (k, points) in snapshot.points.iter().enumerate() {
        for (x, y) in points {
            let _ = writeln!(csv, "feature,{k},,{x},{y}");
        }
    }
    for (k, (x, y)) in snapshot.means.iter().enumerate() {
        let _ = writeln!(csv, "mean,{k},,{x},{y}");
    }
    for (i, cos) in metrics.mean_cosines.iter().enumerate() {
        let _ = writeln!(csv, "cosine,{},{},{cos},", i / c, i % c);
    }
    csv
}

/// The 3-D view's default turn about the vertical axis (35 degrees), in radians.
pub const DEFAULT_YAW: f64 = 35.0 * std::f64::consts::PI / 180.0;

/// The vertices of the simplex ETF of `c <= 4` classes (`e_k - 1/C`, unit RMS norm) in 3-D: the
/// rows of `U S` from the SVD of `I - 11^T/C`, whose rank C - 1 fits in three coordinates.
fn simplex_in_3d(c: usize) -> Vec<Vector3<f64>> {
    let centred = DMatrix::from_fn(c, c, |i, j| f64::from(u8::from(i == j)) - 1.0 / c as f64);
    let svd = centred.svd(true, false);
    let u = svd.u.unwrap_or_else(|| DMatrix::identity(c, c));
    let rms = ((c as f64 - 1.0) / c as f64).sqrt();
    // The SVD sorts its values in decreasing order; the C - 1 nonzero ones come first.
    (0..c)
        .map(|k| {
            Vector3::from_fn(|i, _| {
                if i + 1 < c {
                    u[(k, i)] * svd.singular_values[i] / rms
                } else {
                    0.0
                }
            })
        })
        .collect()
}

/// The simplex ETF turned by the orthogonal map that best matches it to the measured means `q`
/// (orthogonal Procrustes: `R = V U^T` from the SVD `P^T Q = U S V^T`; reflections allowed, since
/// the ETF is defined up to any orthogonal map and a measured tetrahedron is as likely the
/// mirror image of the labelled one) and scaled to their RMS norm.
pub fn fitted_simplex(q: &[Vector3<f64>]) -> Option<Vec<Vector3<f64>>> {
    let c = q.len();
    if !(2..=4).contains(&c) {
        return None;
    }
    let rms = (q.iter().map(|v| v.norm_squared()).sum::<f64>() / c as f64).sqrt();
    if rms <= 0.0 {
        return None;
    }
    let p = simplex_in_3d(c);
    let h: Matrix3<f64> = p.iter().zip(q).map(|(a, b)| a * b.transpose()).sum();
    let svd = h.svd(true, true);
    let (u, v_t) = (svd.u?, svd.v_t?);
    let rotation = v_t.transpose() * u.transpose();
    Some(p.iter().map(|a| rotation * a * rms).collect())
}

/// Every edge of the complete graph on `vertices` (a triangle, a tetrahedron), each a polyline
/// of two points; the first carries `name`.
fn edges(name: &str, vertices: &[Vector3<f64>]) -> Vec<Series3> {
    let c = vertices.len();
    let mut out = Vec::new();
    for i in 0..c {
        for j in i + 1..c {
            let (a, b) = (vertices[i], vertices[j]);
            out.push(Series3 {
                name: if out.is_empty() {
                    name.into()
                } else {
                    String::new()
                },
                points: vec![(a.x, a.z, a.y), (b.x, b.z, b.y)],
            });
        }
    }
    out
}

/// Features and class means at record `index` along the means' top three principal directions,
/// seen from `yaw` (radians), the means joined (C = 4: a tetrahedron) and, for C <= 4, the simplex
/// ETF best rotated onto them, dashed.
pub fn features_3d(r: &CollapseResult, index: usize, yaw: f64) -> Result<Vec<Figure>> {
    let s = snapshot_at(r, index)?;
    // plotters' vertical axis is its second: the third principal direction goes up.
    let groups = s
        .points
        .iter()
        .zip(&s.points_z)
        .enumerate()
        .map(|(k, (p, z))| Series3 {
            name: format!("class {k} (n = {})", r.class_sizes[k]),
            points: p.iter().zip(z).map(|(&(x, y), &z)| (x, z, y)).collect(),
        })
        .collect();
    let means: Vec<Vector3<f64>> = s
        .means
        .iter()
        .zip(&s.means_z)
        .map(|(&(x, y), &z)| Vector3::new(x, y, z))
        .collect();
    let theory = fitted_simplex(&means)
        .map(|ideal| edges("simplex ETF, best fit", &ideal))
        .unwrap_or_default();
    Ok(vec![Figure::Cloud(Cloud {
        title: format!("Centred features in 3-D at epoch {}", s.epoch),
        caption: "axes: the class means' 1st, 2nd (depth) and 3rd (up) principal directions".into(),
        groups,
        lines: edges("class means, joined", &means),
        theory,
        yaw,
        pitch: 0.45,
    })])
}

/// The CSV of [`features_3d`]: one row per point, three coordinates.
pub fn features_3d_csv(r: &CollapseResult, index: usize) -> String {
    let Ok(s) = snapshot_at(r, index) else {
        return String::new();
    };
    let mut csv = String::from("epoch,class,kind,pc1,pc2,pc3\n");
    for (k, (points, zs)) in s.points.iter().zip(&s.points_z).enumerate() {
        for ((x, y), z) in points.iter().zip(zs) {
            let _ = writeln!(csv, "{},{k},feature,{x},{y},{z}", s.epoch);
        }
    }
    for (k, ((x, y), z)) in s.means.iter().zip(&s.means_z).enumerate() {
        let _ = writeln!(csv, "{},{k},mean,{x},{y},{z}", s.epoch);
    }
    csv
}

/// The CSV of [`features`]: one row per projected point.
pub fn features_csv(r: &CollapseResult, index: usize) -> String {
    let Ok(s) = snapshot_at(r, index) else {
        return String::new();
    };
    let mut csv = String::from("epoch,class,kind,x,y\n");
    for (k, points) in s.points.iter().enumerate() {
        for (x, y) in points {
            let _ = writeln!(csv, "{},{k},feature,{x},{y}", s.epoch);
        }
    }
    for (k, (x, y)) in s.means.iter().enumerate() {
        let _ = writeln!(csv, "{},{k},mean,{x},{y}", s.epoch);
    }
    csv
}

/// The simplex ETF's Gram matrix: 1 on the diagonal, -1/(C-1) elsewhere.
pub fn etf_gram(classes: usize) -> Vec<f64> {
    let off = -1.0 / (classes as f64 - 1.0);
    (0..classes * classes)
        .map(|i| if i / classes == i % classes { 1.0 } else { off })
        .collect()
}

/// The ideal Gram matrix of the centred class means, with its name: the closed form's frame
/// where it applies (the simplex ETF for balanced classes, another with imbalance), else the
/// simplex ETF.
pub fn ideal_gram(r: &CollapseResult) -> (String, Vec<f64>) {
    let c = r.config.classes;
    match &r.theory {
        Some(t) => (
            "Closed form's frame (Dang et al.)".into(),
            t.mean_cosines(&r.class_sizes),
        ),
        None => (etf_name(c), etf_gram(c)),
    }
}

/// Cosines of the centred class means at the last record beside the ideal ([`ideal_gram`]).
pub fn gram(r: &CollapseResult) -> Result<Vec<Figure>> {
    let epoch = r.epochs.last().copied().unwrap_or(0);
    let (ideal_name, ideal) = ideal_gram(r);
    Ok(gram_panels(
        r.config.classes,
        (
            &format!("Class-mean cosines, epoch {epoch}"),
            r.last.mean_cosines.clone(),
        ),
        (&ideal_name, ideal),
    ))
}

/// Two `c x c` cosine maps side by side, each `(title, row-major values)`.
fn gram_panels(c: usize, measured: (&str, Vec<f64>), ideal: (&str, Vec<f64>)) -> Vec<Figure> {
    let panel = |title: &str, values: Vec<f64>| {
        // Heatmap rows run along x from the bottom; flip so class 0 is the top row, as a matrix.
        let flipped = (0..c * c)
            .map(|i| values[(c - 1 - i / c) * c + i % c])
            .collect();
        Figure::Heatmap(Heatmap {
            title: title.into(),
            x_label: "class".into(),
            y_label: "class (top row: class 0)".into(),
            x_range: (-0.5, c as f64 - 0.5),
            y_range: (-0.5, c as f64 - 0.5),
            nx: c,
            ny: c,
            values: flipped,
            colorbar_label: "cos(μ_c − μ_G, μ_c' − μ_G)".into(),
            overlay: Vec::new(),
            contours: Vec::new(),
            lines: Vec::new(),
        })
    };
    vec![panel(measured.0, measured.1), panel(ideal.0, ideal.1)]
}

/// The simplex ETF's panel title.
fn etf_name(c: usize) -> String {
    format!("Simplex ETF: −1/(C−1) = {:.3}", -1.0 / (c as f64 - 1.0))
}

/// The CSV of [`gram`].
pub fn gram_csv(r: &CollapseResult) -> String {
    let c = r.config.classes;
    let (_, ideal) = ideal_gram(r);
    let mut csv = String::from("row,column,measured_cosine,ideal_cosine\n");
    for (i, (measured, etf)) in r.last.mean_cosines.iter().zip(&ideal).enumerate() {
        let _ = writeln!(csv, "{},{},{measured},{etf}", i / c, i % c);
    }
    csv
}

/// Squared classifier-row and class-mean norms against class size, beside the closed form.
pub fn norms(r: &CollapseResult) -> Result<Vec<Figure>> {
    let sizes: Vec<f64> = r.class_sizes.iter().map(|&n| n as f64).collect();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by(|&a, &b| sizes[a].total_cmp(&sizes[b]));
    // Not-a-number marks a value not drawn (see `aligned`).
    let sorted = |values: &[f64]| -> Vec<(f64, f64)> {
        order
            .iter()
            .filter_map(|&k| values.get(k).map(|&v| (sizes[k], v)))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    // The closed form as a curve of the class size, at this run's N and decays.
    let c = &r.config;
    let total: f64 = sizes.iter().sum();
    let (lo, hi) = (sizes[order[0]], sizes[order[order.len() - 1]]);
    let curve = |pick: fn((f64, f64)) -> f64| -> Vec<(f64, f64)> {
        let lo = 0.0_f64.min(lo);
        (0..=100)
            .map(|i| {
                let nk = lo + (hi - lo) * f64::from(i) / 100.0;
                (
                    nk,
                    pick(ufm_norms_at(
                        nk,
                        total,
                        c.weight_decay,
                        c.feature_decay,
                        c.linear_layers,
                    )),
                )
            })
            .collect()
    };
    // With a deep linear head, classes a little below the threshold keep a second, local
    // minimum (docs/collapse-theory.md), where gradient descent can stay: drawn where it exists
    // and is not the global one.
    let local = |pick: fn((f64, f64)) -> f64| -> Vec<(f64, f64)> {
        let lo = 0.0_f64.min(lo);
        (0..=200)
            .filter_map(|i| {
                let nk = lo + (hi - lo) * f64::from(i) / 200.0;
                let (lw, lh, k) = (c.weight_decay, c.feature_decay, c.linear_layers);
                let p = local_product(nk, total, lw, lh, k)?;
                let global = ufm_norms_at(nk, total, lw, lh, k);
                (global.0 == 0.0).then(|| (nk, pick(norms_of_product(p, nk, lw, lh, k))))
            })
            .collect()
    };
    let global_name = match c.linear_layers {
        0 => "closed form (Dang et al. 2023)".to_string(),
        1 => "global minimum, 1 linear layer (derived)".to_string(),
        k => format!("global minimum, {k} linear layers (derived)"),
    };
    let panel = |title: &str, y_label: &str, measured: &[f64], theory: Vec<Series>| {
        Figure::Line(LinePlot {
            title: title.into(),
            x_label: "class size n_k (samples)".into(),
            y_label: y_label.into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            series: Vec::new(),
            markers: vec![series("measured, last epoch", sorted(measured))],
            theory,
            errors: Vec::new(),
        })
    };
    let theory_of = |pick: fn((f64, f64)) -> f64| -> Vec<Series> {
        if r.theory.is_none() {
            return Vec::new();
        }
        let mut out = vec![series(&global_name, curve(pick))];
        let branch = local(pick);
        if !branch.is_empty() {
            out.push(series("local minimum (deep head)", branch));
        }
        out
    };
    // Classifier / class-mean alignment: the closed form's per class where it applies; for
    // balanced bias-free MSE the features model's optimum, sqrt((C-1)/C) (the rows are the
    // uncentred frame); with a bias (or cross-entropy) NC3's self-duality, 1. Imbalanced
    // bias-free MSE of an MLP has no such prediction: no line.
    let (left, right) = if hi > lo {
        (lo, hi)
    } else {
        (0.9 * lo, 1.1 * hi)
    };
    let alignment_theory = match &r.theory {
        Some(t) => {
            // One short dashed tick per class at its closed-form value: the value belongs to
            // that class of that configuration, not to a curve of class size.
            let half = 0.03 * (right - left);
            let alignment = t.alignment(&r.class_sizes);
            order
                .iter()
                .filter_map(|&k| alignment[k].map(|a| (sizes[k], a)))
                .enumerate()
                .map(|(i, (n, a))| {
                    let name = if i == 0 {
                        "closed form, per class (none where it collapses)"
                    } else {
                        ""
                    };
                    series(name, vec![(n - half, a), (n + half, a)])
                })
                .collect()
        }
        None => flat_alignment(r)
            .map(|(name, y)| vec![series(name, vec![(left, y), (right, y)])])
            .unwrap_or_default(),
    };
    // A row that has vanished (minority collapse: ||w_k||^2 within the closed-form check's
    // 1e-4 of the largest) has no direction: its alignment is not drawn.
    let largest = r
        .last
        .classifier_norms_sq
        .iter()
        .copied()
        .fold(0.0, f64::max);
    let aligned: Vec<f64> = r
        .last
        .alignment
        .iter()
        .zip(&r.last.classifier_norms_sq)
        .map(|(&a, &w)| {
            if w > CLOSED_FORM_TOLERANCE * largest {
                a
            } else {
                f64::NAN
            }
        })
        .collect();
    Ok(vec![
        panel(
            "Classifier norms against class size",
            "‖w_k‖²",
            &r.last.classifier_norms_sq,
            theory_of(|p| p.0),
        ),
        panel(
            "Class-mean norms against class size",
            "‖μ_k‖² (uncentred)",
            &r.last.mean_norms_sq,
            theory_of(|p| p.1),
        ),
        panel(
            "Classifier–mean alignment against class size",
            "cos(w_k, μ_k − μ_G)",
            &aligned,
            alignment_theory,
        ),
    ])
}

/// The alignment `cos(w_k, mu_k - mu_G)` every class should reach where no closed form is
/// computed, with its name: for balanced bias-free MSE the features model's optimum,
/// `sqrt((C-1)/C)` (the rows are the uncentred frame); with a bias or cross-entropy NC3's
/// self-duality, 1; none for imbalanced classes (minority collapse breaks self-duality).
fn flat_alignment(r: &CollapseResult) -> Option<(&'static str, f64)> {
    let c = &r.config;
    let balanced = r.class_sizes.iter().all(|&n| n == r.class_sizes[0]);
    if !balanced {
        return None; // minority collapse: no class-independent prediction
    }
    if !c.bias && c.loss == Loss::Mse {
        let classes = r.class_sizes.len() as f64;
        Some((
            "bias-free MSE optimum: √((C−1)/C)",
            ((classes - 1.0) / classes).sqrt(),
        ))
    } else {
        Some(("self-duality (NC3): 1", 1.0))
    }
}

/// The CSV of [`norms`].
pub fn norms_csv(r: &CollapseResult) -> String {
    let mut csv = String::from(
        "class,size,classifier_norm_sq,mean_norm_sq,alignment,theory_classifier_norm_sq,theory_mean_norm_sq,theory_alignment\n",
    );
    let alignment = r.theory.as_ref().map(|t| t.alignment(&r.class_sizes));
    for (k, &n) in r.class_sizes.iter().enumerate() {
        let (tw, th, ta) = r
            .theory
            .as_ref()
            .zip(alignment.as_ref())
            .map(|(t, a)| {
                (
                    t.classifier_norms_sq[k].to_string(),
                    t.mean_norms_sq[k].to_string(),
                    a[k].map_or(String::new(), |a| a.to_string()),
                )
            })
            .unwrap_or_else(|| {
                let flat = flat_alignment(r).map_or(String::new(), |(_, y)| y.to_string());
                (String::new(), String::new(), flat)
            });
        let measured_alignment = r
            .last
            .alignment
            .get(k)
            .map_or(String::new(), f64::to_string);
        let _ = writeln!(
            csv,
            "{k},{n},{},{},{measured_alignment},{tw},{th},{ta}",
            r.last.classifier_norms_sq[k], r.last.mean_norms_sq[k]
        );
    }
    csv
}
