//! Trained networks at a fixed parameter budget: for each depth L the width n whose network
//! has the budget's number of parameters, several seeds trained alike, and the test loss
//! against the aspect ratio L/n beside PDLT's optimal ratio `r* = 4 / (20 + 3 n_L)`
//! (`core::nearly_gaussian::optimal_aspect_ratio`; Roberts, Yaida & Hanin 2022, Appendix A).
//!
//! Every network starts at the room's initialization (`W ~ N(0, C_W / fan_in)`, `b ~ N(0,
//! C_b)`: the standard parametrization with `sigma_w^2 = C_W`) and is trained by Adam in f64 on
//! the same data split; only the initialization and the batch order change with the seed. In
//! f64 the page and the CLI train alike (in f32 their matrix products' summation orders differ
//! by rounding that 600 steps grow to 5% of the loss).

use crate::core::activation::Activation;
use crate::core::bounds;
use crate::core::budget::{Cost, f};
use crate::core::data::{DataConfig, Dataset, DatasetName};
use crate::core::loss::Loss;
use crate::core::nearly_gaussian::optimal_aspect_ratio;
use crate::core::optim::{OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::stepper::{Progress, Stepper};
use crate::core::train::{CpuEngine, Precision, TrainConfig, Trainer};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use serde::{Deserialize, Serialize};

/// Optimizer steps per slice: a few milliseconds at the page's budgets.
const SLICE_STEPS: usize = 16;

/// What to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainedConfig {
    /// The task: `teacher_student` (8 Gaussian inputs, one output from a random tanh teacher,
    /// MSE) or `digits` (UCI optical digits, 64 inputs, 10 classes, cross-entropy).
    pub dataset: DatasetName,
    /// phi.
    pub activation: Activation,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// The parameter budget P (weights and biases).
    pub params: usize,
    /// Depths L, ascending; each gets the width whose parameter count is nearest to P.
    pub depths: Vec<usize>,
    /// Networks per depth.
    pub seeds: usize,
    /// Adam steps per network.
    pub steps: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of the data; network s of each depth uses seed + s.
    pub seed: u64,
}

impl Default for TrainedConfig {
    fn default() -> Self {
        TrainedConfig {
            dataset: DatasetName::Digits,
            activation: Activation::Relu,
            weight_var: 2.0,
            bias_var: 0.0,
            params: 8000,
            depths: vec![1, 2, 3, 4, 6, 8, 12, 16],
            seeds: 4,
            steps: 600,
            batch_size: 64,
            lr: 3e-3,
            seed: 0,
        }
    }
}

/// Parameters of an MLP with `depth` hidden layers of `width` (biases everywhere).
pub fn params_of(inputs: usize, outputs: usize, depth: usize, width: usize) -> usize {
    TrainConfig {
        width,
        depth,
        bias: true,
        ..TrainConfig::default()
    }
    .mlp_config(inputs, outputs)
    .num_params()
}

/// `(d + 1) n + (L - 1)(n + 1) n + (n + 1) k` in u64 (no overflow on wasm32 at any width and
/// depth the bounds allow): [`params_of`] for the bisection.
fn count(inputs: usize, outputs: usize, depth: usize, n: usize) -> u64 {
    let (d, k, l, n) = (inputs as u64, outputs as u64, depth as u64, n as u64);
    (d + 1) * n + l.saturating_sub(1) * (n + 1) * n + (n + 1) * k
}

/// The width whose network's parameter count is nearest to `budget` (the smaller on a tie):
/// the count grows with the width, so a bisection finds the last width at or under it.
pub fn width_for_budget(inputs: usize, outputs: usize, depth: usize, budget: usize) -> usize {
    let budget = budget as u64;
    let count = |n| count(inputs, outputs, depth, n);
    let (mut lo, mut hi) = (1, bounds::WIDTH.max);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if count(mid) <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo < bounds::WIDTH.max && count(lo + 1) - budget < budget.saturating_sub(count(lo)) {
        lo + 1
    } else {
        lo
    }
}

impl TrainedConfig {
    /// The data set's recipe.
    pub fn data(&self) -> DataConfig {
        DataConfig {
            dataset: self.dataset,
            samples: 2000,
            dim: 8,
            teacher_width: 16,
            noise: 0.1,
            test_fraction: 0.25,
            ..DataConfig::default()
        }
    }

    /// `(inputs, outputs)` of the task.
    pub fn shape(&self) -> (usize, usize) {
        let (_, inputs, outputs) = self.data().shape();
        (inputs, outputs)
    }

    /// `(depth, width)` of every architecture, in the order of `depths`.
    pub fn architectures(&self) -> Vec<(usize, usize)> {
        let (inputs, outputs) = self.shape();
        self.depths
            .iter()
            .map(|&l| (l, width_for_budget(inputs, outputs, l, self.params)))
            .collect()
    }

    /// PDLT's optimal L/n for this task's readout, where the lab states one (critical ReLU).
    pub fn optimal_ratio(&self) -> Option<f64> {
        let critical_relu =
            self.activation == Activation::Relu && self.weight_var == 2.0 && self.bias_var == 0.0;
        critical_relu
            .then(|| optimal_aspect_ratio(self.shape().1))
            .flatten()
    }

    /// The training run of network `s` of depth `depth`.
    pub fn train_config(&self, depth: usize, width: usize, s: usize) -> TrainConfig {
        TrainConfig {
            data: self.data(),
            width,
            depth,
            activation: self.activation,
            bias: true,
            residual: None,
            parametrization: Parametrization::Sp,
            sigma_w: self.weight_var.sqrt(),
            sigma_b: self.bias_var.sqrt(),
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Adam,
                lr: self.lr,
                ..OptimizerConfig::default()
            },
            loss: match self.dataset {
                DatasetName::Digits => Loss::CrossEntropy,
                _ => Loss::Mse,
            },
            steps: self.steps,
            batch_size: self.batch_size,
            seed: self.seed.wrapping_add(s as u64),
            record_every: self.steps,
            precision: Precision::F64,
        }
    }

    /// Checks every field, naming the bad one, and that every depth gets a width of 2 or more.
    pub fn validate(&self) -> Result<()> {
        if !matches!(
            self.dataset,
            DatasetName::TeacherStudent | DatasetName::Digits
        ) {
            return Err(Error::config(
                "dataset",
                format!(
                    "'{}' is not offered here: train at a fixed budget on teacher_student or digits",
                    self.dataset
                ),
            ));
        }
        if self.depths.is_empty() || self.depths.len() > 16 {
            return Err(Error::config("depths", "give 1 to 16 depths"));
        }
        if self.depths.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config("depths", "must be strictly increasing"));
        }
        for &l in &self.depths {
            bounds::DEPTH.check_as("depths", l)?;
        }
        check_counts(&[
            ("params", self.params, 16..=1 << 24),
            ("seeds", self.seeds, 2..=bounds::SEEDS.max),
            ("batch_size", self.batch_size, 1..=4096),
        ])?;
        bounds::STEPS.check(self.steps)?;
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr <= 10.0) {
            return Err(Error::config(
                "lr",
                format!("learning rate {} must be a number in (0, 10]", self.lr),
            ));
        }
        for (option, value) in [("weight_var", self.weight_var), ("bias_var", self.bias_var)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(
                    option,
                    format!("{value} must be a non-negative number"),
                ));
            }
            bounds::check_scale(option, value)?;
        }
        if self.weight_var == 0.0 {
            return Err(Error::config(
                "weight_var",
                "C_W = 0 gives every network the same constant output: nothing to train",
            ));
        }
        let (inputs, outputs) = self.shape();
        for (l, n) in self.architectures() {
            if n < 2 {
                return Err(Error::config(
                    "params",
                    format!(
                        "{} parameters leave depth {l} a width of {n} (each unit of a one-layer network takes {} parameters): raise params or lower the depths",
                        self.params,
                        inputs + 1 + outputs
                    ),
                ));
            }
            // The nearest width is within one width step of the budget, unless the widest
            // layer the lab allows is still short of it.
            let step = count(inputs, outputs, l, n + 1) - count(inputs, outputs, l, n);
            if count(inputs, outputs, l, n).abs_diff(self.params as u64) > step {
                return Err(Error::config(
                    "params",
                    format!(
                        "{} parameters would need depth {l} wider than the {} units a layer may have: lower params",
                        self.params,
                        bounds::WIDTH.max
                    ),
                ));
            }
            self.train_config(l, n, 0).validate()?;
        }
        Ok(())
    }

    /// What the run costs: the data and the largest network with its optimizer state and the
    /// activations of a test-set pass; the work of every step (3 multiply-adds per parameter per
    /// sample) and of the two evaluations of each run over the whole data set.
    pub fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let (rows, inputs, outputs) = self.data().shape();
        let largest = self
            .architectures()
            .into_iter()
            .map(|(l, n)| self.train_config(l, n, 0).cost(rows, inputs, outputs))
            .max_by(|a, b| a.bytes().total_cmp(&b.bytes()))
            .unwrap_or_default();
        let work: f64 = self
            .architectures()
            .iter()
            .map(|&(l, n)| {
                let p = f(params_of(inputs, outputs, l, n));
                f(self.seeds) * 3.0 * p * (f(self.steps) * f(self.batch_size) + 2.0 * f(rows))
            })
            .sum();
        Ok(largest.without_work().work(
            "steps",
            format!(
                "{} networks of {} steps",
                self.depths.len() * self.seeds,
                self.steps
            ),
            work,
        ))
    }
}

/// One depth's networks after training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainedPoint {
    /// L.
    pub depth: usize,
    /// n.
    pub width: usize,
    /// Parameters of the network.
    pub params: usize,
    /// L / n.
    pub ratio: f64,
    /// Final test loss of each network that finished (diverged ones are left out).
    pub test_loss: Vec<f64>,
    /// Final training loss of each network that finished.
    pub train_loss: Vec<f64>,
    /// Final test accuracy of each network (classification only).
    pub test_accuracy: Vec<f64>,
    /// Networks whose loss diverged.
    pub diverged: usize,
}

/// Mean and standard error of the mean (sample standard deviation over `sqrt(count)`; NaN
/// for fewer than two values).
pub fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let k = values.len() as f64;
    let mean = values.iter().sum::<f64>() / k;
    if values.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0);
    (mean, (var / k).sqrt())
}

/// What the sweep measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainedResult {
    /// The config that produced it.
    pub config: TrainedConfig,
    /// Readout neurons n_L of the task.
    pub outputs: usize,
    /// PDLT's `r* = 4 / (20 + 3 n_L)` (ReLU at criticality, `C_W = 2`, `C_b = 0`), else null.
    pub optimal_ratio: Option<f64>,
    /// Depths finished or under way, in the order of `config.depths`.
    pub points: Vec<TrainedPoint>,
}

/// The sweep as a [`Stepper`]: every depth's networks one after another, a few steps a slice.
#[derive(Debug)]
pub struct TrainedRun {
    config: TrainedConfig,
    architectures: Vec<(usize, usize)>,
    train: Dataset,
    test: Dataset,
    current: Option<Trainer<CpuEngine<f64>>>,
    /// Networks begun: depth index `begun / seeds`, seed `begun % seeds`.
    begun: usize,
    points: Vec<TrainedPoint>,
}

impl TrainedRun {
    /// Validates the config and draws the data.
    pub fn new(config: &TrainedConfig) -> Result<Self> {
        config.validate()?;
        let (train, test) = config.train_config(1, 2, 0).make_data()?;
        let test = test.ok_or_else(|| Error::config("test_fraction", "no test set"))?;
        let architectures = config.architectures();
        let (inputs, outputs) = config.shape();
        let points = architectures
            .iter()
            .map(|&(depth, width)| TrainedPoint {
                depth,
                width,
                params: params_of(inputs, outputs, depth, width),
                ratio: depth as f64 / width as f64,
                test_loss: Vec::new(),
                train_loss: Vec::new(),
                test_accuracy: Vec::new(),
                diverged: 0,
            })
            .collect();
        Ok(TrainedRun {
            config: config.clone(),
            architectures,
            train,
            test,
            current: None,
            begun: 0,
            points,
        })
    }

    fn networks(&self) -> usize {
        self.architectures.len() * self.config.seeds
    }

    /// Files the finished (or diverged) network under its depth.
    fn finish(&mut self, trainer: Option<&Trainer<CpuEngine<f64>>>) {
        let point = &mut self.points[(self.begun - 1) / self.config.seeds];
        let Some(trainer) = trainer else {
            point.diverged += 1;
            return;
        };
        let curves = trainer.result().curves;
        let last = |v: &[f64]| v.last().copied();
        if let (Some(test), Some(train)) = (last(&curves.test_loss), last(&curves.train_loss)) {
            point.test_loss.push(test);
            point.train_loss.push(train);
        }
        point.test_accuracy.extend(last(&curves.test_accuracy));
    }
}

impl Stepper for TrainedRun {
    type Output = TrainedResult;

    async fn step(&mut self) -> Result<Progress> {
        let total = self.networks() * self.config.steps;
        if self.current.is_none() && self.begun < self.networks() {
            let (depth, width) = self.architectures[self.begun / self.config.seeds];
            let config = self
                .config
                .train_config(depth, width, self.begun % self.config.seeds);
            self.current = Some(Trainer::new(&config, &self.train, Some(&self.test))?);
            self.begun += 1;
        }
        let Some(mut trainer) = self.current.take() else {
            return Ok(Progress { done: total, total });
        };
        let mut progress = Progress { done: 0, total: 1 };
        for _ in 0..SLICE_STEPS {
            match trainer.advance().await {
                Ok(p) => progress = p,
                // A diverged network is a result (too deep or too large a rate), not a failure.
                Err(Error::Diverged { .. }) => {
                    self.finish(None);
                    return Ok(self.progress_after(0));
                }
                Err(e) => return Err(e),
            }
            if progress.finished() {
                break;
            }
        }
        if progress.finished() {
            self.finish(Some(&trainer));
            Ok(self.progress_after(0))
        } else {
            let done = progress.done;
            self.current = Some(trainer);
            Ok(self.progress_after(done))
        }
    }

    fn result(&self) -> TrainedResult {
        TrainedResult {
            config: self.config.clone(),
            outputs: self.config.shape().1,
            optimal_ratio: self.config.optimal_ratio(),
            points: self.points[..self.begun.div_ceil(self.config.seeds)].to_vec(),
        }
    }
}

impl TrainedRun {
    /// Steps done: every finished network's, plus `current` of the one under way.
    fn progress_after(&self, current: usize) -> Progress {
        let finished = if self.current.is_some() {
            self.begun - 1
        } else {
            self.begun
        };
        Progress {
            done: finished * self.config.steps + current,
            total: self.networks() * self.config.steps,
        }
    }
}
