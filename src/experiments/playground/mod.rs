//! The Playground room (TensorFlow Playground on our core): a network trained on 2-D points,
//! seen through its output and its hidden units over the input plane.
//!
//! Training itself is [`training::Training`]; this module turns a network into the
//! room's maps: what the network predicts on a grid of the plane and what each hidden unit
//! computes there.

pub mod curves;
pub mod figures;
pub mod training;

use crate::core::budget::Cost;
use crate::core::data::{Dataset, DatasetName, Targets};
use crate::core::loss::Loss;
use crate::core::mlp::Mlp;
use crate::core::scalar::Float;
use crate::core::train::{TrainConfig, TrainResult};
use crate::error::{Error, Result};
use crate::experiments::{Experiment, FigureData};
use nalgebra::DMatrix;
use training::Training;

/// Cells per side of the decision map.
pub const GRID: usize = 48;
/// Cells per side of a hidden unit's map.
pub const UNIT_GRID: usize = 24;
/// Hidden layers shown as maps of their units.
pub const UNIT_LAYERS: usize = 2;
/// Units shown per layer.
pub const UNITS: usize = 6;

/// Finest grid drawn (cells per side).
pub const MAX_RESOLUTION: usize = 256;

/// A square window of the input plane cut into `n x n` cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plane {
    /// Left and right edges.
    pub x: (f64, f64),
    /// Bottom and top edges.
    pub y: (f64, f64),
    /// Cells per side.
    pub n: usize,
}

impl Plane {
    /// The smallest square centred on the data's bounding box that holds every point with a
    /// 10% margin on each side, cut into `n x n` cells.
    pub fn around(data: &[&Dataset], n: usize) -> Result<Plane> {
        if !(1..=MAX_RESOLUTION).contains(&n) {
            return Err(Error::config(
                "resolution",
                format!("{n} cells per side is not in 1..={MAX_RESOLUTION}"),
            ));
        }
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        for set in data {
            if set.input_dim() != 2 {
                return Err(Error::Shape {
                    what: "playground data".into(),
                    expected: "2 features (points in the plane)".into(),
                    found: format!("{} features", set.input_dim()),
                });
            }
            for p in set.features.column_iter() {
                for i in 0..2 {
                    lo[i] = lo[i].min(p[i]);
                    hi[i] = hi[i].max(p[i]);
                }
            }
        }
        if !lo[0].is_finite() {
            return Err(Error::Data("no points to draw".into()));
        }
        let half = (0..2)
            .map(|i| (hi[i] - lo[i]) / 2.0)
            .fold(0.0f64, f64::max)
            .max(1e-6)
            * 1.2;
        let centre = |i: usize| (lo[i] + hi[i]) / 2.0;
        Ok(Plane {
            x: (centre(0) - half, centre(0) + half),
            y: (centre(1) - half, centre(1) + half),
            n,
        })
    }

    /// The cell centres as network inputs `[2, n*n]`, row-major: column `iy * n + ix` is the
    /// centre of cell `(ix, iy)` (the layout of [`crate::plot::Heatmap`]).
    pub fn centres<T: Float>(&self) -> DMatrix<T> {
        let n = self.n;
        let (dx, dy) = (
            (self.x.1 - self.x.0) / n as f64,
            (self.y.1 - self.y.0) / n as f64,
        );
        DMatrix::from_fn(2, n * n, |r, c| {
            let (ix, iy) = (c % n, c / n);
            T::of_f64(if r == 0 {
                self.x.0 + (ix as f64 + 0.5) * dx
            } else {
                self.y.0 + (iy as f64 + 0.5) * dy
            })
        })
    }
}

/// What the decision map shows at each cell.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionMap {
    /// The cell values, row-major over the plane.
    pub values: Vec<f64>,
    /// What a value means (the colour bar's label).
    pub label: String,
}

/// The network's verdict over the plane. Two classes under cross-entropy: the probability of
/// class 1, `softmax(f)_1 = 1 / (1 + exp(f_0 - f_1))`. Two outputs under MSE: `f_1 - f_0`. More
/// classes: the predicted class `argmax_k f_k`. One output: `f` itself.
pub fn decision_map<T: Float>(mlp: &Mlp<T>, plane: &Plane, loss: Loss) -> Result<DecisionMap> {
    let out = mlp.predict(&plane.centres::<T>())?;
    let k = out.nrows();
    let column = |c: usize| out.column(c).iter().map(|v| v.as_f64()).collect::<Vec<_>>();
    let (values, label) = match (k, loss) {
        (1, _) => (
            (0..out.ncols()).map(|c| out[(0, c)].as_f64()).collect(),
            "network output f(x)".to_string(),
        ),
        (2, Loss::CrossEntropy) => (
            (0..out.ncols())
                .map(|c| {
                    let f = column(c);
                    1.0 / (1.0 + (f[0] - f[1]).exp())
                })
                .collect(),
            "P(class 1 | x)".to_string(),
        ),
        (2, Loss::Mse) => (
            (0..out.ncols())
                .map(|c| {
                    let f = column(c);
                    f[1] - f[0]
                })
                .collect(),
            "f_1(x) - f_0(x)".to_string(),
        ),
        _ => (
            (0..out.ncols())
                .map(|c| {
                    let f = column(c);
                    (0..k).fold(0, |best, i| if f[i] > f[best] { i } else { best }) as f64
                })
                .collect(),
            "predicted class".to_string(),
        ),
    };
    Ok(DecisionMap { values, label })
}

/// What hidden unit `unit` of hidden layer `layer` (1-based, `h_layer = phi(z_layer)`) outputs
/// over the plane, for the first `units` units of each of the first `layers` hidden layers:
/// `maps[l][i]` is layer `l + 1`, unit `i`, row-major over the plane.
pub fn unit_maps<T: Float>(
    mlp: &Mlp<T>,
    plane: &Plane,
    layers: usize,
    units: usize,
) -> Result<Vec<Vec<Vec<f64>>>> {
    let forward = mlp.forward(&plane.centres::<T>())?;
    Ok(forward
        .activations
        .iter()
        .skip(1)
        .take(layers.min(mlp.depth()))
        .map(|h| {
            (0..units.min(h.nrows()))
                .map(|i| h.row(i).iter().map(|v| v.as_f64()).collect())
                .collect()
        })
        .collect())
}

/// The points of `data` grouped by class, for drawing: `(class, points)`.
pub fn points_by_class(data: &Dataset) -> Vec<(usize, Vec<(f64, f64)>)> {
    let mut groups: Vec<(usize, Vec<(f64, f64)>)> = Vec::new();
    let labels: Vec<usize> = match &data.targets {
        Targets::Classes { labels, .. } => labels.clone(),
        Targets::Values(v) => v.row(0).iter().map(|&y| usize::from(y > 0.0)).collect(),
    };
    for (p, &c) in data.features.column_iter().zip(&labels) {
        match groups.iter_mut().find(|(k, _)| *k == c) {
            Some((_, pts)) => pts.push((p[0], p[1])),
            None => groups.push((c, vec![(p[0], p[1])])),
        }
    }
    groups.sort_by_key(|(c, _)| *c);
    groups
}

/// The training curves: loss (and accuracy, for classes) on train and test against step.
pub fn curves_figure(result: &TrainResult) -> Result<FigureData> {
    Ok(FigureData {
        stem: "curves",
        panels: curves::curves(result)?,
        panel_size: (450, 340),
        csv: curves::curves_csv(result),
    })
}

/// The decision map over the train (and test) points.
pub fn decision_figure(
    plane: &Plane,
    map: &DecisionMap,
    train: &Dataset,
    test: Option<&Dataset>,
) -> FigureData {
    FigureData {
        stem: "decision-map",
        panels: vec![figures::decision_map(plane, map, train, test)],
        panel_size: (560, 460),
        csv: figures::decision_map_csv(plane, map),
    }
}

/// The maps of the first [`UNITS`] units of the first [`UNIT_LAYERS`] hidden layers over
/// `plane` at [`UNIT_GRID`] cells a side, one figure per layer.
pub fn unit_figures(network: &Mlp<f64>, plane: &Plane) -> Result<Vec<FigureData>> {
    let mut figures = Vec::new();
    for layer in 0..UNIT_LAYERS {
        figures.extend(unit_figure(network, plane, layer)?);
    }
    Ok(figures)
}

/// The maps of the first [`UNITS`] units of hidden layer `layer + 1` (None if the network has
/// fewer hidden layers), as [`unit_figures`] draws them.
pub fn unit_figure(network: &Mlp<f64>, plane: &Plane, layer: usize) -> Result<Option<FigureData>> {
    const STEMS: [&str; UNIT_LAYERS] = ["units-layer-1", "units-layer-2"];
    let unit_plane = Plane {
        n: UNIT_GRID,
        ..*plane
    };
    let maps = unit_maps(network, &unit_plane, layer + 1, UNITS)?;
    let drawn = figures::unit_maps(&unit_plane, &maps)
        .into_iter()
        .nth(layer);
    let (Some(stem), Some(panels)) = (STEMS.get(layer), drawn) else {
        return Ok(None);
    };
    Ok(Some(FigureData {
        stem,
        csv: figures::unit_maps_csv(&unit_plane, &panels),
        panels,
        panel_size: (180, 170),
    }))
}

/// The room's maps of a network trained on points of the plane, as the page draws them: the
/// decision map over the train (and test) points, and the maps of the first hidden units.
pub fn figures(
    network: &Mlp<f64>,
    train: &Dataset,
    test: Option<&Dataset>,
    loss: Loss,
) -> Result<Vec<FigureData>> {
    let plane = Plane::around(&[train], GRID)?;
    let map = decision_map(network, &plane, loss)?;
    let mut figures = vec![decision_figure(&plane, &map, train, test)];
    figures.extend(unit_figures(network, &plane)?);
    Ok(figures)
}

/// `train` by name: a network trained on a built-in data set (a CSV of the user's goes through
/// the subcommand's `--data` or the page's upload, which read the file). Its figure here is
/// the curves, the one drawn from the result alone; the decision and unit maps need the
/// trained network, which the subcommand's `--out` and the page draw.
impl Experiment for TrainConfig {
    const NAME: &'static str = "train";
    type Result = TrainResult;
    type Session = Training;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let (rows, input, outputs) = self.data.shape();
        Ok(TrainConfig::cost(self, rows, input, outputs))
    }

    fn start(&self) -> Result<Training> {
        if self.data.dataset == DatasetName::Csv {
            return Err(Error::config(
                "data.dataset",
                "csv names the user's file: train it with `theorylab train --data FILE.csv`",
            ));
        }
        let (train, test) = self.make_data()?;
        Training::new(self, &train, test.as_ref())
    }

    fn figures(result: &TrainResult) -> Result<Vec<FigureData>> {
        Ok(vec![curves_figure(result)?])
    }
}
