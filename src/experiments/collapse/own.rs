//! NC1-NC4 of features made elsewhere (exported from PyTorch, say): CSV files read into the
//! measures the room computes, for `theorylab nc-metrics` and the page's upload. Every error
//! names its file (and, from the CSV reader, the line).

use super::training::{Snapshot, snapshot};
use crate::core::collapse::{Classifier, NcMetrics, nc_metrics};
use crate::core::data::parse_points;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Most classes an upload may have (class means are d x C numbers): ImageNet's 1000, ten times.
pub const MAX_UPLOADED_CLASSES: usize = 10_000;

/// A file's name and its text.
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    /// What the errors call it.
    pub name: &'a str,
    /// Its contents.
    pub text: &'a str,
}

/// Features, labels and (optionally) the classifier, read from CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnFeatures {
    /// `[d, N]`: one sample per row of the file.
    pub features: DMatrix<f64>,
    /// One class index per sample.
    pub labels: Vec<usize>,
    /// `W`, `[C, d]`: C rows of d numbers.
    pub classifier: Option<DMatrix<f64>>,
    /// `b`, one value per row of its file.
    pub bias: Option<DVector<f64>>,
}

/// The error `e` as one in the file `name`.
fn in_file(name: &str) -> impl Fn(Error) -> Error + '_ {
    move |e| Error::Io {
        path: name.into(),
        reason: e.to_string(),
    }
}

/// A one-column file as a list, or an error naming it.
fn column(file: Named<'_>, what: &str) -> Result<Vec<f64>> {
    let table = parse_points(file.text).map_err(in_file(file.name))?;
    if table.nrows() != 1 {
        return Err(in_file(file.name)(Error::Data(format!(
            "rows have {} columns: give one {what} per row",
            table.nrows()
        ))));
    }
    Ok(table.iter().copied().collect())
}

impl OwnFeatures {
    /// Reads the files; labels must be class indices 0, 1, 2, ...; a bias needs a classifier.
    pub fn read(
        features: Named<'_>,
        labels: Named<'_>,
        classifier: Option<Named<'_>>,
        bias: Option<Named<'_>>,
    ) -> Result<Self> {
        let table = parse_points(features.text).map_err(in_file(features.name))?;
        let labels = column(labels, "label")?
            .iter()
            .enumerate()
            .map(|(i, &y)| {
                if y.fract() == 0.0 && (0.0..MAX_UPLOADED_CLASSES as f64).contains(&y) {
                    Ok(y as usize)
                } else {
                    Err(in_file(labels.name)(Error::Data(format!(
                        "label {y} of sample {} is not a class index 0, 1, 2, ... below {MAX_UPLOADED_CLASSES}",
                        i + 1
                    ))))
                }
            })
            .collect::<Result<Vec<usize>>>()?;
        let classifier = classifier
            .map(|w| {
                parse_points(w.text)
                    .map(|w| w.transpose())
                    .map_err(in_file(w.name))
            })
            .transpose()?;
        if bias.is_some() && classifier.is_none() {
            return Err(Error::config(
                "bias",
                "give the classifier W with its bias b",
            ));
        }
        let bias = bias
            .map(|b| column(b, "bias value").map(DVector::from_vec))
            .transpose()?;
        Ok(OwnFeatures {
            features: table,
            labels,
            classifier,
            bias,
        })
    }

    /// C: the classifier's row count when given, else one more than the largest label.
    pub fn classes(&self) -> usize {
        self.classifier.as_ref().map_or_else(
            || self.labels.iter().max().map_or(0, |m| m + 1),
            |w| w.nrows(),
        )
    }

    /// NC1-NC4 (the classifier's measures only with a classifier); shape mismatches, labels
    /// out of range and empty classes are errors naming the problem.
    pub fn metrics(&self) -> Result<NcMetrics> {
        nc_metrics(
            &self.features,
            &self.labels,
            self.classes(),
            self.classifier.as_ref().map(|w| Classifier {
                weight: w,
                bias: self.bias.as_ref(),
            }),
        )
    }

    /// The metrics, then the features and class means on the means' top principal directions
    /// (as the room's scrubber shows a record, at epoch 0).
    pub fn measure(&self) -> Result<(NcMetrics, Snapshot)> {
        let metrics = self.metrics()?;
        Ok((
            metrics,
            snapshot(0, &self.features, &self.labels, self.classes()),
        ))
    }

    /// Samples per class.
    pub fn class_sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.classes()];
        for &y in &self.labels {
            if let Some(n) = sizes.get_mut(y) {
                *n += 1;
            }
        }
        sizes
    }
}
