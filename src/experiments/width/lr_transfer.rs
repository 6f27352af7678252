//! Learning-rate transfer (Tensor Programs V, "muTransfer", Figure 1): the training loss after
//! T steps against log2 of the learning rate, one curve per width. Under muP the best learning
//! rate stays put as the width grows; under SP it moves (for Adam, like 1/n).
//!
//! Every network (depth L, one output) trains with full-batch MSE on a fixed teacher–student
//! batch (as the coordinate check's), from the same seeds at every learning rate.

use super::coordcheck::CoordCheckConfig;
use crate::core::activation::Activation;
use crate::core::loss::{Loss, Target};
use crate::core::mlp::Mlp;
use crate::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// A loss above this (or NaN) counts as diverged: the targets are O(1), so the loss at
/// initialization is O(1) in every parametrization that is stable.
pub const DIVERGED: f64 = 1e6;

/// What to sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LrTransferConfig {
    /// Parametrization preset or free exponents.
    pub parametrization: Parametrization,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// Hidden widths, ascending.
    pub widths: Vec<usize>,
    /// Smallest log2 learning rate of the grid.
    pub log2_lr_min: i32,
    /// Largest log2 learning rate of the grid (step 1).
    pub log2_lr_max: i32,
    /// Optimizer steps per run.
    pub steps: usize,
    /// Seeds averaged per point.
    pub seeds: usize,
    /// Hidden layers.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Base seed.
    pub seed: u64,
}

impl Default for LrTransferConfig {
    fn default() -> Self {
        LrTransferConfig {
            parametrization: Parametrization::Mup,
            optimizer: OptimizerKind::Adam,
            widths: vec![64, 128, 256, 512],
            log2_lr_min: -14,
            log2_lr_max: -2,
            steps: 30,
            seeds: 1,
            depth: 2,
            activation: Activation::Relu,
            seed: 0,
        }
    }
}

impl LrTransferConfig {
    /// The same networks and batch as a coordinate check with these settings.
    pub(super) fn networks(&self) -> CoordCheckConfig {
        CoordCheckConfig {
            parametrization: self.parametrization,
            optimizer: self.optimizer,
            lr: 1.0,
            widths: self.widths.clone(),
            steps: self.steps,
            seeds: self.seeds,
            depth: self.depth,
            activation: self.activation,
            seed: self.seed,
            ..CoordCheckConfig::default()
        }
    }

    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        self.networks().validate()?;
        if self.log2_lr_min > self.log2_lr_max {
            return Err(Error::config(
                "learning rates",
                format!(
                    "log2 grid {}..{} is empty",
                    self.log2_lr_min, self.log2_lr_max
                ),
            ));
        }
        if self.log2_lr_min < -40 || self.log2_lr_max > 10 {
            return Err(Error::config(
                "learning rates",
                "log2 of the learning rate must lie in -40..=10",
            ));
        }
        Ok(())
    }

    /// The log2 learning rates of the grid.
    pub fn log2_lrs(&self) -> Vec<i32> {
        (self.log2_lr_min..=self.log2_lr_max).collect()
    }
}

/// Loss after training by width and learning rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LrTransferResult {
    /// The config that produced it.
    pub config: LrTransferConfig,
    /// The log2 learning rates.
    pub log2_lrs: Vec<i32>,
    /// Widths with every learning rate done.
    pub widths: Vec<usize>,
    /// `loss[width][lr]`: mean training loss after the last step; None where any seed
    /// diverged (NaN or above [`DIVERGED`]).
    pub loss: Vec<Vec<Option<f64>>>,
    /// Per width, the index of the learning rate with the lowest loss.
    pub argmin: Vec<usize>,
}

/// The sweep as a [`Stepper`]: one optimizer step of one network per slice.
#[derive(Debug)]
pub struct LrTransfer<T: Float> {
    config: LrTransferConfig,
    x: DMatrix<T>,
    y: DMatrix<T>,
    /// Index into widths x lrs x seeds of the run in progress.
    unit: usize,
    run: Option<(Mlp<T>, Optimizer<T>, usize)>,
    /// Final loss per finished unit.
    losses: Vec<f64>,
}

impl<T: Float> LrTransfer<T> {
    /// Validates the config and draws the batch.
    pub fn new(config: &LrTransferConfig) -> Result<Self> {
        config.validate()?;
        let data = config.networks().data()?;
        Ok(LrTransfer {
            x: data.features.map(T::of_f64),
            y: data.values.map(T::of_f64),
            config: config.clone(),
            unit: 0,
            run: None,
            losses: Vec::new(),
        })
    }

    fn per_width(&self) -> usize {
        self.config.log2_lrs().len() * self.config.seeds
    }

    fn units(&self) -> usize {
        self.config.widths.len() * self.per_width()
    }
}

impl<T: Float> Stepper for LrTransfer<T> {
    type Output = LrTransferResult;

    async fn step(&mut self) -> Result<Progress> {
        let steps = self.config.steps;
        let total = self.units() * steps;
        if self.unit >= self.units() {
            return Ok(Progress { done: total, total });
        }
        let lrs = self.config.log2_lrs();
        let (w, rest) = (self.unit / self.per_width(), self.unit % self.per_width());
        let (lr_index, seed) = (rest / self.config.seeds, rest % self.config.seeds);
        let run = match self.run.take() {
            Some(run) => run,
            None => {
                let networks = self.config.networks();
                let seed = self.config.seed.wrapping_add(seed as u64);
                let mlp = Mlp::<T>::init(
                    &networks.mlp_config(self.config.widths[w]),
                    &mut Rng::new(seed, Stream::Init),
                )?;
                let optimizer = Optimizer::new(
                    OptimizerConfig {
                        kind: self.config.optimizer,
                        lr: 2f64.powi(lrs[lr_index]),
                        ..OptimizerConfig::default()
                    },
                    &mlp,
                )?;
                (mlp, optimizer, 0)
            }
        };
        let (mlp, optimizer, done) = self.run.insert(run);
        let forward = mlp.forward(&self.x)?;
        let (value, d_output) =
            Loss::Mse.value_and_gradient(forward.output(), Target::Values(&self.y))?;
        let diverged = !(value.is_finite() && value < DIVERGED);
        if !diverged {
            let gradients = mlp.backward(&forward, &d_output);
            optimizer.step(mlp, &gradients);
            *done += 1;
        }
        if diverged || *done == steps {
            let final_loss = if diverged {
                f64::INFINITY
            } else {
                Loss::Mse.value(&mlp.predict(&self.x)?, Target::Values(&self.y))?
            };
            self.losses.push(final_loss);
            self.run = None;
            self.unit += 1;
        }
        let done = self.unit * steps + self.run.as_ref().map_or(0, |r| r.2);
        Ok(Progress { done, total })
    }

    fn result(&self) -> LrTransferResult {
        let lrs = self.config.log2_lrs();
        let seeds = self.config.seeds;
        let mut result = LrTransferResult {
            config: self.config.clone(),
            log2_lrs: lrs.clone(),
            widths: Vec::new(),
            loss: Vec::new(),
            argmin: Vec::new(),
        };
        for (w, block) in self.losses.chunks_exact(self.per_width()).enumerate() {
            let row: Vec<Option<f64>> = block
                .chunks(seeds)
                .map(|s| {
                    let mean = s.iter().sum::<f64>() / seeds as f64;
                    (mean.is_finite() && mean < DIVERGED).then_some(mean)
                })
                .collect();
            let argmin = row
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.map(|l| (i, l)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(i, _)| i);
            result.widths.push(self.config.widths[w]);
            result.loss.push(row);
            result.argmin.push(argmin);
        }
        result
    }
}
