//! Figures of the Width room: kernel matrices, kernel error vs width, the coordinate check and
//! feature/kernel movement, all power laws on log-log axes with their fitted slopes.

use crate::core::abc::AbcRules;
use crate::core::abc_regime::{SLACK, classify};
use crate::core::kernels::Kernels;
use crate::core::optim::OptimizerKind;
use crate::core::parametrization::Parametrization;
use crate::core::vocabulary::Choice;
use crate::error::Result;
use crate::experiments::sweep::power_law_fit;
use crate::experiments::width::coordcheck::CoordCheckResult;
use crate::experiments::width::function_space::FunctionSpaceResult;
use crate::experiments::width::kernel_convergence::KernelConvergenceResult;
use crate::experiments::width::lr_transfer::LrTransferResult;
use crate::plot::{Figure, Heatmap, LinePlot, Scale, Series};
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

/// The power law `n^p` from `(n0, y0)` to width `n1`, as a dashed theory line.
fn law(p: f64, (n0, y0): (f64, f64), n1: f64, note: &str) -> Series {
    let exponent = match p {
        0.0 => "n^0".to_string(),
        0.5 => "n^1/2".to_string(),
        -0.5 => "n^-1/2".to_string(),
        1.5 => "n^3/2".to_string(),
        p => format!("n^{p}"),
    };
    Series {
        name: format!("theory {exponent}{note}"),
        points: vec![(n0, y0), (n1, y0 * (n1 / n0).powf(p))],
    }
}

/// One dashed line per distinct exponent in `exponents[layer]`, each through the first point
/// of the first curve that follows it.
fn laws(curves: &[Vec<(f64, f64)>], exponents: &[f64], note: &str) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    let mut seen: Vec<f64> = Vec::new();
    for (points, &p) in curves.iter().zip(exponents) {
        if seen.contains(&p) {
            continue;
        }
        if let (Some(&first), Some(&(n1, _))) = (points.first(), points.last())
            && n1 > first.0
        {
            out.push(law(p, first, n1, note));
            seen.push(p);
        }
    }
    out
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
        contours: Vec::new(),
        lines: Vec::new(),
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
    let series = vec![
        Series {
            name: with_slope("empirical NTK", &ntk),
            points: ntk.clone(),
        },
        Series {
            name: with_slope("feature NNGP", &nngp),
            points: nngp,
        },
    ];
    let theory = laws(&[series[0].points.clone()], &[-0.5], "");
    Ok(vec![Figure::Line(LinePlot {
        title: "Finite width vs the infinite-width kernel".into(),
        x_label: "hidden width n (log scale)".into(),
        y_label: "||K_n - K||_F / ||K||_F (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        markers: Vec::new(),
        errors: Vec::new(),
        theory,
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
    exponents: Option<&[f64]>,
) -> Vec<Figure> {
    steps
        .map(|t| {
            let series: Vec<Series> = result
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
                .collect();
            let curves: Vec<Vec<(f64, f64)>> = series.iter().map(|s| s.points.clone()).collect();
            let theory = exponents.map_or(Vec::new(), |p| laws(&curves, p, " (first update)"));
            let series = series
                .into_iter()
                .filter(|s| !s.points.is_empty())
                .collect();
            Figure::Line(LinePlot {
                title: format!("{title}, t = {}", t + 1),
                x_label: "hidden width n (log scale)".into(),
                y_label: y_label.into(),
                x_scale: Scale::Log,
                y_scale: Scale::Log,
                markers: Vec::new(),
                errors: Vec::new(),
                theory,
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
        None,
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
        result.predicted_exponents().as_deref(),
    ))
}

/// Relative feature and kernel movement after training vs width.
pub fn movement(result: &CoordCheckResult) -> Result<Vec<Figure>> {
    let feature = positive(&result.widths, result.feature_movement.iter().copied());
    let kernel = positive(&result.widths, result.kernel_movement.iter().copied());
    // The last hidden layer's features move like its change after the first update.
    let hidden = result.layers.len().saturating_sub(2);
    let theory = result.predicted_exponents().map_or(Vec::new(), |p| {
        laws(
            std::slice::from_ref(&feature),
            &p[hidden..=hidden],
            " (features)",
        )
    });
    Ok(vec![Figure::Line(LinePlot {
        title: "Feature and kernel movement".into(),
        x_label: "hidden width n (log scale)".into(),
        y_label: "relative change after training (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        markers: Vec::new(),
        errors: Vec::new(),
        theory,
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
            let name = parametrization_name(r.config.parametrization);
            Figure::Line(LinePlot {
                title: format!("{name}: loss after {} steps", r.config.steps),
                x_label: "log2 learning rate".into(),
                y_label: "training loss, MSE (log scale)".into(),
                x_scale: Scale::Linear,
                y_scale: Scale::Log,
                markers: Vec::new(),
                errors: Vec::new(),
                theory: Vec::new(),
                series,
            })
        })
        .collect())
}

/// The short name of a parametrization, for titles and legends.
fn parametrization_name(p: Parametrization) -> &'static str {
    match p {
        Parametrization::Sp => "SP",
        Parametrization::Ntk => "NTK",
        Parametrization::Mup => "muP",
        Parametrization::MeanField => "mean field",
        Parametrization::Custom(_) => "abc",
    }
}

/// Function-space training, one panel per parametrization: the networks' ensemble mean of
/// `f_T(theta)` per width on the test angles, beside the NTK-GP mean and its ±2 sd envelope
/// (drawn as one closed outline), and the train points.
pub fn function_space_fit(result: &FunctionSpaceResult) -> Result<Vec<Figure>> {
    let angles = &result.test_angles;
    let mut limit = Vec::new();
    if !result.kernel_mean.is_empty() {
        let band = |sign: f64| {
            angles
                .iter()
                .zip(result.kernel_mean.iter().zip(&result.kernel_sd))
                .map(move |(&t, (&m, &sd))| (t, m + sign * 2.0 * sd))
        };
        let envelope: Vec<(f64, f64)> = band(1.0)
            .chain(band(-1.0).collect::<Vec<_>>().into_iter().rev())
            .chain(band(1.0).take(1))
            .collect();
        limit.push(Series {
            name: "NTK-GP (n = ∞) mean".into(),
            points: angles
                .iter()
                .copied()
                .zip(result.kernel_mean.iter().copied())
                .collect(),
        });
        limit.push(Series {
            name: "NTK-GP ± 2 sd".into(),
            points: envelope,
        });
    }
    let train = Series {
        name: "train points".into(),
        points: result
            .train_angles
            .iter()
            .copied()
            .zip(result.train_targets.iter().copied())
            .collect(),
    };
    Ok(result
        .runs
        .iter()
        .map(|runs| {
            // The limit last, on top of the networks.
            let mut series: Vec<Series> = runs
                .widths
                .iter()
                .zip(&runs.output)
                .zip(&runs.seeds_done)
                .map(|((n, output), k)| Series {
                    name: format!("width {n}, mean of {k}"),
                    points: angles.iter().copied().zip(output.iter().copied()).collect(),
                })
                .collect();
            series.extend(limit.iter().cloned());
            Figure::Line(LinePlot {
                title: format!(
                    "{} networks after {} GD steps",
                    parametrization_name(runs.parametrization),
                    result.config.steps
                ),
                x_label: "input angle θ (rad), x = (cos θ, sin θ)".into(),
                y_label: "network output f_T(x)".into(),
                x_scale: Scale::Linear,
                y_scale: Scale::Linear,
                markers: vec![train.clone()],
                errors: Vec::new(),
                theory: Vec::new(),
                series,
            })
        })
        .collect())
}

/// Train loss vs step: the NTK-GP's expected loss, the NTK networks of every width and the
/// widest muP networks (means over seeds).
pub fn function_space_loss(result: &FunctionSpaceResult) -> Result<Vec<Figure>> {
    let curve = |name: String, loss: &[f64]| Series {
        name,
        points: loss
            .iter()
            .enumerate()
            .map(|(t, &l)| (t as f64, l))
            .filter(|(_, l)| *l > 0.0 && l.is_finite())
            .collect(),
    };
    let mut series = Vec::new();
    if !result.kernel_loss.is_empty() {
        series.push(curve(
            "NTK-GP (n = ∞), expected".into(),
            &result.kernel_loss,
        ));
    }
    for runs in &result.runs {
        let name = parametrization_name(runs.parametrization);
        let shown: Vec<usize> = if runs.parametrization == Parametrization::Ntk {
            (0..runs.widths.len()).collect()
        } else {
            runs.widths.len().checked_sub(1).into_iter().collect()
        };
        for i in shown {
            series.push(curve(
                format!("{name}, width {}", runs.widths[i]),
                &runs.loss[i],
            ));
        }
    }
    series.retain(|s| !s.points.is_empty());
    Ok(vec![Figure::Line(LinePlot {
        title: "Training loss in function space".into(),
        x_label: "gradient-descent step t".into(),
        y_label: "train MSE (log scale)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        markers: Vec::new(),
        errors: Vec::new(),
        theory: Vec::new(),
        series,
    })])
}

/// The gap between each network and its own linearization after T steps vs width, with the
/// theory slope -1/2 (NTK) drawn through the first NTK point.
pub fn linearization_gap(result: &FunctionSpaceResult) -> Result<Vec<Figure>> {
    let series: Vec<Series> = result
        .runs
        .iter()
        .map(|runs| {
            let points = positive(&runs.widths, runs.linearization_gap.iter().copied());
            Series {
                name: with_slope(parametrization_name(runs.parametrization), &points),
                points,
            }
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let mut theory = Vec::new();
    if let Some(ntk) = result
        .runs
        .iter()
        .find(|r| r.parametrization == Parametrization::Ntk)
    {
        let points = positive(&ntk.widths, ntk.linearization_gap.iter().copied());
        theory = laws(&[points], &[-0.5], " (NTK)");
    }
    Ok(vec![Figure::Line(LinePlot {
        title: "Distance from the linearized network".into(),
        x_label: "hidden width n (log scale)".into(),
        y_label: "||f_T - f_T^lin|| / ||f_T^lin - f_0|| (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        markers: Vec::new(),
        errors: Vec::new(),
        theory,
        series,
    })])
}

/// The abc map (Yang & Hu 2021, Theorem 3.3) in the plane of the feature-update exponent r and
/// the output-init exponent alpha = a_{L+1} + b_{L+1}, on the slice through the current choice's
/// output-update exponent u: the stable region's outline, where it is nontrivial (kernel regime,
/// feature learning), the presets and the current choice.
pub fn abc_map(rules: &AbcRules, depth: usize, optimizer: OptimizerKind) -> Result<Vec<Figure>> {
    const R_MAX: f64 = 2.0;
    const ALPHA_MAX: f64 = 2.0;
    let current = classify(rules, depth, optimizer);
    let u = current.u;
    // The boundary of r >= 0, alpha >= 1/2, alpha + r >= 1 (open towards large r and alpha).
    let outline = densify(&[(0.0, ALPHA_MAX), (0.0, 1.0), (0.5, 0.5), (R_MAX, 0.5)]);
    let series = if u < -SLACK {
        vec![Series {
            name: "edge of stable r, α (but u < 0 blows up)".into(),
            points: outline,
        }]
    } else if u.abs() <= SLACK {
        vec![
            Series {
                name: "edge of the stable region; inside: kernel regime".into(),
                points: outline,
            },
            Series {
                name: "feature learning (r = 0)".into(),
                points: densify(&[(0.0, 1.0), (0.0, ALPHA_MAX)]),
            },
        ]
    } else {
        vec![
            Series {
                name: "edge of the stable region; inside: trivial".into(),
                points: outline,
            },
            Series {
                name: "kernel regime (α + r = 1, r > 0)".into(),
                points: densify(&[(0.0, 1.0), (0.5, 0.5)]),
            },
        ]
    };
    let mut markers: Vec<Series> = Parametrization::all()
        .map(|p| {
            let c = classify(&p.rules(optimizer), depth, optimizer);
            Series {
                name: format!(
                    "{}: {} (r = {}, u = {})",
                    parametrization_name(p),
                    c.regime.name(),
                    c.r,
                    c.u
                ),
                points: vec![(c.r, c.alpha)],
            }
        })
        .collect();
    markers.push(Series {
        name: "your choice".into(),
        points: vec![(current.r, current.alpha)],
    });
    let optimizer_name = optimizer.label();
    let slice = if u < -SLACK {
        format!("u = {u} < 0: all unstable")
    } else {
        format!("slice u = {u}")
    };
    Ok(vec![Figure::Line(LinePlot {
        title: format!("abc map, {optimizer_name}, depth {depth} ({slice})"),
        x_label: "r: features move like n^-r after an update".into(),
        y_label: "α = a + b of the output: f_0 ~ n^(1/2 - α)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series,
        markers,
        errors: Vec::new(),
        theory: Vec::new(),
    })])
}

/// A polyline through `vertices` sampled at 40 points per edge, so that it draws as a plain line
/// (line plots mark the points of series with fewer than 30).
fn densify(vertices: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = vertices
        .windows(2)
        .flat_map(|e| {
            let ((x0, y0), (x1, y1)) = (e[0], e[1]);
            (0..40).map(move |k| {
                let t = k as f64 / 40.0;
                (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
            })
        })
        .collect();
    points.extend(vertices.last());
    points
}

// The figures' data as CSV: the page's CSV buttons and the CLI's `--out` write these.

/// `width,step,layer,act_size,delta_size` rows of the coordinate check and its change.
pub fn coordinate_check_csv(r: &CoordCheckResult) -> String {
    let mut csv = String::from("width,step,layer,act_size,delta_size\n");
    for (w, n) in r.widths.iter().enumerate() {
        for (t, row) in r.act_size[w].iter().enumerate() {
            for (l, name) in r.layers.iter().enumerate() {
                csv += &format!(
                    "{n},{},{name},{},{}\n",
                    t + 1,
                    row[l],
                    r.delta_size[w][t][l]
                );
            }
        }
    }
    csv
}

/// `width,feature_movement,kernel_movement,seeds` rows.
pub fn movement_csv(r: &CoordCheckResult) -> String {
    let mut csv = String::from("width,feature_movement,kernel_movement,seeds\n");
    for (i, n) in r.widths.iter().enumerate() {
        csv += &format!(
            "{n},{},{},{}\n",
            r.feature_movement[i], r.kernel_movement[i], r.seeds_done[i]
        );
    }
    csv
}

/// `width,ntk_error,nngp_error,seeds` rows of the finite-width error.
pub fn kernel_error_csv(r: &KernelConvergenceResult) -> String {
    let mut csv = String::from("width,ntk_error,nngp_error,seeds\n");
    for (i, n) in r.widths.iter().enumerate() {
        csv += &format!(
            "{n},{},{},{}\n",
            r.ntk_error[i], r.nngp_error[i], r.seeds_done[i]
        );
    }
    csv
}

/// `i,j,nngp,ntk` rows of the limit kernels.
pub fn kernel_maps_csv(kernels: &Kernels) -> String {
    let mut csv = String::from("i,j,nngp,ntk\n");
    let (rows, cols) = kernels.nngp.shape();
    for i in 0..rows {
        for j in 0..cols {
            let (k, t) = (kernels.nngp[(i, j)], kernels.ntk[(i, j)]);
            csv += &format!("{i},{j},{k},{t}\n");
        }
    }
    csv
}

/// `parametrization,width,log2_lr,loss` rows (`diverged` where a run blew up).
pub fn lr_transfer_csv(results: &[&LrTransferResult]) -> String {
    let mut csv = String::from("parametrization,width,log2_lr,loss\n");
    for r in results {
        let name = r.config.parametrization.name();
        for (n, row) in r.widths.iter().zip(&r.loss) {
            for (lr, l) in r.log2_lrs.iter().zip(row) {
                let l = l.map_or("diverged".to_string(), |l| l.to_string());
                csv += &format!("{name},{n},{lr},{l}\n");
            }
        }
    }
    csv
}

/// `parametrization,width,quantity,index,value` rows: outputs at the test angles, loss per
/// step and the linearization gap; the NTK-GP as parametrization `ntk_gp`, width `inf`.
pub fn function_space_csv(r: &FunctionSpaceResult) -> String {
    let mut csv = String::from("parametrization,width,quantity,index,value\n");
    for (j, (m, sd)) in r.kernel_mean.iter().zip(&r.kernel_sd).enumerate() {
        csv += &format!("ntk_gp,inf,mean_at_angle,{},{m}\n", r.test_angles[j]);
        csv += &format!("ntk_gp,inf,sd_at_angle,{},{sd}\n", r.test_angles[j]);
    }
    for (t, l) in r.kernel_loss.iter().enumerate() {
        csv += &format!("ntk_gp,inf,expected_loss_at_step,{t},{l}\n");
    }
    for runs in &r.runs {
        let name = runs.parametrization.name();
        for (w, n) in runs.widths.iter().enumerate() {
            for (f, theta) in runs.output[w].iter().zip(&r.test_angles) {
                csv += &format!("{name},{n},output_at_angle,{theta},{f}\n");
            }
            for (t, l) in runs.loss[w].iter().enumerate() {
                csv += &format!("{name},{n},loss_at_step,{t},{l}\n");
            }
            csv += &format!(
                "{name},{n},linearization_gap,0,{}\n",
                runs.linearization_gap[w]
            );
        }
    }
    for (theta, y) in r.train_angles.iter().zip(&r.train_targets) {
        csv += &format!("train,,target_at_angle,{theta},{y}\n");
    }
    csv
}

/// `name,r,alpha,u,regime` rows: the presets and `your_choice`.
pub fn abc_csv(rules: &AbcRules, depth: usize, optimizer: OptimizerKind) -> String {
    let mut csv = String::from("name,r,alpha,u,regime\n");
    let presets = Parametrization::TABLE
        .iter()
        .map(|e| (e.name, e.value.rules(optimizer)));
    for (name, rules) in presets.chain([("your_choice", *rules)]) {
        let v = classify(&rules, depth, optimizer);
        let regime = serde_json::to_value(v.regime)
            .ok()
            .and_then(|r| r.as_str().map(str::to_string))
            .unwrap_or_default();
        csv += &format!("{name},{},{},{},{regime}\n", v.r, v.alpha, v.u);
    }
    csv
}
