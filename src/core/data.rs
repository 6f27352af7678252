//! Data sets: synthetic sets drawn from a seed, the UCI optical digits, and user CSV files.
//!
//! # Shapes
//! Features are stored column per sample, `[dim, samples]` (nalgebra is column-major, so this is
//! the same memory as a row-major `[samples, dim]` table), matching the networks' layout.

use super::abc::{Abc, AbcRules};
use super::activation::Activation;
use super::bounds;
use super::mlp::{Mlp, MlpConfig};
use super::rng::{Rng, Stream};
use super::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::io::Read;

/// What a network is asked to predict for each sample.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// A class index per sample, `labels[i] < num_classes`.
    Classes {
        /// The class of each sample.
        labels: Vec<usize>,
        /// How many classes there are (some may have no sample).
        num_classes: usize,
    },
    /// Real targets, `[outputs, samples]`.
    Values(DMatrix<f64>),
}

/// Samples with their targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Features, `[dim, samples]`.
    pub features: DMatrix<f64>,
    /// Targets for the same samples, in the same order.
    pub targets: Targets,
}

impl Dataset {
    /// Checks that features and targets agree and are finite.
    pub fn new(features: DMatrix<f64>, targets: Targets) -> Result<Self> {
        let samples = features.ncols();
        if samples == 0 || features.nrows() == 0 {
            return Err(Error::Data(
                "the data set has no samples or no features".into(),
            ));
        }
        if features.iter().any(|x| !x.is_finite()) {
            return Err(Error::Data(
                "features contain NaN or infinite values".into(),
            ));
        }
        let found = match &targets {
            Targets::Classes {
                labels,
                num_classes,
            } => {
                if let Some(bad) = labels.iter().find(|&&l| l >= *num_classes) {
                    return Err(Error::Data(format!(
                        "label {bad} is not below the number of classes {num_classes}"
                    )));
                }
                labels.len()
            }
            Targets::Values(values) => {
                if values.iter().any(|x| !x.is_finite()) {
                    return Err(Error::Data("targets contain NaN or infinite values".into()));
                }
                values.ncols()
            }
        };
        if found != samples {
            return Err(Error::Shape {
                what: "targets".into(),
                expected: format!("{samples} samples"),
                found: format!("{found}"),
            });
        }
        Ok(Dataset { features, targets })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.ncols()
    }

    /// Whether there are no samples (never true for a constructed data set).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        self.features.nrows()
    }

    /// Network outputs needed: the number of classes, or of target columns.
    pub fn output_dim(&self) -> usize {
        match &self.targets {
            Targets::Classes { num_classes, .. } => *num_classes,
            Targets::Values(values) => values.nrows(),
        }
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let targets = match &self.targets {
            Targets::Classes {
                labels,
                num_classes,
            } => Targets::Classes {
                labels: indices.iter().map(|&i| labels[i]).collect(),
                num_classes: *num_classes,
            },
            Targets::Values(values) => Targets::Values(values.select_columns(indices)),
        };
        Dataset {
            features: self.features.select_columns(indices),
            targets,
        }
    }

    /// A random split into (train, test) with `round(test_fraction * len)` test samples; with
    /// `test_fraction = 0` the test set is `None`.
    pub fn split(&self, test_fraction: f64, rng: &mut Rng) -> Result<(Dataset, Option<Dataset>)> {
        if !(0.0..1.0).contains(&test_fraction) {
            return Err(Error::config(
                "test fraction",
                format!("{test_fraction} is not in [0, 1)"),
            ));
        }
        let test_len = (test_fraction * self.len() as f64).round() as usize;
        if test_len == 0 {
            return Ok((self.clone(), None));
        }
        if test_len >= self.len() {
            return Err(Error::Data(format!(
                "{} samples are too few to hold out {test_len} for testing",
                self.len()
            )));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut order);
        let (test, train) = order.split_at(test_len);
        Ok((self.select(train), Some(self.select(test))))
    }
}

/// Most classes a data set may have (generated or read from a CSV).
pub const MAX_CLASSES: usize = 10_000;

/// Largest synthetic data set accepted (samples x dim), 2^27 values = 1 GiB in f64.
pub const MAX_DATA_VALUES: usize = 1 << 27;

/// The built-in data sets, plus `csv` for a user file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DatasetName {
    /// Two interleaved spirals in 2-D (TensorFlow Playground).
    #[default]
    Spiral,
    /// A disk inside a ring in 2-D.
    Circles,
    /// Four quadrants labelled by sign(x y) in 2-D.
    Xor,
    /// `classes` isotropic Gaussians in `dim` dimensions, means `separation` apart from 0.
    GaussianMixture,
    /// Gaussian inputs, targets from a random one-hidden-layer tanh teacher plus noise.
    TeacherStudent,
    /// Inputs uniform on the unit sphere S^(dim-1), targets from a random teacher plus noise.
    Sphere,
    /// UCI optical digits, 8x8 images, 10 classes (1797 samples).
    Digits,
    /// A user CSV file (loaded by the caller, see [`parse_csv`]).
    Csv,
}

impl Choice for DatasetName {
    const WHAT: &'static str = "data set";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(DatasetName::Spiral, "spiral", "Spiral"),
        Entry::new(DatasetName::Circles, "circles", "Circle"),
        Entry::new(DatasetName::Xor, "xor", "Exclusive or"),
        Entry::new(
            DatasetName::GaussianMixture,
            "gaussian_mixture",
            "Gaussians",
        ),
        Entry::new(
            DatasetName::TeacherStudent,
            "teacher_student",
            "Teacher-student",
        ),
        Entry::new(DatasetName::Sphere, "sphere", "Unit sphere"),
        Entry::new(DatasetName::Digits, "digits", "Optical digits"),
        Entry::new(DatasetName::Csv, "csv", "Your CSV…"),
    ];
}
crate::choice_by_name!(DatasetName);

/// How to make a data set: which one and its knobs. Unused knobs are ignored by a data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// Which data set.
    pub dataset: DatasetName,
    /// Number of samples drawn (synthetic sets only).
    pub samples: usize,
    /// Noise standard deviation: input jitter for the 2-D toys, target noise for teachers.
    pub noise: f64,
    /// Fraction of samples held out for testing.
    pub test_fraction: f64,
    /// Input dimension (gaussian_mixture, teacher_student, sphere).
    pub dim: usize,
    /// Number of classes (gaussian_mixture).
    pub classes: usize,
    /// Distance of each class mean from the origin, in units of the noise-free std 1.
    pub separation: f64,
    /// Hidden width of the random teacher (teacher_student, sphere).
    pub teacher_width: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: DatasetName::Spiral,
            samples: 400,
            noise: 0.05,
            test_fraction: 0.2,
            dim: 8,
            classes: 3,
            separation: 3.0,
            teacher_width: 16,
        }
    }
}

impl DataConfig {
    /// `(rows, input dimension, outputs)` of the data set [`Self::generate`] draws (a CSV
    /// file's shape is known once it is read).
    pub fn shape(&self) -> (usize, usize, usize) {
        let n = self.samples;
        match self.dataset {
            DatasetName::Spiral | DatasetName::Circles | DatasetName::Xor => (n, 2, 2),
            DatasetName::GaussianMixture => (n, self.dim, self.classes),
            DatasetName::TeacherStudent | DatasetName::Sphere => (n, self.dim, 1),
            DatasetName::Digits => (1797, 64, 10),
            DatasetName::Csv => (0, 0, 0),
        }
    }

    /// Draws the data set from `seed` (stream [`Stream::Data`]).
    pub fn generate(&self, seed: u64) -> Result<Dataset> {
        self.validate()?;
        let rng = &mut Rng::new(seed, Stream::Data);
        let n = self.samples;
        match self.dataset {
            DatasetName::Spiral => Ok(spiral(n, self.noise, rng)),
            DatasetName::Circles => Ok(circles(n, self.noise, rng)),
            DatasetName::Xor => Ok(xor(n, self.noise, rng)),
            DatasetName::GaussianMixture => Ok(gaussian_mixture(
                n,
                self.classes,
                self.dim,
                self.separation,
                rng,
            )),
            DatasetName::TeacherStudent => {
                teacher_student(n, self.dim, self.teacher_width, self.noise, false, rng)
            }
            DatasetName::Sphere => {
                teacher_student(n, self.dim, self.teacher_width, self.noise, true, rng)
            }
            DatasetName::Digits => digits(),
            DatasetName::Csv => Err(Error::config(
                "dataset",
                "'csv' needs a file: pass it with --data FILE.csv",
            )),
        }
    }

    /// Checks every knob's domain.
    pub fn validate(&self) -> Result<()> {
        let synthetic = !matches!(self.dataset, DatasetName::Digits | DatasetName::Csv);
        if synthetic {
            bounds::SAMPLES.check(self.samples)?;
        }
        let values = self.samples.saturating_mul(self.dim.max(2));
        if synthetic && values > MAX_DATA_VALUES {
            return Err(Error::config(
                "samples",
                format!(
                    "{} samples x {} dims exceed the {MAX_DATA_VALUES} values that fit in memory here",
                    self.samples,
                    self.dim.max(2)
                ),
            ));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::config(
                "noise",
                format!("{} must be finite and >= 0", self.noise),
            ));
        }
        if !(0.0..1.0).contains(&self.test_fraction) {
            return Err(Error::config(
                "test_fraction",
                format!("{} is not in [0, 1)", self.test_fraction),
            ));
        }
        let needs_dim = matches!(
            self.dataset,
            DatasetName::GaussianMixture | DatasetName::TeacherStudent | DatasetName::Sphere
        );
        if needs_dim {
            bounds::DIM.check(self.dim)?;
        }
        // Checked whatever the data set: every config is echoed in the results.
        if !self.separation.is_finite() {
            return Err(Error::config(
                "separation",
                format!("{} must be finite", self.separation),
            ));
        }
        if self.dataset == DatasetName::GaussianMixture
            && !(2..=MAX_CLASSES).contains(&self.classes)
        {
            return Err(Error::config(
                "classes",
                format!("{} is not between 2 and {MAX_CLASSES}", self.classes),
            ));
        }
        if matches!(
            self.dataset,
            DatasetName::TeacherStudent | DatasetName::Sphere
        ) {
            bounds::WIDTH.check_as("teacher_width", self.teacher_width)?;
        }
        Ok(())
    }
}

fn two_class(points: Vec<[f64; 2]>, labels: Vec<usize>) -> Dataset {
    let features = DMatrix::from_fn(2, points.len(), |r, c| points[c][r]);
    Dataset {
        features,
        targets: Targets::Classes {
            labels,
            num_classes: 2,
        },
    }
}

/// Two spirals, r = t / n in [0, 1), angle 3.5 pi r (+ pi for class 1), plus N(0, noise^2)
/// jitter per coordinate (the TensorFlow Playground spiral, rescaled to the unit disk).
pub fn spiral(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let half = n.div_ceil(2);
    let (mut points, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let class = i % 2;
        let r = (i / 2) as f64 / half as f64;
        let angle = 1.75 * 2.0 * PI * r + PI * class as f64;
        points.push([
            r * angle.sin() + noise * rng.normal(),
            r * angle.cos() + noise * rng.normal(),
        ]);
        labels.push(class);
    }
    two_class(points, labels)
}

/// Class 0 uniform in the disk of radius 0.5, class 1 in the ring 0.7..1, plus jitter.
pub fn circles(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let (mut points, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let class = i % 2;
        let radius = if class == 0 {
            0.5 * rng.uniform().sqrt()
        } else {
            rng.uniform_in(0.7, 1.0)
        };
        let angle = rng.uniform_in(0.0, 2.0 * PI);
        points.push([
            radius * angle.cos() + noise * rng.normal(),
            radius * angle.sin() + noise * rng.normal(),
        ]);
        labels.push(class);
    }
    two_class(points, labels)
}

/// Uniform in [-1, 1]^2 kept 0.05 away from the axes, label 1 where x y > 0, plus jitter
/// after labelling.
pub fn xor(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let (mut points, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let coordinate = |rng: &mut Rng| {
        let x = rng.uniform_in(-1.0, 1.0);
        x + 0.05 * x.signum()
    };
    for _ in 0..n {
        let (x, y) = (coordinate(rng), coordinate(rng));
        labels.push(usize::from(x * y > 0.0));
        points.push([x + noise * rng.normal(), y + noise * rng.normal()]);
    }
    two_class(points, labels)
}

/// Balanced classes (`i % classes`) around means `separation * u_c`, `u_c` uniform on the unit
/// sphere, with identity covariance.
pub fn gaussian_mixture(
    n: usize,
    classes: usize,
    dim: usize,
    separation: f64,
    rng: &mut Rng,
) -> Dataset {
    let means: Vec<Vec<f64>> = (0..classes)
        .map(|_| {
            unit_vector(dim, rng)
                .into_iter()
                .map(|u| separation * u)
                .collect()
        })
        .collect();
    let labels: Vec<usize> = (0..n).map(|i| i % classes).collect();
    let features = DMatrix::from_fn(dim, n, |_, _| rng.normal())
        + DMatrix::from_fn(dim, n, |r, c| means[labels[c]][r]);
    Dataset {
        features,
        targets: Targets::Classes {
            labels,
            num_classes: classes,
        },
    }
}

/// A uniform point on S^(dim-1): a normalized standard Gaussian vector.
fn unit_vector(dim: usize, rng: &mut Rng) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-12 {
            return v.into_iter().map(|x| x / norm).collect();
        }
    }
}

/// Regression data: inputs and real targets, before they become a [`Dataset`].
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// Inputs `[dim, n]`.
    pub features: DMatrix<f64>,
    /// Targets `[1, n]`.
    pub values: DMatrix<f64>,
}

/// [`teacher_regression`] as a data set.
pub fn teacher_student(
    n: usize,
    dim: usize,
    teacher_width: usize,
    noise: f64,
    on_sphere: bool,
    rng: &mut Rng,
) -> Result<Dataset> {
    let Regression { features, values } =
        teacher_regression(n, dim, teacher_width, noise, on_sphere, rng)?;
    Dataset::new(features, Targets::Values(values))
}

/// Targets `y = f*(x) + noise * N(0, 1)` from a random teacher `f*`: one hidden tanh layer of
/// `teacher_width` units in NTK parametrization (so f* is O(1) at any width). Inputs are
/// N(0, I_dim), or uniform on the unit sphere when `on_sphere`.
pub fn teacher_regression(
    n: usize,
    dim: usize,
    teacher_width: usize,
    noise: f64,
    on_sphere: bool,
    rng: &mut Rng,
) -> Result<Regression> {
    let teacher_config = MlpConfig {
        input_dim: dim,
        hidden: vec![teacher_width],
        output_dim: 1,
        activation: Activation::Tanh,
        bias: false,
        residual: None,
        // Multipliers 1 and n^-1/2 on standard-normal weights (the NTK parametrization).
        rules: AbcRules {
            input: Abc::new(0.0, 0.0, 0.0),
            hidden: Abc::new(0.5, 0.0, 0.0),
            output: Abc::new(0.5, 0.0, 0.0),
        },
        sigma_w: 1.0,
        sigma_b: 0.0,
    };
    let teacher = Mlp::<f64>::init(&teacher_config, rng)?;
    let features = if on_sphere {
        let columns: Vec<f64> = (0..n).flat_map(|_| unit_vector(dim, rng)).collect();
        DMatrix::from_vec(dim, n, columns)
    } else {
        DMatrix::from_fn(dim, n, |_, _| rng.normal())
    };
    let mut values = teacher.predict(&features)?;
    values.iter_mut().for_each(|y| *y += noise * rng.normal());
    Ok(Regression { features, values })
}

/// The shipped `data/optdigits.csv.gz`: in the binary natively; in the page, the bytes the page
/// fetched beside its wasm ([`provide_digits`]), so that 57 KB of incompressible data is not
/// in the wasm every visitor downloads whether or not a room uses the digits.
#[cfg(not(target_arch = "wasm32"))]
fn digits_gz() -> Result<&'static [u8]> {
    Ok(include_bytes!("../../data/optdigits.csv.gz"))
}

#[cfg(target_arch = "wasm32")]
static DIGITS_GZ: std::sync::OnceLock<std::result::Result<Vec<u8>, String>> =
    std::sync::OnceLock::new();

/// The page hands over `data/optdigits.csv.gz` as fetched (or why it could not), once.
#[cfg(target_arch = "wasm32")]
pub fn provide_digits(gz: std::result::Result<Vec<u8>, String>) {
    let _ = DIGITS_GZ.set(gz);
}

#[cfg(target_arch = "wasm32")]
fn digits_gz() -> Result<&'static [u8]> {
    match DIGITS_GZ.get() {
        Some(Ok(gz)) => Ok(gz),
        Some(Err(why)) => Err(Error::Data(format!(
            "the digits data set could not be loaded ({why})"
        ))),
        None => Err(Error::Data("the digits data set is still loading".into())),
    }
}

/// The UCI optical digits (1797 8x8 images, pixels 0..16 scaled to [0, 1], 10 classes), shipped
/// in `data/optdigits.csv.gz` (CC BY 4.0, Alpaydin & Kaynak 1998).
pub fn digits() -> Result<Dataset> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(digits_gz()?)
        .read_to_string(&mut text)
        .map_err(|e| Error::Data(format!("the shipped digits file is corrupt: {e}")))?;
    let mut data = parse_csv(&text, TargetColumns::Class)?;
    data.features /= 16.0;
    Ok(data)
}

/// Which CSV columns are targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetColumns {
    /// The last column is a class index 0, 1, 2, ... (for cross-entropy).
    Class,
    /// The last `k` columns are real targets (for MSE).
    Values(usize),
}

/// The numeric rows of a CSV table and the (1-based) line of each (see [`parse_csv`]).
fn parse_csv_rows(text: &str) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut row_lines: Vec<usize> = Vec::new();
    let mut width: Option<(usize, usize)> = None; // (columns, line where first seen)
    // A UTF-8 byte-order mark (Excel's CSV export) is not part of the first cell.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = trimmed.split(',').map(str::trim).collect();
        let numbers: Vec<Option<f64>> = cells.iter().map(|c| c.parse::<f64>().ok()).collect();
        if rows.is_empty() && width.is_none() && numbers.iter().all(Option::is_none) {
            width = Some((cells.len(), line)); // header
            continue;
        }
        match width {
            Some((columns, first)) if columns != cells.len() => {
                return Err(Error::Csv {
                    line,
                    reason: format!(
                        "{} columns, but line {first} has {columns} (ragged rows)",
                        cells.len()
                    ),
                });
            }
            None => width = Some((cells.len(), line)),
            _ => {}
        }
        let mut row = Vec::with_capacity(cells.len());
        for (column, (cell, number)) in cells.iter().zip(numbers).enumerate() {
            match number {
                Some(x) if x.is_finite() => row.push(x),
                _ => {
                    return Err(Error::Csv {
                        line,
                        reason: format!("column {}: '{cell}' is not a finite number", column + 1),
                    });
                }
            }
        }
        rows.push(row);
        row_lines.push(line);
    }
    if rows.is_empty() {
        return Err(Error::Data("the CSV file has no data rows".into()));
    }
    Ok((rows, row_lines))
}

/// Parses a CSV table of points, one per row, every column a coordinate (as [`parse_csv`],
/// without targets): `[dim, rows]`.
pub fn parse_points(text: &str) -> Result<DMatrix<f64>> {
    let (rows, _) = parse_csv_rows(text)?;
    Ok(DMatrix::from_fn(rows[0].len(), rows.len(), |r, c| {
        rows[c][r]
    }))
}

/// Parses a CSV table, one sample per row: features, then the target column(s). Blank lines
/// and lines starting with `#` are skipped; a first row without any number is a header.
/// Errors name the (1-based) line: ragged rows, cells that are not numbers, non-integer
/// labels, an empty file.
pub fn parse_csv(text: &str, targets: TargetColumns) -> Result<Dataset> {
    let target_cols = match targets {
        TargetColumns::Class => 1,
        TargetColumns::Values(0) => {
            return Err(Error::config("target columns", "must be at least 1"));
        }
        TargetColumns::Values(k) => k,
    };
    let (rows, row_lines) = parse_csv_rows(text)?;
    let columns = rows[0].len();
    if columns <= target_cols {
        return Err(Error::Data(format!(
            "rows have {columns} columns: need at least one feature before {target_cols} target column(s)"
        )));
    }
    let dim = columns - target_cols;
    let features = DMatrix::from_fn(dim, rows.len(), |r, c| rows[c][r]);
    let targets = match targets {
        TargetColumns::Class => {
            let mut labels = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let label = row[dim];
                if label < 0.0 || label.fract() != 0.0 {
                    return Err(Error::Csv {
                        line: row_lines[i],
                        reason: format!("class label {label:.6} is not a non-negative integer"),
                    });
                }
                if label >= MAX_CLASSES as f64 {
                    return Err(Error::Csv {
                        line: row_lines[i],
                        reason: format!(
                            "class label {label:e} is above the {MAX_CLASSES} classes supported"
                        ),
                    });
                }
                labels.push(label as usize);
            }
            let num_classes = labels.iter().max().map_or(0, |m| m + 1).max(2);
            Targets::Classes {
                labels,
                num_classes,
            }
        }
        TargetColumns::Values(k) => {
            Targets::Values(DMatrix::from_fn(k, rows.len(), |r, c| rows[c][dim + r]))
        }
    };
    Dataset::new(features, targets)
}
