//! The edge of stability (Cohen et al. 2021): full-batch gradient descent at several learning
//! rates from one initialization, with the sharpness (the top Hessian eigenvalue, by Lanczos on
//! exact Hessian-vector products) measured along the way. Gradient descent on a quadratic is
//! stable only while the sharpness stays below `2 / eta` (`(2 + 2 beta) / eta` with heavy-ball
//! momentum beta); on networks the sharpness rises until it reaches that line and then hovers
//! at it while the loss keeps falling, non-monotonically.

use super::problem::Problem;
use super::{CLI_MAX_WORK, SLICE_WORK, check_range, check_work};
use crate::core::activation::Activation;
use crate::core::hessian::Objective;
use crate::core::lanczos::Lanczos;
use crate::core::loss::Loss;
use crate::core::mlp::Mlp;
use crate::core::rng::{Rng, Stream};
use crate::core::stepper::{Progress, Stepper};
use crate::core::train::Split;
use crate::error::{Error, Result};
use crate::experiments::connectivity::LmcData;
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

/// Most gradient-descent steps per learning rate.
pub const MAX_STEPS: usize = 100_000;
/// A loss this many times the initial one (plus 1) counts as diverged.
pub const DIVERGENCE_FACTOR: f64 = 1e3;

/// The stability threshold of heavy-ball gradient descent on a quadratic: the iteration
/// `v <- beta v + H theta`, `theta <- theta - eta v` (PyTorch's SGD) is stable iff every eigenvalue of H is
/// below `(2 + 2 beta) / eta` (2/eta without momentum).
pub fn stability_threshold(lr: f64, momentum: f64) -> f64 {
    (2.0 + 2.0 * momentum) / lr
}

/// Full-batch gradient descent at several learning rates, with the sharpness tracked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharpnessConfig {
    /// The data and network (its lr, momentum, epochs and batch size are not used: every run
    /// is full-batch gradient descent with the settings below).
    pub problem: Problem,
    /// Training samples used (the first this many of the training split): the full batch.
    pub samples: usize,
    /// Learning rates, one run each.
    pub lrs: Vec<f64>,
    /// Momentum beta of every run (0: plain gradient descent).
    pub momentum: f64,
    /// Gradient-descent steps per run.
    pub steps: usize,
    /// The sharpness is measured every this many steps.
    pub every: usize,
    /// Lanczos steps per sharpness measurement.
    pub iterations: usize,
}

impl Default for SharpnessConfig {
    /// Cohen et al.'s setting in small: MSE, tanh, full batch, on an overlapping Gaussian
    /// mixture that takes long to fit, so the sharpness rises (progressive sharpening) until it
    /// meets 2/eta for the two larger rates within the run.
    fn default() -> Self {
        SharpnessConfig {
            problem: Problem {
                dataset: LmcData::Gmm,
                classes: 4,
                dim: 16,
                separation: 1.0,
                samples: 400,
                activation: Activation::Tanh,
                loss: Loss::Mse,
                width: 32,
                depth: 2,
                ..Problem::default()
            },
            samples: 256,
            lrs: vec![0.3, 0.6, 1.0],
            momentum: 0.0,
            steps: 1000,
            every: 20,
            iterations: 20,
        }
    }
}

impl SharpnessConfig {
    /// Multiply-adds: per step a forward and backward pass, per measurement `iterations`
    /// Hessian-vector products (about four passes each).
    pub fn work(&self) -> f64 {
        let per_pass = self.samples as f64 * self.problem.weights();
        let measurements = (self.steps / self.every.max(1) + 1) as f64;
        self.lrs.len() as f64
            * per_pass
            * (3.0 * self.steps as f64 + 4.0 * measurements * self.iterations as f64)
    }

    /// Checks every field, naming the bad one, and the price.
    pub fn validate(&self) -> Result<()> {
        self.problem.validate()?;
        check_range(
            "samples",
            self.samples,
            1..=self.problem.train_samples().max(1),
        )?;
        check_range("lrs", self.lrs.len(), 1..=16)?;
        if let Some(bad) = self
            .lrs
            .iter()
            .find(|lr| !(lr.is_finite() && **lr > 0.0 && **lr <= 1e3))
        {
            return Err(Error::config(
                "lrs",
                format!("{bad} must be finite, > 0 and at most 1000"),
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(Error::config(
                "momentum",
                format!("{} is not in [0, 1)", self.momentum),
            ));
        }
        check_range("steps", self.steps, 1..=MAX_STEPS)?;
        check_range("every", self.every, 1..=self.steps)?;
        check_range("iterations", self.iterations, 2..=200)?;
        // What a Hessian-vector product caches (as `Objective::new` prices it), checked here so
        // that no run fails after it started.
        let units = (self.problem.depth * self.problem.width + self.problem.data_shape().1) as f64;
        let bytes = 8.0 * 7.0 * units * self.samples as f64;
        if bytes > crate::core::hessian::MAX_CACHE_BYTES {
            return Err(Error::config(
                "samples",
                format!(
                    "{} samples through {units} units need {:.1} GB for Hessian-vector products, more than the {:.0} GB allowed here",
                    self.samples,
                    bytes / 1e9,
                    crate::core::hessian::MAX_CACHE_BYTES / 1e9
                ),
            ));
        }
        check_work("steps", self.work(), CLI_MAX_WORK, "sharpness")
    }
}

/// One learning rate's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharpnessCurve {
    /// Its learning rate eta.
    pub lr: f64,
    /// `(2 + 2 beta) / eta`.
    pub threshold: f64,
    /// Steps at which the sharpness was measured.
    pub steps: Vec<usize>,
    /// The top Hessian eigenvalue at those steps.
    pub sharpness: Vec<f64>,
    /// Training loss at every step (before it).
    pub loss: Vec<f64>,
    /// Training accuracy at every step (empty for regression).
    pub accuracy: Vec<f64>,
    /// The step at which the loss blew up (non-finite or 1000 times the initial), if it did.
    pub diverged_at: Option<usize>,
}

/// What the sharpness runs report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SharpnessResult {
    /// The config that ran.
    pub config: SharpnessConfig,
    /// One curve per learning rate, in the config's order.
    pub runs: Vec<SharpnessCurve>,
}

/// One learning rate's gradient descent in progress.
struct Descent {
    index: usize,
    mlp: Mlp<f64>,
    theta: DVector<f64>,
    velocity: DVector<f64>,
    step: usize,
}

/// The running sharpness experiment.
pub struct SharpnessRun {
    config: SharpnessConfig,
    data: Split<f64>,
    init: Mlp<f64>,
    current: Option<Descent>,
    next: usize,
    done: usize,
    rng: Rng,
    result: SharpnessResult,
}

impl SharpnessRun {
    /// Draws the data subset and the initial network.
    pub fn new(config: &SharpnessConfig) -> Result<Self> {
        config.validate()?;
        let (train, _) = config.problem.make_data()?;
        let subset: Vec<usize> = (0..config.samples.min(train.len())).collect();
        let train = train.select(&subset);
        let init =
            config
                .problem
                .init(train.input_dim(), train.output_dim(), config.problem.seed)?;
        Ok(SharpnessRun {
            config: config.clone(),
            data: Split::new(&train)?,
            init,
            current: None,
            next: 0,
            done: 0,
            rng: Rng::new(config.problem.seed, Stream::Experiment),
            result: SharpnessResult {
                config: config.clone(),
                runs: Vec::new(),
            },
        })
    }

    /// The top eigenvalue at the objective's point.
    fn sharpness(&mut self, objective: &Objective) -> Result<f64> {
        let d = objective.num_params();
        let start = DVector::from_fn(d, |_, _| self.rng.normal());
        let mut lanczos = Lanczos::new(start, self.config.iterations)?;
        while let Some(q) = lanczos.next_vector() {
            let product = objective.hvp(q)?;
            lanczos.absorb(product)?;
        }
        Ok(lanczos.ritz().values[0])
    }

    /// One gradient-descent step of the current run (with a sharpness measurement when due).
    fn gd_step(&mut self) -> Result<()> {
        let c = self.config.clone();
        let Some(Descent {
            index,
            mut mlp,
            mut theta,
            mut velocity,
            step,
        }) = self.current.take()
        else {
            let index = self.next;
            self.next += 1;
            let lr = c.lrs[index];
            self.result.runs.push(SharpnessCurve {
                lr,
                threshold: stability_threshold(lr, c.momentum),
                steps: Vec::new(),
                sharpness: Vec::new(),
                loss: Vec::new(),
                accuracy: Vec::new(),
                diverged_at: None,
            });
            let theta = self.init.flatten();
            let velocity = DVector::zeros(theta.len());
            self.current = Some(Descent {
                index,
                mlp: self.init.clone(),
                theta,
                velocity,
                step: 0,
            });
            return Ok(());
        };
        let objective = Objective::new(mlp.clone(), self.data.clone(), c.problem.loss);
        let curve_index = self.result.runs.len() - 1;
        let initial = self.result.runs[curve_index].loss.first().copied();
        // A loss that blew up, or overflowed (the objective refuses a non-finite loss as a data
        // error), ends this run as diverged; any other error is the config's and is reported.
        let objective = match objective {
            Ok(o) if initial.is_none_or(|l0| o.value() <= DIVERGENCE_FACTOR * l0 + 1.0) => o,
            Ok(_) | Err(Error::Data(_)) => {
                self.result.runs[curve_index].diverged_at = Some(step);
                self.done += c.steps - step;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // The objective's own forward pass: no second one for the accuracy.
        let (_, acc) = self.data.measure(objective.output(), c.problem.loss)?;
        let loss = objective.value();
        if step % c.every == 0 || step + 1 == c.steps {
            let sharp = self.sharpness(&objective)?;
            let curve = &mut self.result.runs[curve_index];
            curve.steps.push(step);
            curve.sharpness.push(sharp);
        }
        let curve = &mut self.result.runs[curve_index];
        curve.loss.push(loss);
        if acc.is_finite() {
            curve.accuracy.push(acc);
        }
        velocity = velocity * c.momentum + objective.gradient();
        theta.axpy(-c.lrs[index], &velocity, 1.0);
        mlp.set_flat(&theta)?;
        self.done += 1;
        if step + 1 < c.steps {
            self.current = Some(Descent {
                index,
                mlp,
                theta,
                velocity,
                step: step + 1,
            });
        }
        Ok(())
    }

    fn finished(&self) -> bool {
        self.current.is_none() && self.next >= self.config.lrs.len()
    }
}

impl Stepper for SharpnessRun {
    type Output = SharpnessResult;

    async fn step(&mut self) -> Result<Progress> {
        let c = &self.config;
        let per_pass = c.samples as f64 * c.problem.weights();
        let per_step = per_pass * (3.0 + 4.0 * c.iterations as f64 / c.every as f64);
        let budget = ((SLICE_WORK / per_step) as usize).max(1);
        for _ in 0..budget {
            if self.finished() {
                break;
            }
            self.gd_step()?;
        }
        let total = self.config.lrs.len() * self.config.steps;
        Ok(Progress {
            done: if self.finished() {
                total
            } else {
                self.done.min(total - 1)
            },
            total,
        })
    }

    fn result(&self) -> SharpnessResult {
        self.result.clone()
    }
}
