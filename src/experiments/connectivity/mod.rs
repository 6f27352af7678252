//! The Connectivity room: two trained networks are separated by a loss barrier on the straight
//! line between them; permuting one's hidden units to match the other (a symmetry: same
//! function) shrinks it, more so as the networks widen (Ainsworth et al. 2023, "Git Re-Basin");
//! two copies split from one run after k steps are linearly connected once k is large enough
//! (Frankle et al. 2020). [`lmc`] runs one pair, [`sweep`] the barrier against width or spawn
//! step over several pairs.

pub mod figures;
pub mod lmc;
pub mod sweep;

use crate::core::activation::Activation;
use crate::core::budget::{Cost, check_work, mlp_memory};
use crate::core::loss::Loss;
use crate::core::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use crate::experiments::session::{Started, boxed};
use crate::experiments::{Experiment, FigureData};
use crate::gpu::{GpuContext, GpuEnsemble};
pub use lmc::{LmcResult, LmcRun};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use sweep::{LmcSweepConfig, LmcSweepResult, LmcSweepRun};

/// Widest hidden layer.
pub const MAX_WIDTH: usize = 2048;
/// Most hidden layers.
pub const MAX_DEPTH: usize = 8;
/// Most epochs.
pub const MAX_EPOCHS: usize = 10_000;
/// Most points on the path.
pub const MAX_ALPHAS: usize = 201;
/// Fewest points on the path (the grid: alpha = 0, 1/24, ..., 1).
pub const MIN_ALPHAS: usize = 3;
/// Most multiply-adds a run may cost natively: the command line's budget.
pub use crate::core::budget::CLI_MAX_WORK;
/// Most multiply-adds a run may cost in the page: about 40 s of wasm at the ~2.5e9 per second
/// the default view runs at in headless Chromium on this project's 2-core machine.
pub const PAGE_MAX_WORK: f64 = 1e11;

/// The data the two networks are trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LmcData {
    /// The UCI optical digits (1797 8x8 images, 10 classes).
    #[default]
    Digits,
    /// `classes` isotropic Gaussians in `dim` dimensions.
    Gmm,
}

impl Choice for LmcData {
    const WHAT: &'static str = "data set";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(LmcData::Digits, "digits", "Optical digits"),
        Entry::new(LmcData::Gmm, "gmm", "Gaussian mixture").or(&["gaussian_mixture"]),
    ];
}
crate::choice_by_name!(LmcData);

/// How B's hidden units are matched to A's before interpolating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Matching {
    /// The naive path only.
    None,
    /// Weight matching (Git Re-Basin, Algorithm 1).
    #[default]
    Weight,
    /// Activation matching (Git Re-Basin, section 3.1) on the training inputs.
    Activation,
}

impl Choice for Matching {
    const WHAT: &'static str = "matching";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Matching::None, "none", "None (naive path)"),
        Entry::new(Matching::Weight, "weight", "Weight matching"),
        Entry::new(Matching::Activation, "activation", "Activation matching"),
    ];
}
crate::choice_by_name!(Matching);

/// Two trainings and the path between them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LmcConfig {
    /// The data set.
    pub dataset: LmcData,
    /// Classes of the Gaussian mixture.
    pub classes: usize,
    /// Samples of the Gaussian mixture (train and test together).
    pub samples: usize,
    /// Input dimension of the Gaussian mixture.
    pub dim: usize,
    /// Distance of the mixture's means from the origin (unit noise).
    pub separation: f64,
    /// Fraction of the samples held out as the test set.
    pub test_fraction: f64,
    /// Hidden width n.
    pub width: usize,
    /// Hidden layers L.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Training loss.
    pub loss: Loss,
    /// Epochs of each training (a spawned child trains for the rest of them).
    pub epochs: usize,
    /// Learning rate of SGD with momentum 0.9.
    pub lr: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Seeds of A and B (init and data order; A's also draws and splits the data).
    pub seeds: [u64; 2],
    /// Spawn B from A after this many SGD steps (shared init and first k steps, then B's own
    /// data order); none: independent trainings.
    pub spawn: Option<usize>,
    /// How B is matched to A.
    pub matching: Matching,
    /// Points on the path, alpha = 0 .. 1 evenly.
    pub alphas: usize,
    /// Singular vectors compared per layer.
    pub top_k: usize,
}

impl Default for LmcConfig {
    fn default() -> Self {
        LmcConfig {
            dataset: LmcData::Digits,
            classes: 4,
            samples: 1000,
            dim: 16,
            separation: 3.0,
            test_fraction: 0.2,
            width: 128,
            depth: 2,
            activation: Activation::Relu,
            loss: Loss::CrossEntropy,
            epochs: 20,
            lr: 0.05,
            batch_size: 64,
            seeds: [0, 1],
            spawn: None,
            matching: Matching::Weight,
            alphas: 25,
            top_k: 8,
        }
    }
}

impl LmcConfig {
    /// Input dimension, classes and samples of the data set.
    pub fn data_shape(&self) -> (usize, usize, usize) {
        match self.dataset {
            LmcData::Digits => (64, 10, 1797),
            LmcData::Gmm => (self.dim, self.classes, self.samples),
        }
    }

    /// SGD steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        let (_, _, samples) = self.data_shape();
        let train = samples - (samples as f64 * self.test_fraction).round() as usize;
        train.div_ceil(self.batch_size.max(1)).max(1)
    }

    /// SGD steps of each training.
    pub fn total_steps(&self) -> usize {
        self.epochs * self.steps_per_epoch()
    }

    /// Multiply-adds of the whole run, priced before anything is allocated: three products per
    /// weight per training sample per epoch for each training, one per weight per sample for
    /// each point of each path.
    pub fn work(&self) -> f64 {
        let (d, c, samples) = self.data_shape();
        let n = self.width as f64;
        let weights = d as f64 * n + (self.depth as f64 - 1.0) * n * n + n * c as f64;
        let trainings = match self.spawn {
            Some(k) => 2.0 - k as f64 / self.total_steps().max(1) as f64,
            None => 2.0,
        };
        let train = 3.0 * trainings * self.epochs as f64 * samples as f64 * weights;
        let paths = if self.matching == Matching::None {
            1.0
        } else {
            2.0
        };
        // Each path point a forward pass; the midpoint curvature about 6 more (R-operator).
        let path = paths * (self.alphas + 6) as f64 * samples as f64 * weights;
        train + path
    }

    /// Checks every field, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        // Checked whatever the data set: every config is echoed in the results.
        if !(self.separation.is_finite() && (0.0..=1e3).contains(&self.separation)) {
            return Err(Error::config(
                "separation",
                format!("{} is not in [0, 1000]", self.separation),
            ));
        }
        if self.dataset == LmcData::Gmm {
            if !(2..=100).contains(&self.classes) {
                return Err(Error::config(
                    "classes",
                    format!("{} is not in 2..=100", self.classes),
                ));
            }
            if !(1..=1024).contains(&self.dim) {
                return Err(Error::config(
                    "dim",
                    format!("{} is not in 1..=1024", self.dim),
                ));
            }
            if !(10..=100_000).contains(&self.samples) {
                return Err(Error::config(
                    "samples",
                    format!("{} is not in 10..=100000", self.samples),
                ));
            }
        }
        if !(self.test_fraction.is_finite() && (0.0..=0.9).contains(&self.test_fraction)) {
            return Err(Error::config(
                "test fraction",
                format!("{} is not in [0, 0.9]", self.test_fraction),
            ));
        }
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return Err(Error::config(
                "width",
                format!("{} is not in 1..={MAX_WIDTH}", self.width),
            ));
        }
        if !(1..=MAX_DEPTH).contains(&self.depth) {
            return Err(Error::config(
                "depth",
                format!(
                    "{} is not in 1..={MAX_DEPTH} (matching permutes hidden units: at least one hidden layer)",
                    self.depth
                ),
            ));
        }
        if !(1..=MAX_EPOCHS).contains(&self.epochs) {
            return Err(Error::config(
                "epochs",
                format!("{} is not in 1..={MAX_EPOCHS}", self.epochs),
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(Error::config(
                "learning rate",
                format!("{} must be finite, > 0 and at most 10", self.lr),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "must be at least 1"));
        }
        if self.seeds[0] == self.seeds[1] && self.spawn.is_none() {
            return Err(Error::config(
                "seeds",
                format!(
                    "A and B both use seed {}: they would be the same network; give two seeds or --spawn",
                    self.seeds[0]
                ),
            ));
        }
        if let Some(k) = self.spawn
            && k > self.total_steps()
        {
            return Err(Error::config(
                "spawn",
                format!(
                    "step {k} is after the end of training ({} steps: {} epochs of {})",
                    self.total_steps(),
                    self.epochs,
                    self.steps_per_epoch()
                ),
            ));
        }
        if !(MIN_ALPHAS..=MAX_ALPHAS).contains(&self.alphas) {
            return Err(Error::config(
                "alphas",
                format!("{} is not in {MIN_ALPHAS}..={MAX_ALPHAS}", self.alphas),
            ));
        }
        if !(1..=64).contains(&self.top_k) {
            return Err(Error::config(
                "top k",
                format!("{} is not in 1..=64", self.top_k),
            ));
        }
        let work = self.work();
        if work > CLI_MAX_WORK {
            return Err(Error::config(
                "epochs",
                format!(
                    "the run would take about {work:.1e} multiply-adds, more than the {CLI_MAX_WORK:.1e} (hours on a CPU) this lab runs"
                ),
            ));
        }
        Ok(())
    }

    /// [`Self::validate`] and the page's price limit.
    pub fn validate_page(&self) -> Result<()> {
        self.validate()?;
        check_work("epochs", self.work(), PAGE_MAX_WORK, "lmc")
    }
}

/// The Connectivity page's whole state, its permalink: one pair (its path, spectra and
/// permutations) and a sweep of pairs (the barrier against width or spawn step).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectivityPage {
    /// The pair the path figures show; also the sweep's base config.
    pub pair: LmcConfig,
    /// What the sweep varies.
    pub axis: sweep::SweepAxis,
    /// The sweep's values (widths, or spawn steps).
    pub values: Vec<usize>,
    /// Pairs of seeds per value.
    pub pairs: usize,
}

impl Default for ConnectivityPage {
    /// Ten epochs per training and widths up to 128: the pair and the sweep together take
    /// about 1e10 multiply-adds, well inside the page's budget.
    fn default() -> Self {
        ConnectivityPage {
            pair: LmcConfig {
                epochs: 10,
                ..LmcConfig::default()
            },
            axis: sweep::SweepAxis::Width,
            values: vec![16, 32, 64, 128],
            pairs: 3,
        }
    }
}

impl ConnectivityPage {
    /// The sweep this page runs.
    pub fn sweep(&self) -> sweep::LmcSweepConfig {
        sweep::LmcSweepConfig {
            base: self.pair.clone(),
            axis: self.axis,
            values: self.values.clone(),
            pairs: self.pairs,
        }
    }

    /// The pair's and the sweep's checks, and the page's price limit for both together.
    pub fn validate_page(&self) -> Result<()> {
        self.pair.validate()?;
        let sweep = self.sweep();
        sweep.validate()?;
        let work = self.pair.work() + sweep.work();
        check_work("values", work, PAGE_MAX_WORK, "lmc-sweep")
    }
}

impl Experiment for LmcConfig {
    const NAME: &'static str = "lmc";
    type Result = LmcResult;
    type Session = LmcRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let (d, c, samples) = self.data_shape();
        // Two trainings (network, gradient, moments each), the matched copy, the path point;
        // the midpoint's Hessian-vector product caches 7 numbers per unit and training row.
        let units = (self.depth * self.width + c) as f64;
        Ok(mlp_memory(d, self.width, self.depth, c, 12.0, samples)
            .memory(
                "samples",
                format!("the midpoint curvature's Hessian-vector products on {samples} rows"),
                7.0 * units * samples as f64 * 8.0,
            )
            .work("epochs", "two trainings and the paths", self.work()))
    }

    fn start(&self) -> Result<LmcRun> {
        LmcRun::new(self)
    }

    fn figures(r: &LmcResult) -> Result<Vec<FigureData>> {
        figures::figures(r)
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(LmcRun::<GpuEnsemble>::on(gpu, self).map(boxed::<Self, _>))
    }
}

impl Experiment for LmcSweepConfig {
    const NAME: &'static str = "lmc-sweep";
    type Result = LmcSweepResult;
    type Session = LmcSweepRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        // One run at a time: the largest one's memory.
        let memory = self
            .runs()
            .iter()
            .map(LmcConfig::cost)
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .max_by(|a, b| a.bytes().total_cmp(&b.bytes()))
            .unwrap_or_default();
        Ok(Cost::new().and(memory.without_work()).work(
            "values",
            format!("{} runs", self.runs().len()),
            self.work(),
        ))
    }

    fn start(&self) -> Result<LmcSweepRun> {
        LmcSweepRun::new(self)
    }

    fn figures(r: &LmcSweepResult) -> Result<Vec<FigureData>> {
        figures::sweep_figures(r)
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(LmcSweepRun::<GpuEnsemble>::on(gpu, self).map(boxed::<Self, _>))
    }
}
