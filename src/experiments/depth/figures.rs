//! Figures of the Depth room: the readout's distribution beside the Gaussian and its first
//! correction, kurtosis through depth, the collapse onto L/n, the tangent kernel's
//! fluctuations, the order-to-chaos phase diagram and the kernel flow.

use crate::core::criticality::Criticality;
use crate::error::{Error, Result};
use crate::experiments::depth::aspect::AspectResult;
use crate::experiments::depth::criticality::{CriticalityResult, FLOW_MULTIPLES};
use crate::experiments::depth::ensemble::EnsembleResult;
use crate::experiments::depth::residual::ResidualResult;
use crate::plot::{Figure, Heatmap, Histogram, LinePlot, Scale, Series};
use std::f64::consts::PI;

/// Points of a drawn density curve.
const CURVE_POINTS: usize = 241;

/// Probabilists' Hermite polynomial He_4(x) = x^4 - 6 x^2 + 3.
fn hermite4(x: f64) -> f64 {
    x.powi(4) - 6.0 * x * x + 3.0
}

/// The Gaussian density of variance `var`, and its first (quartic) Edgeworth correction
/// `p(z) = N(z; 0, var) [1 + (kappa / 24) He_4(z / sd)]` with excess kurtosis `kappa` (PDLT
/// eq. 4.43's nearly-Gaussian distribution at one input, to first order in 1/n), clipped at 0
/// where a large kappa makes the first-order density negative.
pub fn nearly_gaussian_density(z: f64, var: f64, kappa: f64) -> (f64, f64) {
    let sd = var.sqrt();
    let x = z / sd;
    let gauss = (-0.5 * x * x).exp() / (sd * (2.0 * PI).sqrt());
    (gauss, (gauss * (1.0 + kappa / 24.0 * hermite4(x))).max(0.0))
}

/// The histogram of the readout beside the Gaussian of the measured variance and the
/// nearly-Gaussian density with the theory's excess kurtosis.
pub fn output_histogram(r: &EnsembleResult) -> Result<Vec<Figure>> {
    let var = r.output.second_moment;
    if !(var.is_finite() && var > 0.0) || r.output_values.is_empty() {
        return Err(Error::plot(
            "readout distribution",
            "no samples yet (or all zero)",
        ));
    }
    let sd = var.sqrt();
    let (lo, hi) = r
        .output_values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let (lo, hi) = (lo.max(-8.0 * sd), hi.min(8.0 * sd));
    let xs: Vec<f64> = (0..CURVE_POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (CURVE_POINTS - 1) as f64)
        .collect();
    let mut theory = vec![Series {
        name: format!("Gaussian, same variance {var:.3}"),
        points: xs
            .iter()
            .map(|&z| (z, nearly_gaussian_density(z, var, 0.0).0))
            .collect(),
    }];
    if let Some(ratio) = r.output.theory {
        let kappa = 3.0 * (ratio - 1.0);
        theory.push(Series {
            name: format!("+ quartic correction, theory kurtosis {kappa:.3}"),
            points: xs
                .iter()
                .map(|&z| (z, nearly_gaussian_density(z, var, kappa).1))
                .collect(),
        });
    }
    let c = &r.config;
    Ok(vec![Figure::Histogram(Histogram {
        title: format!(
            "Readout at init: L = {}, n = {}, L/n = {:.3}",
            c.depth,
            c.width,
            c.depth as f64 / c.width as f64
        ),
        x_label: "readout preactivation z^(L+1) (units of the input scale)".into(),
        values: r
            .output_values
            .iter()
            .copied()
            .filter(|v| (lo..=hi).contains(v))
            .collect(),
        bins: 60,
        theory,
    })])
}

/// `value,density_gauss,density_corrected` rows of the readout histogram's curves and the raw
/// samples.
pub fn output_histogram_csv(r: &EnsembleResult) -> String {
    let var = r.output.second_moment;
    let kappa = r.output.theory.map(|t| 3.0 * (t - 1.0));
    let mut csv = String::from("value,gaussian_density,corrected_density\n");
    for &v in &r.output_values {
        let (g, c) = nearly_gaussian_density(v, var, kappa.unwrap_or(0.0));
        let c = kappa.map_or(String::new(), |_| c.to_string());
        csv += &format!("{v},{g},{c}\n");
    }
    csv
}

/// Excess kurtosis `E z^4 / (E z^2)^2 - 3 = 3 (ratio - 1)` of every layer, with standard-error
/// bars, beside the exact law (where it exists) and the leading order `3 V / (n K^2)`.
pub fn kurtosis_by_layer(r: &EnsembleResult) -> Result<Vec<Figure>> {
    let excess = |ratio: f64| 3.0 * (ratio - 1.0);
    let measured: Vec<(f64, f64)> = r
        .layers
        .iter()
        .map(|l| (l.layer as f64, excess(l.moments.kurtosis_ratio)))
        .collect();
    let errors: Vec<f64> = r.layers.iter().map(|l| 3.0 * l.moments.stderr).collect();
    let mut theory = Vec::new();
    let exact = crate::core::nearly_gaussian::exact_growth(&r.config.spec()).is_some();
    if let Some(points) = r
        .layers
        .iter()
        .map(|l| l.moments.theory.map(|t| (l.layer as f64, excess(t))))
        .collect::<Option<Vec<_>>>()
        && exact
        && r.layers.len() > 1
    {
        let growth = if r.config.activation == crate::core::activation::Activation::Relu {
            "(1 + 5/n)^(l-1)"
        } else {
            "(1 + 2/n)^(l-1)"
        };
        theory.push(Series {
            name: format!("exact law, ratio {growth}"),
            points,
        });
    }
    if let Some(points) = r
        .layers
        .iter()
        .map(|l| {
            l.moments
                .theory_leading
                .map(|t| (l.layer as f64, excess(t)))
        })
        .collect::<Option<Vec<_>>>()
    {
        theory.push(Series {
            name: "leading order 3 V / (n K^2) (PDLT)".into(),
            points,
        });
    }
    let c = &r.config;
    Ok(vec![Figure::Line(LinePlot {
        title: format!(
            "Kurtosis through depth (n = {}, {} networks)",
            c.width, r.output.samples
        ),
        x_label: "layer l (L + 1 = readout)".into(),
        y_label: "excess kurtosis of z^(l)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series: vec![Series {
            name: "Monte Carlo ± 1 standard error".into(),
            points: measured,
        }],
        markers: Vec::new(),
        errors: vec![errors],
        theory,
    })])
}

/// `layer,second_moment,fourth_moment,kurtosis_ratio,stderr,theory,theory_leading,kernel,
/// correlation,correlation_theory,gradient_norm,gradient_theory` per layer.
pub fn layers_csv(r: &EnsembleResult) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let mut csv = String::from(
        "layer,second_moment,fourth_moment,kurtosis_ratio,stderr,theory,theory_leading,kernel,correlation,correlation_theory,gradient_norm,gradient_theory\n",
    );
    for l in &r.layers {
        let m = &l.moments;
        csv += &format!(
            "{},{},{},{},{},{},{},{},{},{},{},{}\n",
            l.layer,
            m.second_moment,
            m.fourth_moment,
            m.kurtosis_ratio,
            m.stderr,
            opt(m.theory),
            opt(m.theory_leading),
            m.kernel,
            l.correlation,
            l.correlation_theory,
            l.gradient_norm,
            l.gradient_theory
        );
    }
    csv
}

/// Excess kurtosis of the readout against L/n, one series per width (standard-error bars), the
/// lab's prediction per width, and the leading order where it is a line in L/n.
pub fn kurtosis_collapse(r: &AspectResult) -> Result<Vec<Figure>> {
    let mut series = Vec::new();
    let mut errors = Vec::new();
    let mut theory = Vec::new();
    for &n in &r.config.widths {
        let points: Vec<_> = r.points.iter().filter(|p| p.width == n).collect();
        if points.is_empty() {
            continue;
        }
        let ratio = |p: &crate::experiments::depth::aspect::AspectPoint| p.depth as f64 / n as f64;
        // A log axis shows positive values only: points whose excess is not positive
        // (noise at small L/n) are left out of the panel (they are in the CSV).
        let shown: Vec<_> = points
            .iter()
            .filter(|p| 3.0 * (p.kurtosis_ratio - 1.0) > 0.0)
            .collect();
        series.push(Series {
            name: format!("n = {n}"),
            points: shown
                .iter()
                .map(|p| (ratio(p), 3.0 * (p.kurtosis_ratio - 1.0)))
                .collect(),
        });
        errors.push(shown.iter().map(|p| 3.0 * p.stderr).collect());
        if let Some(t) = points
            .iter()
            .map(|p| p.theory.map(|t| (ratio(p), 3.0 * (t - 1.0))))
            .collect::<Option<Vec<_>>>()
            && t.len() > 1
        {
            theory.push(Series {
                name: format!("theory, n = {n}"),
                points: t,
            });
        }
    }
    series.retain(|s| !s.points.is_empty());
    errors.retain(|e: &Vec<f64>| !e.is_empty());
    if series.is_empty() {
        return Err(Error::plot("kurtosis vs L/n", "no grid point finished yet"));
    }
    // ReLU and linear at C_b = 0: V / (n K^2) = rate L/n exactly at leading order.
    let rate = match r.config.activation {
        crate::core::activation::Activation::Relu => Some(5.0),
        crate::core::activation::Activation::Linear => Some(2.0),
        _ => None,
    }
    .filter(|_| r.config.bias_var == 0.0 && r.config.residual == 0.0);
    if let Some(rate) = rate {
        let xs: Vec<f64> = r
            .points
            .iter()
            .map(|p| p.depth as f64 / p.width as f64)
            .collect();
        let (lo, hi) = xs
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
        theory.push(Series {
            name: format!("leading order {} L/n", 3.0 * rate),
            points: vec![(lo, 3.0 * rate * lo), (hi, 3.0 * rate * hi)],
        });
    }
    Ok(vec![Figure::Line(LinePlot {
        title: "Excess kurtosis of the readout collapses onto L/n".into(),
        x_label: "depth-to-width ratio L/n (log scale)".into(),
        y_label: "excess kurtosis (log scale)".into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        series,
        markers: Vec::new(),
        errors,
        theory,
    })])
}

/// `E[Theta^2] / E[Theta]^2` against L/n per width, beside the derived law and
/// `exp(5 L / n)`.
pub fn ntk_fluctuations(r: &AspectResult) -> Result<Vec<Figure>> {
    let mut series = Vec::new();
    let mut errors = Vec::new();
    let mut theory = Vec::new();
    for &n in &r.config.widths {
        let points: Vec<_> = r.points.iter().filter(|p| p.width == n).collect();
        if points.is_empty() {
            continue;
        }
        series.push(Series {
            name: format!("n = {n}"),
            points: points
                .iter()
                .map(|p| (p.depth as f64 / n as f64, p.ntk_ratio))
                .collect(),
        });
        errors.push(points.iter().map(|p| p.ntk_stderr).collect());
        if let Some(t) = points
            .iter()
            .map(|p| p.ntk_theory.map(|t| (p.depth as f64 / n as f64, t)))
            .collect::<Option<Vec<_>>>()
            && t.len() > 1
        {
            theory.push(Series {
                name: format!("layer-sum law, n = {n}"),
                points: t,
            });
        }
    }
    if series.is_empty() {
        return Err(Error::plot(
            "NTK fluctuations",
            "no grid point finished yet",
        ));
    }
    if r.points.iter().all(|p| p.ntk_growth_law.is_some()) {
        let hi = r
            .points
            .iter()
            .map(|p| p.depth as f64 / p.width as f64)
            .fold(0.0f64, f64::max);
        theory.push(Series {
            name: "Hanin & Nica rate exp(5 L/n)".into(),
            points: (0..=40)
                .map(|i| {
                    let x = hi * f64::from(i) / 40.0;
                    (x, (5.0 * x).exp())
                })
                .collect(),
        });
    }
    Ok(vec![Figure::Line(LinePlot {
        title: "Tangent-kernel fluctuations grow with L/n".into(),
        x_label: "depth-to-width ratio L/n".into(),
        y_label: "E[Θ²] / E[Θ]² (log scale)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Log,
        series,
        markers: Vec::new(),
        errors,
        theory,
    })])
}

/// `depth,width,ratio,kurtosis_ratio,stderr,theory,theory_leading,ntk_ratio,ntk_stderr,
/// ntk_theory,ntk_growth_law` per grid point.
pub fn aspect_csv(r: &AspectResult) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let mut csv = String::from(
        "depth,width,depth_over_width,kurtosis_ratio,stderr,theory,theory_leading,ntk_ratio,ntk_stderr,ntk_theory,ntk_growth_law\n",
    );
    for p in &r.points {
        csv += &format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            p.depth,
            p.width,
            p.depth as f64 / p.width as f64,
            p.kurtosis_ratio,
            p.stderr,
            opt(p.theory),
            opt(p.theory_leading),
            p.ntk_ratio,
            p.ntk_stderr,
            opt(p.ntk_theory),
            opt(p.ntk_growth_law)
        );
    }
    csv
}

/// A number as a label writes it: at most three decimals, without trailing zeros (1, 0.785).
fn short_number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The critical point on the `C_b = 0` edge of the plane, where the line `chi_1 = 1` ends: for
/// an odd phi without bias `q* = 0` while `C_W phi'(0)^2 <= 1`, so `chi_1 = C_W phi'(0)^2` and
/// the critical `C_W` is `1 / phi'(0)^2` (tanh: 1; erf: pi/4). `None` when the diagram does not
/// reach `C_b = 0` or that `C_W`.
fn edge_critical_point(r: &CriticalityResult) -> Option<Series> {
    let c = &r.config;
    let slope = c.activation.derivative(0.0f64);
    let w = 1.0 / (slope * slope);
    let (lo, hi) = c.weight_var_range;
    (c.plane() && c.bias_var_range.0 == 0.0 && w.is_finite() && (lo..=hi).contains(&w)).then(|| {
        Series {
            name: format!("critical point ({}, 0)", short_number(w)),
            points: vec![(w, 0.0)],
        }
    })
}

/// One heat map of the phase diagram, with the line `chi_1 = 1`, the chosen point and the
/// critical point on the `C_b = 0` edge on top.
fn phase_map(
    r: &CriticalityResult,
    title: &str,
    label: &str,
    value: impl Fn(&Criticality) -> Option<f64>,
) -> Result<Figure> {
    let c = &r.config;
    let rows = r.diagram.len() / c.cells;
    let values: Vec<f64> = r.diagram[..rows * c.cells]
        .iter()
        .map(|p| value(p).unwrap_or(f64::NAN))
        .collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::plot(title, "a cell has no fixed point"));
    }
    let (blo, bhi) = c.bias_var_range;
    let y_hi = blo + (bhi - blo) * rows as f64 / c.cells as f64;
    let edge = edge_critical_point(r);
    // The line computed at the rows' centres, from its end on the C_b = 0 edge (its limit:
    // below the first row it bends steeply down to the critical point).
    let line: Vec<(f64, f64)> = edge
        .iter()
        .flat_map(|e| e.points.iter().copied())
        .chain(r.critical_line.iter().copied().filter(|(w, _)| {
            w.is_finite() && (c.weight_var_range.0..=c.weight_var_range.1).contains(w)
        }))
        .collect();
    let mut overlay = vec![Series {
        name: "your (C_W, C_b)".into(),
        points: vec![(c.weight_var, c.bias_var)],
    }];
    overlay.extend(edge);
    Ok(Figure::Heatmap(Heatmap {
        title: title.into(),
        x_label: "weight variance σ_w² = C_W".into(),
        y_label: "bias variance σ_b² = C_b".into(),
        x_range: c.weight_var_range,
        y_range: (blo, y_hi.max(blo + 1e-9)),
        nx: c.cells,
        ny: rows,
        values,
        colorbar_label: label.into(),
        overlay,
        contours: Vec::new(),
        lines: if line.len() > 1 {
            vec![Series {
                name: "order-to-chaos line χ₁ = 1".into(),
                points: line,
            }]
        } else {
            Vec::new()
        },
    }))
}

/// A depth scale as a map colours it: `log10(1 + xi)`, capped at `xi = 10^6` layers (where it
/// diverges, on the line or at the critical point).
fn log_depth(xi: Option<f64>) -> Option<f64> {
    xi.map(|x| (1.0 + x.min(1e6)).log10())
}

/// The phase diagram: `chi_1`, `q*`, `log10 xi_q`, `log10 xi_c` and `c*` over the plane (tanh,
/// erf), or `chi_1`, `q*`, `xi_q` and `xi_c` along the `C_b = 0` edge (ReLU, GELU).
pub fn phase_diagram(r: &CriticalityResult) -> Result<Vec<Figure>> {
    let c = &r.config;
    if r.diagram.len() < c.cells {
        return Err(Error::plot("phase diagram", "no row computed yet"));
    }
    if c.plane() {
        return Ok(vec![
            phase_map(
                r,
                "χ₁ = C_W E[φ'(√q* z)²]",
                "χ₁ (ordered < 1 < chaotic)",
                |p| p.chi_1,
            )?,
            phase_map(
                r,
                "Length fixed point q*",
                "q* (E[z²] of deep layers)",
                |p| p.q_star,
            )?,
            phase_map(
                r,
                "Length depth scale ξ_q",
                "log10(1 + ξ_q / layer)",
                |p| log_depth(p.xi_q),
            )?,
            phase_map(
                r,
                "Correlation depth scale ξ_c",
                "log10(1 + ξ_c / layer)",
                |p| log_depth(p.xi_c),
            )?,
            phase_map(r, "Correlation fixed point c*", "c*", |p| p.c_star)?,
        ]);
    }
    // Along the edge: (C_W, value) where the value exists, is finite and (on a log axis)
    // positive; q* = 0 (the signal dies out) is kept on its linear axis.
    let xs = |f: &dyn Fn(&Criticality) -> Option<f64>, log: bool| -> Vec<(f64, f64)> {
        (0..c.cells)
            .filter_map(|i| f(&r.diagram[i]).map(|v| (c.weight_var_at(i), v)))
            .filter(|(_, v)| v.is_finite() && (*v > 0.0 || (!log && *v >= 0.0)))
            .collect()
    };
    let critical = r
        .critical_line
        .first()
        .map(|l| l.0)
        .filter(|w| w.is_finite());
    // The dashed vertical at the critical C_W spans the panel's values (a unit, or a factor 2
    // either way on a log axis, where they are all equal).
    let vertical = |points: &[(f64, f64)], log: bool| {
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(_, v)| {
                (a.min(v), b.max(v))
            });
        let (lo, hi) = match (hi > lo, log) {
            (true, _) => (lo, hi),
            (false, true) => (lo / 2.0, lo * 2.0),
            (false, false) => (lo, lo + 1.0),
        };
        critical.map(|w| Series {
            name: format!("critical C_W = {w:.3}"),
            points: vec![(w, lo), (w, hi)],
        })
    };
    let panel = |title: &str, y: &str, points: Vec<(f64, f64)>, log: bool| {
        let theory = vertical(&points, log).into_iter().collect();
        Figure::Line(LinePlot {
            title: title.into(),
            x_label: "weight variance C_W (C_b = 0)".into(),
            y_label: y.into(),
            x_scale: Scale::Linear,
            y_scale: if log { Scale::Log } else { Scale::Linear },
            series: vec![Series {
                name: "mean-field theory".into(),
                points,
            }],
            markers: Vec::new(),
            errors: Vec::new(),
            theory,
        })
    };
    let chi = xs(&|p| p.chi_1, false);
    // Without bias the ordered edge's q* is 0: GELU's iterated map stops where q underflows
    // (about 1e-313), drawn as the 0 it is (the CSV keeps the number).
    let q = xs(
        &|p| {
            p.q_star
                .map(|q| if q < 1e-12 * c.q_input { 0.0 } else { q })
        },
        false,
    );
    let xi_q = xs(&|p| p.xi_q, true);
    let xi_c = xs(&|p| p.xi_c, true);
    if chi.len() < 2 || xi_c.len() < 2 {
        return Err(Error::plot(
            "phase diagram",
            "too few cells with a fixed point",
        ));
    }
    let mut panels = vec![panel("χ₁ along the C_b = 0 edge", "χ₁", chi, false)];
    // q* and xi_q may be missing across the whole range (q diverges; xi_q is infinite): then
    // their panels are left out rather than the figure.
    if !q.is_empty() {
        panels.push(panel(
            "Fixed point q* along the edge",
            "q* (missing where q diverges)",
            q,
            false,
        ));
    }
    if !xi_q.is_empty() {
        panels.push(panel(
            "Depth scale ξ_q along the edge",
            "ξ_q (layers, log scale)",
            xi_q,
            true,
        ));
    }
    panels.push(panel(
        "Depth scale ξ_c along the edge",
        "ξ_c (layers, log scale)",
        xi_c,
        true,
    ));
    Ok(panels)
}

/// `weight_var,bias_var,q_star,c_star,chi_1,chi_q,xi_q,xi_c` per cell.
pub fn phase_csv(r: &CriticalityResult) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let c = &r.config;
    let mut csv = String::from("weight_var,bias_var,q_star,c_star,chi_1,chi_q,xi_q,xi_c\n");
    for (k, p) in r.diagram.iter().enumerate() {
        csv += &format!(
            "{},{},{},{},{},{},{},{}\n",
            c.weight_var_at(k % c.cells),
            c.bias_var_at(k / c.cells),
            opt(p.q_star),
            opt(p.c_star),
            opt(p.chi_1),
            opt(p.chi_q),
            opt(p.xi_q),
            opt(p.xi_c)
        );
    }
    csv
}

/// Kernel flow below, at and above criticality: `q^(l)`, `c^(l)` and `E|df/dz^(l)|^2`,
/// ensembles (markers) beside the exact iteration of the maps (dashed).
pub fn kernel_flow(r: &CriticalityResult) -> Result<Vec<Figure>> {
    if r.flows.is_empty() {
        return Err(Error::plot("kernel flow", "no ensemble finished yet"));
    }
    let name = |k: usize| {
        let m = FLOW_MULTIPLES[k];
        let which = if m < 1.0 {
            "ordered"
        } else if m > 1.0 {
            "chaotic"
        } else {
            "critical"
        };
        format!("{which}, C_W = {:.2}", r.flows[k].config.weight_var)
    };
    type Pick = fn(&crate::experiments::depth::ensemble::LayerStats) -> (f64, f64);
    let panel = |title: &str, y: &str, log: bool, pick: Pick| {
        let mut series = Vec::new();
        let mut theory = Vec::new();
        for (k, f) in r.flows.iter().enumerate() {
            let ok = |v: f64| v.is_finite() && (!log || v > 0.0);
            let pts: Vec<(f64, (f64, f64))> = f
                .layers
                .iter()
                .map(|l| (l.layer as f64, pick(l)))
                .filter(|(_, (m, t))| ok(*m) && ok(*t))
                .collect();
            series.push(Series {
                name: name(k),
                points: pts.iter().map(|&(x, (m, _))| (x, m)).collect(),
            });
            theory.push(Series {
                name: format!("maps, {}", name(k).split(',').next().unwrap_or("")),
                points: pts.iter().map(|&(x, (_, t))| (x, t)).collect(),
            });
        }
        Figure::Line(LinePlot {
            title: title.into(),
            x_label: "layer l".into(),
            y_label: y.into(),
            x_scale: Scale::Linear,
            y_scale: if log { Scale::Log } else { Scale::Linear },
            series,
            markers: Vec::new(),
            errors: Vec::new(),
            theory,
        })
    };
    Ok(vec![
        panel("Length q^(l)", "E[z²] (log scale)", true, |l| {
            (l.moments.second_moment, l.moments.kernel)
        }),
        panel("Correlation c^(l) of two inputs", "c^(l)", false, |l| {
            (l.correlation, l.correlation_theory)
        }),
        panel(
            "Gradient norm through depth",
            "E|∂f/∂z^(l)|² (log scale)",
            true,
            |l| (l.gradient_norm, l.gradient_theory),
        ),
    ])
}

/// `weight_var,layer,second_moment,kernel,correlation,correlation_theory,gradient_norm,
/// gradient_theory` per flow and layer.
pub fn kernel_flow_csv(r: &CriticalityResult) -> String {
    let mut csv = String::from(
        "weight_var,layer,second_moment,kernel,correlation,correlation_theory,gradient_norm,gradient_theory\n",
    );
    for f in &r.flows {
        for l in &f.layers {
            csv += &format!(
                "{},{},{},{},{},{},{},{}\n",
                f.config.weight_var,
                l.layer,
                l.moments.second_moment,
                l.moments.kernel,
                l.correlation,
                l.correlation_theory,
                l.gradient_norm,
                l.gradient_theory
            );
        }
    }
    csv
}

/// Gradients through depth over the diagram: the measured `E|df/dz^(1)|^2 / E|df/dz^(L)|^2`
/// as a map (log10, white at 1) with the line `chi_1 = 1`, and measured against mean-field
/// theory cell by cell beside the identity (tanh, erf); along the `C_b = 0` edge, the ratio
/// against `C_W` with one-standard-error bars beside theory (ReLU, GELU).
pub fn gradient_ratio(r: &CriticalityResult) -> Result<Vec<Figure>> {
    let c = &r.config;
    let rows = r.gradient_ratio.len() / c.cells;
    if rows == 0 {
        return Err(Error::plot("gradient ratio", "no row computed yet"));
    }
    let cells = &r.gradient_ratio[..rows * c.cells];
    if let Some(k) = cells
        .iter()
        .position(|g| !(g.measured > 0.0 && g.measured.is_finite() && g.theory > 0.0))
    {
        return Err(Error::plot(
            "gradient ratio",
            format!("cell {k} has no finite positive ratio"),
        ));
    }
    let layers = format!("L = {}, n = {}", c.flow_depth, c.flow_width);
    if !c.plane() {
        let at = |f: &dyn Fn(&crate::experiments::depth::criticality::GradientCell) -> f64| {
            cells
                .iter()
                .enumerate()
                .map(|(i, g)| (c.weight_var_at(i), f(g)))
                .collect::<Vec<_>>()
        };
        let measured = at(&|g| g.measured);
        let (lo, hi) = measured
            .iter()
            .chain(at(&|g| g.theory).iter())
            .fold((f64::INFINITY, 0.0f64), |(a, b), &(_, v)| {
                (a.min(v), b.max(v))
            });
        let mut theory = vec![Series {
            name: "mean field ∏ C_W E[φ'²]".into(),
            points: at(&|g| g.theory),
        }];
        if let Some(&(w, _)) = r.critical_line.first().filter(|l| l.0.is_finite()) {
            theory.push(Series {
                name: format!("critical C_W = {w:.3}"),
                points: vec![(w, lo), (w, hi)],
            });
        }
        return Ok(vec![Figure::Line(LinePlot {
            title: format!("Gradient ratio first / last layer ({layers})"),
            x_label: "weight variance C_W (C_b = 0)".into(),
            y_label: "E|∂f/∂z¹|² / E|∂f/∂zᴸ|² (log scale)".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Log,
            series: vec![Series {
                name: format!("{} networks per C_W ± 1 s.e.", c.gradient_samples),
                points: measured,
            }],
            markers: Vec::new(),
            errors: vec![cells.iter().map(|g| g.stderr).collect()],
            theory,
        })]);
    }
    let (blo, bhi) = c.bias_var_range;
    let y_hi = blo + (bhi - blo) * rows as f64 / c.cells as f64;
    let line: Vec<(f64, f64)> = r
        .critical_line
        .iter()
        .copied()
        .filter(|(w, _)| w.is_finite() && (c.weight_var_range.0..=c.weight_var_range.1).contains(w))
        .collect();
    let map = Figure::Heatmap(Heatmap {
        title: format!("Measured gradient ratio ({layers})"),
        x_label: "weight variance σ_w² = C_W".into(),
        y_label: "bias variance σ_b² = C_b".into(),
        x_range: c.weight_var_range,
        y_range: (blo, y_hi.max(blo + 1e-9)),
        nx: c.cells,
        ny: rows,
        values: cells.iter().map(|g| g.measured.log10()).collect(),
        colorbar_label: "log10 E|∂f/∂z¹|² / E|∂f/∂zᴸ|²".into(),
        overlay: Vec::new(),
        contours: Vec::new(),
        lines: if line.len() > 1 {
            vec![Series {
                name: "theory: χ₁ = 1".into(),
                points: line,
            }]
        } else {
            Vec::new()
        },
    });
    let pairs: Vec<(f64, f64)> = cells
        .iter()
        .map(|g| (g.theory.log10(), g.measured.log10()))
        .collect();
    let (lo, hi) = pairs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &(t, m)| {
            (a.min(t.min(m)), b.max(t.max(m)))
        });
    let scatter = Figure::Line(LinePlot {
        title: "Every cell: measured against mean field".into(),
        x_label: "theory log10 ∏ C_W E[φ'(√qˡ z)²]".into(),
        y_label: "measured log10 ratio".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series: Vec::new(),
        markers: vec![Series {
            name: format!("cells, {} networks each", c.gradient_samples),
            points: pairs,
        }],
        errors: Vec::new(),
        theory: vec![Series {
            name: "measured = theory".into(),
            points: vec![(lo, lo), (hi, hi)],
        }],
    });
    Ok(vec![map, scatter])
}

/// `weight_var,bias_var,measured,stderr,theory` per cell of the gradient-ratio map.
pub fn gradient_csv(r: &CriticalityResult) -> String {
    let c = &r.config;
    let mut csv = String::from("weight_var,bias_var,measured,stderr,theory\n");
    for (k, g) in r.gradient_ratio.iter().enumerate() {
        csv += &format!(
            "{},{},{},{},{}\n",
            c.weight_var_at(k % c.cells),
            c.bias_var_at(k / c.cells),
            g.measured,
            g.stderr,
            g.theory
        );
    }
    csv
}

/// The readout's excess kurtosis against the skip weight gamma: ensembles with one-standard-
/// error bars beside the vertex recursion's curve.
pub fn skip_weight(r: &ResidualResult) -> Result<Vec<Figure>> {
    if r.points.is_empty() {
        return Err(Error::plot("skip weight", "no skip weight finished yet"));
    }
    let c = &r.config;
    Ok(vec![Figure::Line(LinePlot {
        title: format!(
            "A skip slows the vertex's growth ({}, L = {}, n = {})",
            c.activation, c.depth, c.width
        ),
        x_label: "skip weight γ".into(),
        y_label: "readout excess kurtosis 3 V / (n K²)".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series: vec![Series {
            name: format!("{} networks each", c.samples),
            points: r
                .points
                .iter()
                .map(|p| (p.residual, 3.0 * (p.kurtosis_ratio - 1.0)))
                .collect(),
        }],
        markers: Vec::new(),
        errors: vec![r.points.iter().map(|p| 3.0 * p.stderr).collect()],
        theory: vec![Series {
            name: "vertex recursion with the skip".into(),
            points: r
                .theory
                .iter()
                .map(|&(g, t)| (g, 3.0 * (t - 1.0)))
                .collect(),
        }],
    })])
}

/// One row per skip weight: measured and predicted kurtosis ratio.
pub fn skip_weight_csv(r: &ResidualResult) -> String {
    let mut csv = String::from("residual,kurtosis_ratio,stderr,theory\n");
    for p in &r.points {
        let theory = p.theory.map_or(String::new(), |t| t.to_string());
        csv += &format!(
            "{},{},{},{theory}\n",
            p.residual, p.kurtosis_ratio, p.stderr
        );
    }
    csv
}
