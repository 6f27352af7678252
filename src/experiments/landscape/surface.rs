//! The loss on a plane through a solution `theta*`: `L(theta* + a d1 + b d2)` on a grid of
//! (a, b), with `d1, d2` filter-normalized Gaussian directions or the top two principal
//! directions of the training trajectory, and the trajectory projected onto the plane (Li et
//! al. 2018, sections 4 and 7). The grid is evaluated coarse first (every few points), then
//! filled in, so a figure exists early and sharpens.

use super::problem::Problem;
use super::{CLI_MAX_WORK, Prepare, SLICE_WORK, Subject, check_range, check_work, progress};
use crate::core::bounds;
use crate::core::directions::{
    BiasDirection, filter_normalized_direction, project, trajectory_pca,
};
use crate::core::ensemble::{CpuEnsemble, Ensemble, evaluations_per_slice};
use crate::core::hessian::Objective;
use crate::core::mlp::Mlp;
use crate::core::optim::OptimizerConfig;
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::core::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

/// Most points along each axis of the grid: [`bounds::GRID`].
pub const MAX_GRID: usize = bounds::GRID.max;
/// The PCA plane covers the trajectory's extent times this margin (times `span`).
pub const PCA_MARGIN: f64 = 1.25;

/// Which plane the surface is drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DirectionKind {
    /// Two filter-normalized Gaussian directions (Li et al. 2018, section 4).
    #[default]
    Filter,
    /// The top two principal directions of the trajectory's offsets from the solution
    /// (section 7).
    Pca,
}

impl Choice for DirectionKind {
    const WHAT: &'static str = "directions";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(DirectionKind::Filter, "filter", "filter-normalized random"),
        Entry::new(DirectionKind::Pca, "pca", "PCA of the trajectory"),
    ];
}
crate::choice_by_name!(DirectionKind);

/// The surface around the problem's solution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurfaceConfig {
    /// The network and its training.
    pub problem: Problem,
    /// Points along each axis (odd, so the solution is a grid point).
    pub grid: usize,
    /// Half-width of the grid: in units of the directions for filter-normalized ones (Li et
    /// al.'s [-1, 1] is span 1), in units of the trajectory's extent (times 1.25) for PCA.
    pub span: f64,
    /// Which plane.
    pub directions: DirectionKind,
    /// What filter normalization does with the biases.
    pub bias: BiasDirection,
}

impl Default for SurfaceConfig {
    fn default() -> Self {
        SurfaceConfig {
            problem: Problem::default(),
            grid: 51,
            span: 1.0,
            directions: DirectionKind::Filter,
            bias: BiasDirection::Zero,
        }
    }
}

impl SurfaceConfig {
    /// Multiply-adds of the grid: one forward pass per point over train and test samples.
    pub fn grid_work(&self, params: f64, samples: f64) -> f64 {
        (self.grid * self.grid) as f64 * samples * params
    }

    /// Multiply-adds of training and the grid.
    pub fn work(&self) -> f64 {
        let (_, _, samples) = self.problem.data_shape();
        self.problem.training_work() + self.grid_work(self.problem.weights(), samples as f64)
    }

    /// Checks the grid's fields (not the problem's).
    pub fn validate_grid(&self) -> Result<()> {
        check_range("grid", self.grid, 3..=MAX_GRID)?;
        if self.grid.is_multiple_of(2) {
            return Err(Error::config(
                "grid",
                format!(
                    "{} is even: use an odd number so the solution is the centre point",
                    self.grid
                ),
            ));
        }
        if !(self.span.is_finite() && self.span > 0.0 && self.span <= 100.0) {
            return Err(Error::config(
                "span",
                format!("{} must be finite, > 0 and at most 100", self.span),
            ));
        }
        Ok(())
    }

    /// Checks every field, naming the bad one, and the price.
    pub fn validate(&self) -> Result<()> {
        self.problem.validate()?;
        self.validate_grid()?;
        if self.directions == DirectionKind::Pca && self.problem.epochs < 2 {
            return Err(Error::config(
                "epochs",
                "PCA directions need at least 3 checkpoints: train for at least 2 epochs",
            ));
        }
        check_work("grid", self.work(), CLI_MAX_WORK, "landscape")
    }
}

/// What the plane is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaneInfo {
    /// `filter` or `pca`.
    pub kind: String,
    /// For PCA: the fraction of the trajectory's variance each direction explains.
    pub explained_variance: Option<[f64; 2]>,
    /// `||d1||`, `||d2||` (filter-normalized directions have the weights' norm when biases
    /// move with them).
    pub norms: [f64; 2],
    /// `cos(d1, d2)` (near 0 for random directions in high dimension, 0 for PCA).
    pub cosine: f64,
}

/// Loss and accuracy along one axis of the grid through the solution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Slice1d {
    /// Coordinates along the direction.
    pub coords: Vec<f64>,
    /// Training loss.
    pub train_loss: Vec<f64>,
    /// Test loss (empty without a test set).
    pub test_loss: Vec<f64>,
    /// Training accuracy (empty for regression).
    pub train_accuracy: Vec<f64>,
    /// Test accuracy.
    pub test_accuracy: Vec<f64>,
}

/// What the surface reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SurfaceResult {
    /// The config that ran.
    pub config: SurfaceConfig,
    /// `trained` or the model file's name.
    pub source: String,
    /// Whether the network was trained by this run (else it came from a file).
    pub trained_here: bool,
    /// Trainable parameters D.
    pub params: usize,
    /// Points per axis evaluated so far (the config's grid once finished; coarser before).
    pub grid: usize,
    /// Coordinates of the grid points along each axis.
    pub axis: Vec<f64>,
    /// Training loss at `(axis[i], axis[j])`, index `j * grid + i` (i along d1).
    pub train_loss: Vec<f64>,
    /// Training accuracy, same layout (empty for regression).
    pub train_accuracy: Vec<f64>,
    /// Test loss, same layout (empty without a test set).
    pub test_loss: Vec<f64>,
    /// Test accuracy.
    pub test_accuracy: Vec<f64>,
    /// The plane.
    pub plane: Option<PlaneInfo>,
    /// The trajectory's checkpoints (init, then every epoch) projected onto the plane.
    pub trajectory: Vec<[f64; 2]>,
    /// The 1-D slices through the solution along d1 and d2.
    pub slices: [Slice1d; 2],
    /// Per direction d, the local quadratic model of the training loss along it, from the
    /// exact gradient and Hessian-vector product: `[L*, g . d, d^T H d]`, so that
    /// `L(theta* + a d) = L* + a g . d + a^2 d^T H d / 2 + O(a^3)`.
    pub quadratic: Vec<[f64; 3]>,
}

enum Phase {
    Prepare(Prepare),
    Grid(Box<Grid>),
    Done,
}

/// The plane and the evaluations so far.
struct Grid {
    subject: Subject,
    center: DVector<f64>,
    d1: DVector<f64>,
    d2: DVector<f64>,
    axis: Vec<f64>,
    /// Strides from coarse to fine (each divides grid - 1; the last is 1).
    strides: Vec<usize>,
    level: usize,
    /// Grid points left at this level, in order.
    pending: Vec<usize>,
    /// `(train loss, train acc, test loss, test acc)` per grid point, when evaluated.
    values: Vec<Option<[f64; 4]>>,
}

/// The running surface: grid points are networks evaluated through the ensemble engine `E`
/// (the f64 CPU reference by default, or the GPU).
pub struct SurfaceRun<E: Ensemble = CpuEnsemble<f64>> {
    device: E::Device,
    config: SurfaceConfig,
    phase: Phase,
    done: usize,
    result: SurfaceResult,
}

/// Coarse-to-fine strides for a grid of `n` (odd) points: a stride giving at least 9 points
/// per axis and keeping the centre (the solution) a grid point, i.e. dividing (n - 1) / 2, if
/// one exists; then 1.
pub fn strides(n: usize) -> Vec<usize> {
    let half = (n - 1) / 2;
    let coarse = (2..=(n - 1) / 8).rev().find(|s| half.is_multiple_of(*s));
    coarse.into_iter().chain([1]).collect()
}

impl SurfaceRun {
    /// Trains the problem's network, then evaluates the surface on the CPU in f64.
    pub fn new(config: &SurfaceConfig) -> Result<Self> {
        SurfaceRun::on((), config)
    }

    /// The surface around a network trained elsewhere, on the CPU in f64.
    pub fn from_subject(config: &SurfaceConfig, subject: Subject) -> Result<Self> {
        SurfaceRun::from_subject_on((), config, subject)
    }
}

impl<E: Ensemble> SurfaceRun<E> {
    /// Trains the problem's network (on the CPU), then evaluates the surface on `device`.
    pub fn on(device: E::Device, config: &SurfaceConfig) -> Result<Self> {
        config.validate()?;
        Self::with(device, config, Prepare::train(&config.problem)?, "trained")
    }

    /// The surface around a network trained elsewhere (filter directions only: a file has no
    /// trajectory).
    pub fn from_subject_on(
        device: E::Device,
        config: &SurfaceConfig,
        subject: Subject,
    ) -> Result<Self> {
        config.validate_grid()?;
        if config.directions == DirectionKind::Pca && subject.trajectory.len() < 3 {
            return Err(Error::config(
                "directions",
                "PCA directions need the training trajectory; a model from a file has none: use --directions filter",
            ));
        }
        let work = config.grid_work(
            subject.mlp.num_params() as f64,
            (subject.train.features.ncols()
                + subject.test.as_ref().map_or(0, |t| t.features.ncols())) as f64,
        );
        check_work("grid", work, CLI_MAX_WORK, "landscape")?;
        let source = subject.source.clone();
        Self::with(device, config, Prepare::Ready(Box::new(subject)), &source)
    }

    fn with(
        device: E::Device,
        config: &SurfaceConfig,
        prepare: Prepare,
        source: &str,
    ) -> Result<Self> {
        let trained_here = matches!(prepare, Prepare::Training { .. });
        Ok(SurfaceRun {
            device,
            config: config.clone(),
            phase: Phase::Prepare(prepare),
            done: 0,
            result: SurfaceResult {
                config: config.clone(),
                source: source.into(),
                trained_here,
                params: 0,
                grid: 0,
                axis: Vec::new(),
                train_loss: Vec::new(),
                train_accuracy: Vec::new(),
                test_loss: Vec::new(),
                test_accuracy: Vec::new(),
                plane: None,
                trajectory: Vec::new(),
                slices: Default::default(),
                quadratic: Vec::new(),
            },
        })
    }

    /// The network and data, once trained (for the page's Hessian after the surface).
    pub fn subject(&self) -> Option<&Subject> {
        match &self.phase {
            Phase::Prepare(p) => p.subject(),
            Phase::Grid(g) => Some(&g.subject),
            Phase::Done => None,
        }
    }

    /// The directions, the grid's axis and the projected trajectory.
    fn plane(&mut self, subject: Subject) -> Result<Grid> {
        let c = &self.config;
        let center = subject.mlp.flatten();
        let mut rng = Rng::new(c.problem.seed, Stream::Experiment);
        let (d1, d2, explained) = match c.directions {
            DirectionKind::Filter => (
                filter_normalized_direction(&subject.mlp, c.bias, &mut rng),
                filter_normalized_direction(&subject.mlp, c.bias, &mut rng),
                None,
            ),
            DirectionKind::Pca => {
                let pca = trajectory_pca(&subject.trajectory, &center)?;
                let [d1, d2] = pca.directions;
                (d1, d2, Some(pca.explained))
            }
        };
        let trajectory = if subject.trajectory.is_empty() {
            Vec::new()
        } else {
            project(&subject.trajectory, &center, &d1, &d2)?
        };
        let half = match c.directions {
            DirectionKind::Filter => c.span,
            DirectionKind::Pca => {
                let extent = trajectory
                    .iter()
                    .fold(0.0f64, |m, (a, b)| m.max(a.abs()).max(b.abs()));
                c.span * PCA_MARGIN * extent
            }
        };
        if !(half.is_finite() && half > 0.0) {
            return Err(Error::Data(
                "the plane has zero extent: the trajectory did not move".into(),
            ));
        }
        let n = c.grid;
        let axis: Vec<f64> = (0..n)
            .map(|i| -half + 2.0 * half * i as f64 / (n - 1) as f64)
            .collect();
        self.result.params = center.len();
        self.result.axis = axis.clone();
        self.result.trajectory = trajectory.iter().map(|&(a, b)| [a, b]).collect();
        self.result.plane = Some(PlaneInfo {
            kind: c.directions.name().into(),
            explained_variance: explained,
            norms: [d1.norm(), d2.norm()],
            cosine: d1.dot(&d2) / (d1.norm() * d2.norm()),
        });
        let objective = Objective::new(subject.mlp.clone(), subject.train.clone(), subject.loss)?;
        self.result.quadratic = [&d1, &d2]
            .into_iter()
            .map(|d| {
                Ok([
                    objective.value(),
                    objective.gradient().dot(d),
                    d.dot(&objective.hvp(d)?),
                ])
            })
            .collect::<Result<_>>()?;
        let strides = strides(n);
        let mut grid = Grid {
            subject,
            center,
            d1,
            d2,
            axis,
            pending: Vec::new(),
            strides,
            level: 0,
            values: vec![None; n * n],
        };
        grid.pending = grid.level_points();
        Ok(grid)
    }

    /// Evaluates as many pending points as fit in a slice, through the ensemble engine: on the
    /// CPU a slice's worth of work, on the GPU as many networks as one readback holds.
    async fn grid_slice(device: &E::Device, grid: &mut Grid) -> Result<usize> {
        let s = &grid.subject;
        let samples = s.train.features.ncols() + s.test.as_ref().map_or(0, |t| t.features.ncols());
        let per_point = samples as f64 * s.mlp.num_params() as f64;
        let units = s.mlp.layers.iter().map(|l| l.params.weight.nrows()).sum();
        let count = evaluations_per_slice::<E>(device, per_point, SLICE_WORK, samples, units)
            .clamp(1, grid.pending.len());
        let points: Vec<usize> = grid.pending.drain(..count).collect();
        let n = grid.axis.len();
        let nets = points
            .iter()
            .map(|&p| {
                let (a, b) = (grid.axis[p % n], grid.axis[p / n]);
                let mut net = s.mlp.clone();
                net.set_flat(&(&grid.center + &grid.d1 * a + &grid.d2 * b))?;
                Ok(net.cast::<E::Scalar>())
            })
            .collect::<Result<Vec<Mlp<E::Scalar>>>>()?;
        let mut ensemble = E::new(device, &nets, s.loss, OptimizerConfig::default()).await?;
        let cast = |x: &nalgebra::DMatrix<f64>| x.map(E::Scalar::of_f64);
        let train = ensemble.forward(&cast(&s.train.features)).await?;
        let test = match &s.test {
            Some(t) => Some(ensemble.forward(&cast(&t.features)).await?),
            None => None,
        };
        let output = |f: &crate::core::mlp::Forward<E::Scalar>| f.output().map(|v| v.as_f64());
        for (i, &p) in points.iter().enumerate() {
            let (tl, ta) = s.train.measure(&output(&train[i]), s.loss)?;
            let (vl, va) = match (&test, &s.test) {
                (Some(out), Some(split)) => split.measure(&output(&out[i]), s.loss)?,
                _ => (f64::NAN, f64::NAN),
            };
            if !tl.is_finite() {
                let (a, b) = (grid.axis[p % n], grid.axis[p / n]);
                return Err(Error::Data(format!(
                    "the training loss is {tl} at ({a:.3}, {b:.3}) on the plane: it overflows there; use a smaller span"
                )));
            }
            grid.values[p] = Some([tl, ta, vl, va]);
        }
        if grid.pending.is_empty() && grid.level + 1 < grid.strides.len() {
            grid.level += 1;
            grid.pending = grid.level_points();
        }
        Ok(count)
    }

    /// The result from the finest complete level of the grid.
    fn publish(&mut self, grid: &Grid, complete: bool) {
        let level = if complete {
            grid.level
        } else if grid.level > 0 {
            grid.level - 1
        } else {
            return;
        };
        let stride = grid.strides[level];
        let n = grid.axis.len();
        let idx: Vec<usize> = (0..n).step_by(stride).collect();
        let m = idx.len();
        let r = &mut self.result;
        r.grid = m;
        r.axis = idx.iter().map(|&i| grid.axis[i]).collect();
        let field = |k: usize| -> Vec<f64> {
            let values: Vec<f64> = idx
                .iter()
                .flat_map(|&j| idx.iter().map(move |&i| j * n + i))
                .map(|p| grid.values[p].map_or(f64::NAN, |v| v[k]))
                .collect();
            if values.iter().all(|v| v.is_finite()) {
                values
            } else {
                Vec::new()
            }
        };
        r.train_loss = field(0);
        r.train_accuracy = field(1);
        r.test_loss = field(2);
        r.test_accuracy = field(3);
        let mid = m / 2;
        let along = |fieldv: &Vec<f64>, axis: usize| -> Vec<f64> {
            if fieldv.is_empty() {
                return Vec::new();
            }
            (0..m)
                .map(|t| match axis {
                    0 => fieldv[mid * m + t],
                    _ => fieldv[t * m + mid],
                })
                .collect()
        };
        r.slices = [0, 1].map(|a| Slice1d {
            coords: r.axis.clone(),
            train_loss: along(&r.train_loss, a),
            test_loss: along(&r.test_loss, a),
            train_accuracy: along(&r.train_accuracy, a),
            test_accuracy: along(&r.test_accuracy, a),
        });
    }
}

impl Grid {
    /// The points of the current level not evaluated at a coarser one.
    fn level_points(&self) -> Vec<usize> {
        let n = self.axis.len();
        let s = self.strides[self.level];
        (0..n)
            .step_by(s)
            .flat_map(|j| (0..n).step_by(s).map(move |i| j * n + i))
            .filter(|&p| self.values[p].is_none())
            .collect()
    }
}

impl<E: Ensemble> Stepper for SurfaceRun<E> {
    type Output = SurfaceResult;

    async fn step(&mut self) -> Result<Progress> {
        let n = self.config.grid;
        let mut steps = (0, 0);
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Prepare(mut prepare) => {
                prepare.slice()?;
                steps = prepare.steps();
                self.phase = match prepare {
                    Prepare::Ready(subject) => {
                        let grid = self.plane(*subject)?;
                        Phase::Grid(Box::new(grid))
                    }
                    training => Phase::Prepare(training),
                };
            }
            Phase::Grid(mut grid) => {
                let level = grid.level;
                self.done += Self::grid_slice(&self.device, &mut grid).await?;
                let finished = grid.pending.is_empty();
                if finished || grid.level != level {
                    self.publish(&grid, finished);
                }
                self.phase = if finished {
                    Phase::Done
                } else {
                    Phase::Grid(grid)
                };
            }
            Phase::Done => {}
        }
        let training = match &self.phase {
            Phase::Prepare(p) => p.steps(),
            _ => (
                steps.1.max(self.total_steps()),
                steps.1.max(self.total_steps()),
            ),
        };
        Ok(progress(
            training,
            self.done,
            n * n,
            matches!(self.phase, Phase::Done),
        ))
    }

    fn result(&self) -> SurfaceResult {
        self.result.clone()
    }
}

impl<E: Ensemble> SurfaceRun<E> {
    fn total_steps(&self) -> usize {
        if self.result.trained_here {
            self.config.problem.epochs * self.config.problem.steps_per_epoch()
        } else {
            0
        }
    }
}
