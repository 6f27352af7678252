//! The Depth room's trained networks at a fixed parameter budget: test loss (and test error
//! for a classification task) against L/n, one point per depth with its seeds' mean and
//! standard error, and PDLT's optimal ratio as a dashed vertical line.

use crate::error::{Error, Result};
use crate::experiments::depth::trained::{TrainedPoint, TrainedResult, mean_and_stderr};
use crate::plot::{Figure, LinePlot, Scale, Series};

/// `(L/n, mean, standard error)` per depth.
type Summary = Vec<(f64, f64, f64)>;

/// Points with at least two finished networks: `(L/n, mean, stderr)` of `value`.
fn summary(r: &TrainedResult, value: impl Fn(&TrainedPoint) -> Vec<f64>) -> Summary {
    r.points
        .iter()
        .filter_map(|p| {
            let v = value(p);
            (v.len() >= 2).then(|| {
                let (m, s) = mean_and_stderr(&v);
                (p.ratio, m, s)
            })
        })
        .collect()
}

/// The dashed vertical line at `r*` spanning `values`' range.
fn optimum_line(r: &TrainedResult, lo: f64, hi: f64) -> Option<Series> {
    r.optimal_ratio.map(|x| Series {
        name: format!("PDLT r* = 4 / (20 + 3 n_L) = {x:.3}"),
        points: vec![(x, lo), (x, hi)],
    })
}

/// A panel of `(L/n, mean, stderr)` series, log-log, with the optimum line.
fn panel(r: &TrainedResult, title: String, y_label: &str, named: Vec<(&str, Summary)>) -> Figure {
    // The r* line spans the data: from the lowest bar's bottom (or, where a bar reaches zero,
    // the lowest mean) to the highest bar's top.
    let (lo, hi) = named.iter().flat_map(|(_, s)| s.iter()).fold(
        (f64::INFINITY, 0.0f64),
        |(a, b), &(_, m, s)| {
            let bottom = if m - s > 0.0 { m - s } else { m };
            (a.min(bottom), b.max(m + s.max(0.0)))
        },
    );
    Figure::Line(LinePlot {
        title,
        x_label: "depth-to-width ratio L/n (log scale)".into(),
        y_label: y_label.into(),
        x_scale: Scale::Log,
        y_scale: Scale::Log,
        errors: named
            .iter()
            .map(|(_, s)| s.iter().map(|p| p.2).collect())
            .collect(),
        series: named
            .into_iter()
            .map(|(name, s)| Series {
                name: name.into(),
                points: s.iter().map(|p| (p.0, p.1)).collect(),
            })
            .collect(),
        markers: Vec::new(),
        theory: optimum_line(r, lo, hi).into_iter().collect(),
    })
}

/// Test and training loss against L/n; for a classification task also the test error.
pub fn trained_aspect(r: &TrainedResult) -> Result<Vec<Figure>> {
    let test = summary(r, |p| p.test_loss.clone());
    if test.is_empty() {
        return Err(Error::plot(
            "loss at a fixed budget",
            "no depth has two trained networks yet",
        ));
    }
    let train = summary(r, |p| p.train_loss.clone());
    let classification = r.points.iter().any(|p| !p.test_accuracy.is_empty());
    let loss = if classification {
        "cross-entropy (nats, log scale)"
    } else {
        "mean squared error (log scale)"
    };
    let c = &r.config;
    let without = if r.optimal_ratio.is_none() {
        format!(
            " (no PDLT r* for {} at C_W = {}, C_b = {})",
            c.activation, c.weight_var, c.bias_var
        )
    } else {
        String::new()
    };
    let mut panels = vec![panel(
        r,
        format!("Loss at {} parameters{without}", c.params),
        loss,
        vec![("test", test), ("training", train)],
    )];
    // A depth whose networks classify every test sample correctly has error 0: no point on a
    // log axis (it is in the CSV).
    let error: Summary = summary(r, |p| {
        p.test_accuracy.iter().map(|a| 100.0 * (1.0 - a)).collect()
    })
    .into_iter()
    .filter(|p| p.1 > 0.0)
    .collect();
    if classification && !error.is_empty() {
        panels.push(panel(
            r,
            "Test error at the same budget".into(),
            "test error (%, log scale)",
            vec![("test error", error)],
        ));
    }
    Ok(panels)
}

/// One row per depth: its architecture, the seeds' means and standard errors, the optimum.
pub fn trained_csv(r: &TrainedResult) -> String {
    let mut csv = String::from(
        "depth,width,params,depth_over_width,networks,diverged,test_loss,test_loss_stderr,train_loss,train_loss_stderr,test_accuracy,test_accuracy_stderr,pdlt_optimal_ratio\n",
    );
    let opt = r.optimal_ratio.map_or(String::new(), |v| v.to_string());
    for p in &r.points {
        let (tl, tls) = mean_and_stderr(&p.test_loss);
        let (rl, rls) = mean_and_stderr(&p.train_loss);
        let (acc, accs) = if p.test_accuracy.is_empty() {
            (String::new(), String::new())
        } else {
            let (a, s) = mean_and_stderr(&p.test_accuracy);
            (a.to_string(), s.to_string())
        };
        csv += &format!(
            "{},{},{},{},{},{},{tl},{tls},{rl},{rls},{acc},{accs},{opt}\n",
            p.depth,
            p.width,
            p.params,
            p.ratio,
            p.test_loss.len(),
            p.diverged
        );
    }
    csv
}
