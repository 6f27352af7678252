//! Figures of a training run: loss (log scale) and accuracy against step.

use crate::core::train::TrainResult;
use crate::core::vocabulary::Choice;
use crate::error::Result;
use crate::plot::{Figure, LinePlot, Scale, Series};

fn series(name: &str, steps: &[usize], values: &[f64]) -> Option<Series> {
    (!values.is_empty()).then(|| Series {
        name: name.to_string(),
        points: steps
            .iter()
            .zip(values)
            .map(|(&s, &v)| (s as f64, v))
            .collect(),
    })
}

/// The loss panel (log y, since losses fall over decades) and, for classification, the
/// accuracy panel.
pub fn curves(result: &TrainResult) -> Result<Vec<Figure>> {
    let c = &result.curves;
    let loss_name = result.config.loss.name().replace('_', "-");
    // Losses fall over decades: log scale, unless a loss reached exactly 0 (then linear).
    let positive = c.train_loss.iter().chain(&c.test_loss).all(|&l| l > 0.0);
    let (y_scale, scale_name) = if positive {
        (Scale::Log, "log scale")
    } else {
        (Scale::Linear, "linear scale")
    };
    let mut panels = vec![Figure::Line(LinePlot {
        title: format!("Training loss ({loss_name})"),
        x_label: "optimizer step".into(),
        y_label: format!("{loss_name} loss ({scale_name})"),
        x_scale: Scale::Linear,
        y_scale,
        markers: Vec::new(),
        errors: Vec::new(),
        theory: Vec::new(),
        series: [
            series("train", &c.step, &c.train_loss),
            series("test", &c.step, &c.test_loss),
        ]
        .into_iter()
        .flatten()
        .collect(),
    })];
    if !c.train_accuracy.is_empty() {
        panels.push(Figure::Line(LinePlot {
            title: "Accuracy".into(),
            x_label: "optimizer step".into(),
            y_label: "accuracy (fraction correct)".into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            markers: Vec::new(),
            errors: Vec::new(),
            theory: Vec::new(),
            series: [
                series("train", &c.step, &c.train_accuracy),
                series("test", &c.step, &c.test_accuracy),
            ]
            .into_iter()
            .flatten()
            .collect(),
        }));
    }
    Ok(panels)
}

/// The curves as CSV: `step,train_loss,train_accuracy,test_loss,test_accuracy` (empty cells
/// where a curve does not exist).
pub fn curves_csv(result: &TrainResult) -> String {
    let c = &result.curves;
    let cell = |v: &[f64], i: usize| v.get(i).map_or(String::new(), |x| format!("{x}"));
    let mut out = String::from("step,train_loss,train_accuracy,test_loss,test_accuracy\n");
    for (i, step) in c.step.iter().enumerate() {
        out += &format!(
            "{step},{},{},{},{}\n",
            cell(&c.train_loss, i),
            cell(&c.train_accuracy, i),
            cell(&c.test_loss, i),
            cell(&c.test_accuracy, i)
        );
    }
    out
}
