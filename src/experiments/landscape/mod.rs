//! The Landscape room: the loss around a trained network in filter-normalized random and
//! trajectory-PCA directions (Li et al. 2018), the Hessian's spectrum by Lanczos and stochastic
//! Lanczos quadrature (PyHessian, Yao et al. 2020), sharpness against 2/eta during full-batch
//! gradient descent (Cohen et al. 2021, the edge of stability), and training in random
//! subspaces (Li et al. 2018, intrinsic dimension).
//!
//! [`surface`] trains the network (or takes the user's) and evaluates the loss on a plane,
//! [`spectrum`] measures the Hessian at the same point, [`sharpness`] and [`intrinsic`] train
//! networks of their own.

pub mod figures;
pub mod intrinsic;
pub mod problem;
pub mod sharpness;
pub mod spectrum;
pub mod surface;

use crate::core::budget::Cost;
use crate::core::loss::Loss;
use crate::core::mlp::Mlp;
use crate::core::stepper::Progress;
use crate::core::train::Split;
use crate::error::{Error, Result};
use crate::experiments::session::{Started, boxed};
use crate::experiments::{Experiment, FigureData};
use crate::gpu::{GpuContext, GpuEnsemble};
use intrinsic::{IntrinsicConfig, IntrinsicResult, IntrinsicRun};
use nalgebra::DVector;
pub use problem::Problem;
use problem::Training;
use serde::{Deserialize, Serialize};
use sharpness::{SharpnessConfig, SharpnessResult, SharpnessRun};
use spectrum::{SpectrumConfig, SpectrumResult, SpectrumRun};
use std::ops::RangeInclusive;
use std::sync::Arc;
use surface::{SurfaceConfig, SurfaceResult, SurfaceRun};

/// Most multiply-adds a run may cost natively: the command line's budget.
pub use crate::core::budget::{CLI_MAX_WORK, check_work};
/// Most multiply-adds a run may cost in the page: about 40 s of wasm at the ~2.5e9 per second
/// the page's CPU backend runs at on this project's 2-core machine.
pub const PAGE_MAX_WORK: f64 = 1e11;
/// Multiply-adds per slice of work (a few milliseconds of wasm).
pub const SLICE_WORK: f64 = 4e6;

/// Checks that a count is in its range, naming it.
pub fn check_range(field: &str, value: usize, range: RangeInclusive<usize>) -> Result<()> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(Error::config(
            field,
            format!("{value} is not in {}..={}", range.start(), range.end()),
        ))
    }
}

/// The trained network an experiment looks at, with its data and how it got there.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The network at the solution.
    pub mlp: Mlp<f64>,
    /// Training data (the loss surface is the training loss).
    pub train: Split<f64>,
    /// Held-out data, if any.
    pub test: Option<Split<f64>>,
    /// The loss.
    pub loss: Loss,
    /// Parameters at init and after every epoch (empty for a model from a file).
    pub trajectory: Vec<DVector<f64>>,
    /// `trained` or the model file's name.
    pub source: String,
}

impl Subject {
    /// A model trained elsewhere and the data to look at it on (no test set, no trajectory):
    /// the shapes must agree.
    pub fn from_model(
        mlp: Mlp<f64>,
        data: &crate::core::data::Dataset,
        loss: Loss,
        source: &str,
    ) -> Result<Self> {
        if data.input_dim() != mlp.input_dim() {
            return Err(Error::Shape {
                what: "the data file".into(),
                expected: format!(
                    "{} feature columns, the model's input width",
                    mlp.input_dim()
                ),
                found: format!("{} feature columns", data.input_dim()),
            });
        }
        if data.output_dim() != mlp.output_dim() {
            return Err(Error::Shape {
                what: "the data file's targets".into(),
                expected: format!(
                    "{} classes or target columns, the model's outputs",
                    mlp.output_dim()
                ),
                found: data.output_dim().to_string(),
            });
        }
        let train = Split::new(data)?;
        if loss == Loss::CrossEntropy && !train.is_classification() {
            return Err(Error::config(
                "loss",
                "cross-entropy needs class labels; use --loss mse for real targets",
            ));
        }
        Ok(Subject {
            mlp,
            train,
            test: None,
            loss,
            trajectory: Vec::new(),
            source: source.into(),
        })
    }

    /// Multiply-adds of one forward pass over the training set.
    pub fn forward_work(&self) -> f64 {
        self.train.features.ncols() as f64 * self.mlp.num_params() as f64
    }
}

/// Training the problem's network, or a subject ready to look at.
#[derive(Clone, Debug)]
pub enum Prepare {
    /// SGD on the problem's data, a slice at a time.
    Training {
        /// The problem.
        problem: Box<Problem>,
        /// The training in progress.
        training: Box<Training>,
        /// Training split.
        train: Split<f64>,
        /// Test split.
        test: Option<Split<f64>>,
    },
    /// The trained network.
    Ready(Box<Subject>),
}

impl Prepare {
    /// Draws the problem's data and network.
    pub fn train(problem: &Problem) -> Result<Self> {
        problem.validate()?;
        let (train, test) = problem.make_data()?;
        let mlp = problem.init(train.input_dim(), train.output_dim(), problem.seed)?;
        let training = Training::new(problem, mlp, train.len())?;
        let train = Split::new(&train)?;
        if problem.loss == Loss::CrossEntropy && !train.is_classification() {
            return Err(Error::config("loss", "cross-entropy needs class labels"));
        }
        Ok(Prepare::Training {
            problem: Box::new(problem.clone()),
            training: Box::new(training),
            train,
            test: test.as_ref().map(Split::new).transpose()?,
        })
    }

    /// Trains for one slice of [`SLICE_WORK`]; hands over the subject when training ends.
    pub fn slice(&mut self) -> Result<()> {
        let Prepare::Training {
            problem,
            training,
            train,
            test,
        } = self
        else {
            return Ok(());
        };
        let per_step = 3.0 * problem.batch_size as f64 * problem.weights();
        training.advance(train, ((SLICE_WORK / per_step) as usize).max(1))?;
        if training.finished() {
            *self = Prepare::Ready(Box::new(Subject {
                mlp: training.mlp().clone(),
                train: train.clone(),
                test: test.clone(),
                loss: problem.loss,
                trajectory: std::mem::take(&mut training.checkpoints),
                source: "trained".into(),
            }));
        }
        Ok(())
    }

    /// The subject, once trained.
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Prepare::Ready(s) => Some(s),
            Prepare::Training { .. } => None,
        }
    }

    /// Training steps done and in total (0 of 0 for a subject given ready).
    pub fn steps(&self) -> (usize, usize) {
        match self {
            Prepare::Training { training, .. } => training.progress(),
            Prepare::Ready(_) => (0, 0),
        }
    }
}

/// A progress that counts training steps and then `units` of the experiment's own work.
pub fn progress(
    prepare_steps: (usize, usize),
    done: usize,
    units: usize,
    finished: bool,
) -> Progress {
    let total = prepare_steps.1 + units;
    let done = prepare_steps.0 + done;
    Progress {
        done: if finished {
            total
        } else {
            done.min(total.saturating_sub(1))
        },
        total,
    }
}

/// The Landscape page's whole state, its permalink: the problem and each experiment's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LandscapePage {
    /// The surface (and the problem every experiment shares).
    pub surface: surface::SurfaceConfig,
    /// The Hessian's spectrum at the surface's solution.
    pub spectrum: spectrum::SpectrumConfig,
    /// Sharpness during full-batch gradient descent.
    pub sharpness: sharpness::SharpnessConfig,
    /// Intrinsic dimension.
    pub intrinsic: intrinsic::IntrinsicConfig,
    /// The 3-D surface's turn about the vertical axis, in degrees: a view of the result, so
    /// turning it reruns nothing.
    pub surface_yaw: i32,
}

impl Default for LandscapePage {
    /// PCA directions (the trajectory on the contour), every part small enough that the first
    /// view (the coarse grid) lands within about a second of wasm and all of it in seconds.
    fn default() -> Self {
        LandscapePage {
            surface: surface::SurfaceConfig {
                directions: surface::DirectionKind::Pca,
                ..surface::SurfaceConfig::default()
            },
            spectrum: spectrum::SpectrumConfig::default(),
            // A third of the command line's Lanczos work: 12 steps every 25 still find the top
            // eigenvalue (the sharpness) to a few digits here.
            sharpness: sharpness::SharpnessConfig {
                every: 25,
                iterations: 12,
                ..sharpness::SharpnessConfig::default()
            },
            intrinsic: intrinsic::IntrinsicConfig::default(),
            surface_yaw: 40,
        }
    }
}

impl LandscapePage {
    /// The spectrum's config with the surface's problem (it looks at the same network).
    pub fn spectrum(&self) -> spectrum::SpectrumConfig {
        spectrum::SpectrumConfig {
            problem: self.surface.problem.clone(),
            ..self.spectrum.clone()
        }
    }

    /// Every part's checks and the page's price limit for all of them together.
    pub fn validate_page(&self) -> Result<()> {
        if !(-180..=180).contains(&self.surface_yaw) {
            return Err(Error::config(
                "surface_yaw",
                format!("{} degrees is not in -180..=180", self.surface_yaw),
            ));
        }
        self.surface.validate()?;
        let spectrum = self.spectrum();
        spectrum.validate()?;
        self.sharpness.validate()?;
        self.intrinsic.validate()?;
        let work = self.surface.work()
            + spectrum.work_after_training()
            + self.sharpness.work()
            + self.intrinsic.work();
        check_work("surface.grid", work, PAGE_MAX_WORK, "landscape")
    }
}

impl Experiment for SurfaceConfig {
    const NAME: &'static str = "landscape";
    type Result = SurfaceResult;
    type Session = SurfaceRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        Ok(self.problem.memory().work(
            "grid",
            format!("training and a {0} x {0} grid", self.grid),
            self.work(),
        ))
    }

    fn start(&self) -> Result<SurfaceRun> {
        SurfaceRun::new(self)
    }

    fn figures(r: &SurfaceResult) -> Result<Vec<FigureData>> {
        figures::surface_figures(r)
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(SurfaceRun::<GpuEnsemble>::on(gpu, self).map(boxed::<Self, _>))
    }
}

impl Experiment for SpectrumConfig {
    const NAME: &'static str = "hessian";
    type Result = SpectrumResult;
    type Session = SpectrumRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        // Lanczos keeps every vector for full re-orthogonalization.
        let basis = self.iterations as f64 * self.problem.weights() * 8.0;
        let work = self.problem.training_work() + self.work_after_training();
        Ok(self
            .problem
            .memory()
            .memory(
                "iterations",
                format!("{} Lanczos vectors", self.iterations),
                basis,
            )
            .work(
                "iterations",
                "training and the Hessian-vector products",
                work,
            ))
    }

    fn start(&self) -> Result<SpectrumRun> {
        SpectrumRun::new(self)
    }

    fn figures(r: &SpectrumResult) -> Result<Vec<FigureData>> {
        figures::spectrum_figures(r)
    }
}

impl Experiment for SharpnessConfig {
    const NAME: &'static str = "sharpness";
    type Result = SharpnessResult;
    type Session = SharpnessRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let basis = self.iterations as f64 * self.problem.weights() * 8.0;
        Ok(self
            .problem
            .memory()
            .memory(
                "iterations",
                format!("{} Lanczos vectors", self.iterations),
                basis,
            )
            .work(
                "steps",
                format!("{} runs of {} steps", self.lrs.len(), self.steps),
                self.work(),
            ))
    }

    fn start(&self) -> Result<SharpnessRun> {
        SharpnessRun::new(self)
    }

    fn figures(r: &SharpnessResult) -> Result<Vec<FigureData>> {
        figures::sharpness_figures(r)
    }
}

impl Experiment for IntrinsicConfig {
    const NAME: &'static str = "intrinsic-dim";
    type Result = IntrinsicResult;
    type Session = IntrinsicRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let largest = self.dims.iter().copied().max().unwrap_or(0);
        let projection = (self.params() * largest) as f64 * 8.0;
        Ok(self
            .problem
            .memory()
            .memory(
                "dims",
                format!("the {} x {largest} projection", self.params()),
                projection,
            )
            .work(
                "dims",
                format!("training in {} subspaces", self.dims.len()),
                self.work(),
            ))
    }

    fn start(&self) -> Result<IntrinsicRun> {
        IntrinsicRun::new(self)
    }

    fn figures(r: &IntrinsicResult) -> Result<Vec<FigureData>> {
        figures::intrinsic_figures(r)
    }
}
