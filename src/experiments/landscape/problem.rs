//! The network every landscape experiment looks at: a data set, an MLP and its training (SGD
//! with momentum on mini-batches, a checkpoint of the parameters after every epoch for the
//! trajectory), or a model and data the user brings.

use crate::core::activation::Activation;
use crate::core::budget::{Cost, mlp_memory};
use crate::core::data::{self, Dataset};
use crate::core::loss::Loss;
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::train::Split;
use crate::error::{Error, Result};
use crate::experiments::connectivity::LmcData;
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

/// Widest hidden layer.
pub const MAX_WIDTH: usize = 2048;
/// Most hidden layers.
pub const MAX_DEPTH: usize = 8;
/// Most epochs.
pub const MAX_EPOCHS: usize = 10_000;
/// Most checkpoints kept of a trajectory (beyond it, every k-th epoch is kept).
pub const MAX_CHECKPOINTS: usize = 100;
/// Most bytes the kept checkpoints may take.
pub const MAX_TRAJECTORY_BYTES: f64 = 1e9;

/// The data, the network and how it is trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Problem {
    /// The data set (optical digits or a Gaussian mixture).
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
    /// Epochs of training.
    pub epochs: usize,
    /// The optimizer (SGD with momentum, or Adam).
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f64,
    /// SGD momentum (Adam uses beta1 = 0.9, beta2 = 0.999, as PyTorch).
    pub momentum: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Seed of the data, the init, the batch order and the random directions.
    pub seed: u64,
}

impl Default for Problem {
    fn default() -> Self {
        Problem {
            dataset: LmcData::Digits,
            classes: 4,
            samples: 1000,
            dim: 16,
            separation: 3.0,
            test_fraction: 0.2,
            width: 32,
            depth: 2,
            activation: Activation::Relu,
            loss: Loss::CrossEntropy,
            epochs: 20,
            optimizer: OptimizerKind::Sgd,
            lr: 0.05,
            momentum: 0.9,
            batch_size: 64,
            seed: 0,
        }
    }
}

impl Problem {
    /// Input dimension, classes and samples of the data set.
    pub fn data_shape(&self) -> (usize, usize, usize) {
        match self.dataset {
            LmcData::Digits => (64, 10, 1797),
            LmcData::Gmm => (self.dim, self.classes, self.samples),
        }
    }

    /// The memory of the data, the network with its training state, and the kept checkpoints.
    pub fn memory(&self) -> Cost {
        let (d, c, samples) = self.data_shape();
        // Network, gradient, Adam's two moments, the best snapshot; and the checkpoints.
        let copies = 5.0 + MAX_CHECKPOINTS as f64;
        mlp_memory(d, self.width, self.depth, c, copies, samples)
    }

    /// Training samples (the rest is the test set).
    pub fn train_samples(&self) -> usize {
        let (_, _, samples) = self.data_shape();
        samples - (samples as f64 * self.test_fraction).round() as usize
    }

    /// Epochs between kept checkpoints: 1, or more so that at most [`MAX_CHECKPOINTS`] are kept.
    pub fn checkpoint_every(&self) -> usize {
        self.epochs.div_ceil(MAX_CHECKPOINTS).max(1)
    }

    /// Weights of the network (multiply-adds per sample of one forward pass).
    pub fn weights(&self) -> f64 {
        let (d, c, _) = self.data_shape();
        let n = self.width as f64;
        d as f64 * n + (self.depth as f64 - 1.0) * n * n + n * c as f64
    }

    /// SGD steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.train_samples().div_ceil(self.batch_size.max(1)).max(1)
    }

    /// Multiply-adds of training: three per weight per sample per epoch.
    pub fn training_work(&self) -> f64 {
        3.0 * self.epochs as f64 * self.train_samples() as f64 * self.weights()
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
            super::check_range("classes", self.classes, 2..=100)?;
            super::check_range("dim", self.dim, 1..=1024)?;
            super::check_range("samples", self.samples, 10..=100_000)?;
        }
        if !(self.test_fraction.is_finite() && (0.0..=0.9).contains(&self.test_fraction)) {
            return Err(Error::config(
                "test fraction",
                format!("{} is not in [0, 0.9]", self.test_fraction),
            ));
        }
        super::check_range("width", self.width, 1..=MAX_WIDTH)?;
        super::check_range("depth", self.depth, 1..=MAX_DEPTH)?;
        super::check_range("epochs", self.epochs, 1..=MAX_EPOCHS)?;
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(Error::config(
                "learning rate",
                format!("{} must be finite, > 0 and at most 10", self.lr),
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::config(
                "momentum",
                format!("{} is not in [0, 1)", self.momentum),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "must be at least 1"));
        }
        let kept = (self.epochs / self.checkpoint_every() + 1) as f64;
        let bytes = kept * self.weights() * 8.0;
        if bytes > MAX_TRAJECTORY_BYTES {
            return Err(Error::config(
                "width",
                format!(
                    "the trajectory's {kept} checkpoints of {:.0} parameters take {:.1} GB, more than the {:.0} GB allowed here: a smaller network",
                    self.weights(),
                    bytes / 1e9,
                    MAX_TRAJECTORY_BYTES / 1e9
                ),
            ));
        }
        Ok(())
    }

    /// The data set, split into train and test by the seed.
    pub fn make_data(&self) -> Result<(Dataset, Option<Dataset>)> {
        let full = match self.dataset {
            LmcData::Digits => data::digits()?,
            LmcData::Gmm => data::gaussian_mixture(
                self.samples,
                self.classes,
                self.dim,
                self.separation,
                &mut Rng::new(self.seed, Stream::Data),
            ),
        };
        full.split(self.test_fraction, &mut Rng::new(self.seed, Stream::Split))
    }

    /// The network at initialization (He init for ReLU, unit gain otherwise; SP).
    pub fn init(&self, input_dim: usize, output_dim: usize, seed: u64) -> Result<Mlp<f64>> {
        let config = MlpConfig {
            input_dim,
            hidden: vec![self.width; self.depth],
            output_dim,
            activation: self.activation,
            bias: true,
            residual: None,
            rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
            sigma_w: if self.activation == Activation::Relu {
                std::f64::consts::SQRT_2
            } else {
                1.0
            },
            sigma_b: 0.0,
        };
        Mlp::init(&config, &mut Rng::new(seed, Stream::Init))
    }
}

/// Loss and accuracy (NaN for regression) of a network on a split.
pub fn evaluate(mlp: &Mlp<f64>, split: &Split<f64>, loss: Loss) -> Result<(f64, f64)> {
    split.measure(&mlp.predict(&split.features)?, loss)
}

/// The problem's optimizer on mini-batches, a few steps per call, keeping a checkpoint after every
/// epoch (the trajectory PCA directions are computed from).
#[derive(Clone, Debug)]
pub struct Training {
    mlp: Mlp<f64>,
    optimizer: Optimizer<f64>,
    order: Vec<usize>,
    cursor: usize,
    rng: Rng,
    step: usize,
    total: usize,
    batch_size: usize,
    loss: Loss,
    /// Parameters at init, after every epoch (every k-th for long runs) and at the end.
    pub checkpoints: Vec<DVector<f64>>,
    steps_per_epoch: usize,
    checkpoint_every: usize,
}

impl Training {
    /// Starts `problem`'s training of `mlp` on `train` samples.
    pub fn new(problem: &Problem, mlp: Mlp<f64>, train: usize) -> Result<Self> {
        let optimizer = Optimizer::new(
            OptimizerConfig {
                kind: problem.optimizer,
                lr: problem.lr,
                momentum: problem.momentum,
                ..OptimizerConfig::default()
            },
            &mlp,
        )?;
        let steps_per_epoch = train.div_ceil(problem.batch_size).max(1);
        Ok(Training {
            checkpoints: vec![mlp.flatten()],
            mlp,
            optimizer,
            order: (0..train).collect(),
            cursor: train,
            rng: Rng::new(problem.seed, Stream::Batches),
            step: 0,
            total: problem.epochs * steps_per_epoch,
            batch_size: problem.batch_size,
            loss: problem.loss,
            steps_per_epoch,
            checkpoint_every: problem.checkpoint_every(),
        })
    }

    /// Whether every step is taken.
    pub fn finished(&self) -> bool {
        self.step >= self.total
    }

    /// Steps taken and in total.
    pub fn progress(&self) -> (usize, usize) {
        (self.step, self.total)
    }

    /// The network as it is now.
    pub fn mlp(&self) -> &Mlp<f64> {
        &self.mlp
    }

    /// Takes up to `steps` SGD steps on `train`; a diverging loss is an error naming the step.
    pub fn advance(&mut self, train: &Split<f64>, steps: usize) -> Result<()> {
        for _ in 0..steps {
            if self.finished() {
                break;
            }
            if self.cursor >= self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            let end = (self.cursor + self.batch_size).min(self.order.len());
            let batch = train.select(&self.order[self.cursor..end]);
            self.cursor = end;
            let forward = self.mlp.forward(&batch.features)?;
            let (value, d_output) = self
                .loss
                .value_and_gradient(forward.output(), batch.target())?;
            if !value.is_finite() {
                return Err(Error::Diverged {
                    step: self.step,
                    loss: value,
                    lr: self.optimizer.config().lr,
                });
            }
            let gradients = self.mlp.backward(&forward, &d_output);
            self.optimizer.step(&mut self.mlp, &gradients);
            self.step += 1;
            if self
                .step
                .is_multiple_of(self.steps_per_epoch * self.checkpoint_every)
                || self.finished()
            {
                self.checkpoints.push(self.mlp.flatten());
            }
        }
        Ok(())
    }
}
