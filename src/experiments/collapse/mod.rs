//! The Collapse room: train past zero training error and watch the last-layer features collapse
//! onto their class means, the means spread into a simplex equiangular tight frame and the
//! classifier align with them (Papyan, Han & Donoho 2020); with imbalanced classes and MSE on
//! the unconstrained features model the optimum is an orthogonal frame with class-dependent
//! lengths, and small classes collapse to zero (Dang et al. 2023).

pub mod figures;
pub mod own;
pub mod training;

use super::{Experiment, FigureData};
use crate::core::activation::Activation;
use crate::core::budget::{Cost, check_work, mlp_memory};
use crate::core::loss::Loss;
use crate::core::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use crate::experiments::session::{Started, boxed};
use crate::gpu::{GpuContext, GpuEnsemble};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
pub use training::{CollapseResult, CollapseRun, Snapshot};

/// Most classes (optical digits has 10).
pub const MAX_CLASSES: usize = 10;
/// Most samples per class.
pub const MAX_SAMPLES_PER_CLASS: usize = 2000;
/// Widest layer.
pub const MAX_WIDTH: usize = 1024;
/// Most hidden layers.
pub const MAX_DEPTH: usize = 8;
/// Most epochs (full passes; gradient steps for the unconstrained features model).
pub const MAX_EPOCHS: usize = 1_000_000;

/// Where the features come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CollapseData {
    /// An MLP on `classes` isotropic Gaussians in `dim` dimensions.
    #[default]
    Gmm,
    /// An MLP on the UCI optical digits (the first `classes` digits).
    Digits,
    /// The unconstrained features model: the features are free parameters.
    Ufm,
}

impl Choice for CollapseData {
    const WHAT: &'static str = "data set";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(CollapseData::Gmm, "gmm", "Gaussian mixture").or(&["gaussian_mixture"]),
        Entry::new(CollapseData::Digits, "digits", "Optical digits"),
        Entry::new(CollapseData::Ufm, "ufm", "Unconstrained features"),
    ];
}
crate::choice_by_name!(CollapseData);

/// One training run and its collapse measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollapseConfig {
    /// Where the features come from.
    pub dataset: CollapseData,
    /// Number of classes C.
    pub classes: usize,
    /// Class sizes n_1..n_C; empty: `samples_per_class` and `imbalance`.
    pub class_sizes: Vec<usize>,
    /// Size of the majority classes.
    pub samples_per_class: usize,
    /// Majority / minority ratio R: the last floor(C/2) classes get `samples_per_class / R`.
    pub imbalance: f64,
    /// Input dimension of the Gaussian mixture.
    pub dim: usize,
    /// Distance of the mixture's means from the origin (unit noise).
    pub separation: f64,
    /// Training loss.
    pub loss: Loss,
    /// Weight decay lambda_W (L2, on every weight and bias).
    pub weight_decay: f64,
    /// Feature decay lambda_H (the unconstrained features model's `||H||^2` term; an MLP's
    /// features are not free, so it ignores it).
    pub feature_decay: f64,
    /// Whether layers (and the classifier) have biases.
    pub bias: bool,
    /// Hidden activation (`linear`: a deep linear network).
    pub activation: Activation,
    /// Hidden width n (the feature dimension d; for the features model, d itself).
    pub width: usize,
    /// Hidden layers of the MLP.
    pub depth: usize,
    /// Linear layers at the end: the MLP's last `linear_layers` hidden layers have no
    /// activation; the features model passes its features through this many linear `d x d`
    /// layers before the classifier (a deep linear head, Dang et al. 2023).
    pub linear_layers: usize,
    /// Epochs (full passes over the data; for the features model, full-batch gradient steps);
    /// none: the features model runs until it reaches the closed form (where one applies) or a
    /// stationary point, an MLP for 300 epochs.
    pub epochs: Option<usize>,
    /// Learning rate (SGD with momentum 0.9 for an MLP, plain gradient descent for the
    /// features model).
    pub lr: f64,
    /// Mini-batch size of the MLP.
    pub batch_size: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for CollapseConfig {
    fn default() -> Self {
        CollapseConfig {
            dataset: CollapseData::Gmm,
            classes: 4,
            class_sizes: Vec::new(),
            samples_per_class: 100,
            imbalance: 1.0,
            dim: 16,
            separation: 4.0,
            loss: Loss::Mse,
            weight_decay: 5e-4,
            feature_decay: 5e-4,
            bias: false,
            activation: Activation::Relu,
            width: 64,
            depth: 3,
            linear_layers: 0,
            epochs: None,
            lr: 0.05,
            batch_size: 32,
            seed: 0,
        }
    }
}

/// Epochs of an MLP run without `epochs`.
pub const DEFAULT_MLP_EPOCHS: usize = 300;
/// Gradient steps after which a features model that is not yet stationary is reported as not
/// converged.
pub const UFM_MAX_STEPS: usize = 400_000;

impl CollapseConfig {
    /// The class sizes this config trains on.
    pub fn sizes(&self) -> Vec<usize> {
        if !self.class_sizes.is_empty() {
            return self.class_sizes.clone();
        }
        let minority = ((self.samples_per_class as f64 / self.imbalance).round() as usize).max(1);
        (0..self.classes)
            .map(|k| {
                if k < self.classes - self.classes / 2 {
                    self.samples_per_class
                } else {
                    minority
                }
            })
            .collect()
    }

    /// Whether Dang et al.'s closed form describes the optimum: the features model (with or
    /// without a deep linear head) with bias-free MSE, both decays positive, and room for the
    /// orthogonal frame (feature dimension d >= C).
    pub fn closed_form_applies(&self) -> bool {
        self.dataset == CollapseData::Ufm
            && self.loss == Loss::Mse
            && !self.bias
            && self.weight_decay > 0.0
            && self.feature_decay > 0.0
            && self.width >= self.classes
    }

    /// Checks every field, naming the bad one.
    pub fn validate(&self) -> Result<()> {
        if !(2..=MAX_CLASSES).contains(&self.classes) {
            return Err(Error::config(
                "classes",
                format!("{} is not in 2..={MAX_CLASSES}", self.classes),
            ));
        }
        if !self.class_sizes.is_empty() && self.class_sizes.len() != self.classes {
            return Err(Error::config(
                "class sizes",
                format!(
                    "{} sizes given for {} classes",
                    self.class_sizes.len(),
                    self.classes
                ),
            ));
        }
        if let Some(k) = self.class_sizes.iter().position(|&n| n == 0) {
            return Err(Error::config(
                "class sizes",
                format!("class {k} has size 0: every class needs a sample"),
            ));
        }
        if !(1..=MAX_SAMPLES_PER_CLASS).contains(&self.samples_per_class)
            || self.class_sizes.iter().any(|&n| n > MAX_SAMPLES_PER_CLASS)
        {
            return Err(Error::config(
                "samples per class",
                format!("class sizes must be in 1..={MAX_SAMPLES_PER_CLASS}"),
            ));
        }
        if !(self.imbalance.is_finite() && self.imbalance >= 1.0 && self.imbalance <= 1000.0) {
            return Err(Error::config(
                "imbalance",
                format!("{} is not a ratio in [1, 1000]", self.imbalance),
            ));
        }
        if self.dataset == CollapseData::Gmm {
            if !(1..=1024).contains(&self.dim) {
                return Err(Error::config(
                    "dim",
                    format!("{} is not in 1..=1024", self.dim),
                ));
            }
            if !(self.separation.is_finite() && self.separation >= 0.0 && self.separation <= 1e3) {
                return Err(Error::config(
                    "separation",
                    format!("{} is not in [0, 1000]", self.separation),
                ));
            }
        }
        for (name, value) in [
            ("weight decay", self.weight_decay),
            ("feature decay", self.feature_decay),
        ] {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(Error::config(name, format!("{value} is not in [0, 1]")));
            }
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(Error::config(
                "learning rate",
                format!("{} must be finite, > 0 and at most 10", self.lr),
            ));
        }
        if !(1..=MAX_WIDTH).contains(&self.width) {
            return Err(Error::config(
                "width",
                format!("{} is not in 1..={MAX_WIDTH}", self.width),
            ));
        }
        if self.dataset != CollapseData::Ufm && !(1..=MAX_DEPTH).contains(&self.depth) {
            return Err(Error::config(
                "depth",
                format!("{} is not in 1..={MAX_DEPTH}", self.depth),
            ));
        }
        let most = if self.dataset == CollapseData::Ufm {
            MAX_DEPTH
        } else {
            self.depth
        };
        if self.linear_layers > most {
            return Err(Error::config(
                "linear layers",
                format!(
                    "{} is more than the {most} {}",
                    self.linear_layers,
                    if self.dataset == CollapseData::Ufm {
                        "a features model's head may have"
                    } else {
                        "hidden layers the MLP has (--depth)"
                    }
                ),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "must be at least 1"));
        }
        if let Some(e) = self.epochs
            && !(1..=MAX_EPOCHS).contains(&e)
        {
            return Err(Error::config(
                "epochs",
                format!("{e} is not in 1..={MAX_EPOCHS}"),
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
}

/// Most multiply-adds a run may cost natively: the command line's budget.
pub use crate::core::budget::CLI_MAX_WORK;
/// Most multiply-adds a run may cost in the page (about a minute of wasm).
pub const PAGE_MAX_WORK: f64 = 3e10;

impl CollapseConfig {
    /// Multiply-adds of the whole run, priced before anything is allocated: per epoch, a
    /// forward and a backward pass (3 products per weight) over every sample, or three
    /// C x d x N products of the features model; a features model without `epochs` is priced
    /// at its step cap.
    pub fn work(&self) -> f64 {
        let samples: f64 = self.sizes().iter().map(|&n| n as f64).sum();
        let (c, n) = (self.classes as f64, self.width as f64);
        match self.dataset {
            CollapseData::Ufm => {
                let steps = self.epochs.unwrap_or(UFM_MAX_STEPS) as f64;
                3.0 * steps * samples * (c + self.linear_layers as f64 * n) * n
            }
            CollapseData::Gmm | CollapseData::Digits => {
                let input = if self.dataset == CollapseData::Gmm {
                    self.dim as f64
                } else {
                    64.0
                };
                let weights = input * n + (self.depth as f64 - 1.0) * n * n + n * c;
                let epochs = self.epochs.unwrap_or(DEFAULT_MLP_EPOCHS) as f64;
                3.0 * epochs * samples * weights
            }
        }
    }

    /// [`Self::validate`] and the page's price limit.
    pub fn validate_page(&self) -> Result<()> {
        self.validate()?;
        check_work("epochs", self.work(), PAGE_MAX_WORK, "collapse")
    }
}

impl Experiment for CollapseConfig {
    const NAME: &'static str = "collapse";
    type Result = CollapseResult;
    type Session = CollapseRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let samples = self.sizes().iter().sum();
        let input = if self.dataset == CollapseData::Gmm {
            self.dim
        } else {
            64
        };
        // Network, gradient, moments, the recorded features of every class.
        Ok(mlp_memory(
            input,
            self.width,
            self.depth.max(1),
            self.classes,
            6.0,
            samples,
        )
        .work("epochs", "training and the metrics", self.work()))
    }

    fn start(&self) -> Result<Self::Session> {
        CollapseRun::new(self)
    }

    fn figures(r: &CollapseResult) -> Result<Vec<FigureData>> {
        if r.epochs.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![
            FigureData {
                stem: "nc1-nc2",
                panels: figures::variability(r)?,
                panel_size: (350, 340),
                csv: figures::metrics_csv(r),
            },
            FigureData {
                stem: "nc3-nc4",
                panels: figures::duality(r)?,
                panel_size: (350, 340),
                csv: figures::metrics_csv(r),
            },
            FigureData {
                stem: "features",
                panels: figures::features(r, usize::MAX)?,
                panel_size: (400, 400),
                csv: figures::features_csv(r, usize::MAX),
            },
            FigureData {
                stem: "features-3d",
                panels: figures::features_3d(r, usize::MAX, figures::DEFAULT_YAW)?,
                panel_size: (460, 440),
                csv: figures::features_3d_csv(r, usize::MAX),
            },
            FigureData {
                stem: "mean-gram",
                panels: figures::gram(r)?,
                panel_size: (340, 340),
                csv: figures::gram_csv(r),
            },
            FigureData {
                stem: "norms",
                panels: figures::norms(r)?,
                panel_size: (340, 320),
                csv: figures::norms_csv(r),
            },
        ])
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(CollapseRun::<GpuEnsemble>::on(gpu, self).map(boxed::<Self, _>))
    }
}
