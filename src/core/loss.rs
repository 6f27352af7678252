//! Losses with PyTorch's default reductions, so numbers compare directly:
//! `mse` = `nn.MSELoss()` = mean over all `k * batch` output entries of `(f - y)^2`;
//! `cross_entropy` = `nn.CrossEntropyLoss()` = mean over samples of `logsumexp(f) - f_y`.

use super::scalar::Float;
use super::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use nalgebra::DMatrix;

/// The training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Loss {
    /// Mean squared error; class labels become one-hot targets.
    Mse,
    /// Softmax cross-entropy on class labels.
    #[default]
    CrossEntropy,
}

impl Choice for Loss {
    const WHAT: &'static str = "loss";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Loss::Mse, "mse", "mean squared error"),
        Entry::new(Loss::CrossEntropy, "cross_entropy", "cross-entropy").or(&["ce"]),
    ];
}
crate::choice_by_name!(Loss);

/// Targets of one batch.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a, T: Float> {
    /// Class indices, one per column of the output.
    Classes(&'a [usize]),
    /// Real targets `[k, batch]`.
    Values(&'a DMatrix<T>),
}

impl Loss {
    /// The loss (accumulated in f64) and its gradient with respect to the output.
    pub fn value_and_gradient<T: Float>(
        self,
        output: &DMatrix<T>,
        target: Target<'_, T>,
    ) -> Result<(f64, DMatrix<T>)> {
        check_target(output, target)?;
        let (k, batch) = output.shape();
        match (self, target) {
            (Loss::Mse, _) => {
                let scale = 1.0 / (k * batch) as f64;
                let mut gradient = output.clone();
                let mut total = 0.0;
                for (j, mut column) in gradient.column_iter_mut().enumerate() {
                    for (i, f) in column.iter_mut().enumerate() {
                        let residual = f.as_f64() - target_value(target, i, j);
                        total += residual * residual;
                        *f = T::of_f64(2.0 * scale * residual);
                    }
                }
                Ok((total * scale, gradient))
            }
            (Loss::CrossEntropy, Target::Classes(labels)) => {
                let scale = 1.0 / batch as f64;
                let mut gradient = output.clone();
                let mut total = 0.0;
                for (mut column, &label) in gradient.column_iter_mut().zip(labels) {
                    let logits: Vec<f64> = column.iter().map(|f| f.as_f64()).collect();
                    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = logits.iter().map(|f| (f - max).exp()).sum();
                    let log_sum_exp = max + sum.ln();
                    total += log_sum_exp - logits[label];
                    for (i, g) in column.iter_mut().enumerate() {
                        let softmax = (logits[i] - log_sum_exp).exp();
                        let one_hot = if i == label { 1.0 } else { 0.0 };
                        *g = T::of_f64(scale * (softmax - one_hot));
                    }
                }
                Ok((total * scale, gradient))
            }
            (Loss::CrossEntropy, Target::Values(_)) => Err(Error::config(
                "loss",
                "cross-entropy needs class labels; use mse for real-valued targets",
            )),
        }
    }

    /// The loss alone.
    pub fn value<T: Float>(self, output: &DMatrix<T>, target: Target<'_, T>) -> Result<f64> {
        Ok(self.value_and_gradient(output, target)?.0)
    }
}

/// Target entry (i, j) as a real number: one-hot for class labels.
fn target_value<T: Float>(target: Target<'_, T>, i: usize, j: usize) -> f64 {
    match target {
        Target::Classes(labels) => f64::from(u8::from(labels[j] == i)),
        Target::Values(values) => values[(i, j)].as_f64(),
    }
}

fn check_target<T: Float>(output: &DMatrix<T>, target: Target<'_, T>) -> Result<()> {
    let (k, batch) = output.shape();
    let mismatch = |expected: String, found: String| {
        Err(Error::Shape {
            what: "loss targets".into(),
            expected,
            found,
        })
    };
    match target {
        Target::Classes(labels) => {
            if labels.len() != batch {
                return mismatch(format!("{batch} labels"), labels.len().to_string());
            }
            if let Some(bad) = labels.iter().find(|&&l| l >= k) {
                return mismatch(
                    format!("labels below {k} (the output size)"),
                    bad.to_string(),
                );
            }
        }
        Target::Values(values) => {
            if values.shape() != (k, batch) {
                return mismatch(
                    format!("{k} x {batch}"),
                    format!("{} x {}", values.nrows(), values.ncols()),
                );
            }
        }
    }
    Ok(())
}

/// Fraction of columns whose largest output is the label (ties go to the first index).
pub fn accuracy<T: Float>(output: &DMatrix<T>, labels: &[usize]) -> f64 {
    let correct = output
        .column_iter()
        .zip(labels)
        .filter(|(column, label)| argmax(column.iter()) == **label)
        .count();
    correct as f64 / labels.len().max(1) as f64
}

fn argmax<'a, T: Float>(values: impl Iterator<Item = &'a T>) -> usize {
    let mut best = (0, None::<T>);
    for (i, &v) in values.enumerate() {
        if best.1.is_none_or(|b| v > b) {
            best = (i, Some(v));
        }
    }
    best.0
}
