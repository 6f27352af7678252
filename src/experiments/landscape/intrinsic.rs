//! Intrinsic dimension (Li, Farkhoor, Liu & Yosinski 2018): train only `d` random directions,
//! `theta = theta_0 + P z`, for a sweep of d, beside the same training in the full space; the
//! intrinsic dimension `d_int90` is the smallest d whose test accuracy reaches 90% of the full
//! space's (their definition; the training accuracy without a test set).

use super::problem::{Problem, Training, evaluate};
use super::{CLI_MAX_WORK, SLICE_WORK, check_range, check_work};
use crate::core::loss::Loss;
use crate::core::mlp::Mlp;
use crate::core::optim::OptimizerKind;
use crate::core::rng::{Rng, Stream};
use crate::core::stepper::{Progress, Stepper};
use crate::core::subspace::RandomSubspace;
use crate::core::train::Split;
use crate::error::{Error, Result};
use nalgebra::DVector;
use serde::{Deserialize, Serialize};

/// The fraction of the baseline's accuracy that defines d_int.
pub const THRESHOLD: f64 = 0.9;

/// A sweep over subspace dimensions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrinsicConfig {
    /// The data, network and training (the same SGD for every d and for the baseline).
    pub problem: Problem,
    /// Subspace dimensions d, ascending.
    pub dims: Vec<usize>,
}

impl Default for IntrinsicConfig {
    fn default() -> Self {
        IntrinsicConfig {
            problem: Problem {
                width: 16,
                epochs: 30,
                optimizer: OptimizerKind::Adam,
                lr: 0.05,
                ..Problem::default()
            },
            dims: vec![5, 10, 20, 40, 80, 160, 320],
        }
    }
}

impl IntrinsicConfig {
    /// Parameters D of the network.
    pub fn params(&self) -> usize {
        let (d, c, _) = self.problem.data_shape();
        let w = self.problem.width;
        d * w + w + (self.problem.depth - 1) * (w * w + w) + w * c + c
    }

    /// Multiply-adds: the baseline and every d train the network (three passes per weight per
    /// sample), and each subspace step costs `2 D d` for `P z` and `P^T g`.
    pub fn work(&self) -> f64 {
        let p = &self.problem;
        let steps = (p.epochs * p.steps_per_epoch()) as f64;
        let projections: f64 = self
            .dims
            .iter()
            .map(|&d| 2.0 * (self.params() * d) as f64)
            .sum();
        (self.dims.len() + 1) as f64 * p.training_work() + steps * projections
    }

    /// Checks every field, naming the bad one, and the price.
    pub fn validate(&self) -> Result<()> {
        self.problem.validate()?;
        check_range("dims", self.dims.len(), 1..=32)?;
        let params = self.params();
        if let Some(&bad) = self.dims.iter().find(|&&d| d == 0 || d > params) {
            return Err(Error::config(
                "dims",
                format!("{bad} is not between 1 and the network's {params} parameters"),
            ));
        }
        if self.dims.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config(
                "dims",
                format!("{:?} must be strictly ascending", self.dims),
            ));
        }
        if let Some(&d) = self.dims.last()
            && params.saturating_mul(d) > crate::core::subspace::MAX_ENTRIES
        {
            return Err(Error::config(
                "dims",
                format!(
                    "a {params} x {d} projection has more than the {} entries that fit in memory here",
                    crate::core::subspace::MAX_ENTRIES
                ),
            ));
        }
        check_work("dims", self.work(), CLI_MAX_WORK, "intrinsic-dim")
    }
}

/// What the sweep reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntrinsicResult {
    /// The config that ran.
    pub config: IntrinsicConfig,
    /// Parameters D.
    pub params: usize,
    /// Whether accuracies are on the test set (else the training set).
    pub on_test: bool,
    /// Full-space training: final training loss.
    pub baseline_loss: Option<f64>,
    /// Full-space training: final accuracy.
    pub baseline_accuracy: Option<f64>,
    /// The dimensions done so far.
    pub dims: Vec<usize>,
    /// Final training loss per dimension.
    pub train_loss: Vec<f64>,
    /// Final accuracy per dimension.
    pub accuracy: Vec<f64>,
    /// Smallest d reaching 90% of the baseline's accuracy, if one did.
    pub d_int90: Option<usize>,
}

/// The smallest `dims[i]` whose `performance[i]` reaches `fraction * baseline`.
pub fn intrinsic_dimension(
    dims: &[usize],
    performance: &[f64],
    baseline: f64,
    fraction: f64,
) -> Option<usize> {
    dims.iter()
        .zip(performance)
        .find(|(_, p)| **p >= fraction * baseline)
        .map(|(d, _)| *d)
}

/// The problem's optimizer on the coordinates z of a random subspace.
struct SubspaceTraining {
    subspace: RandomSubspace,
    origin: DVector<f64>,
    z: DVector<f64>,
    /// SGD's momentum buffer, or Adam's first moment.
    velocity: DVector<f64>,
    /// Adam's second moment.
    second: DVector<f64>,
    mlp: Mlp<f64>,
    order: Vec<usize>,
    cursor: usize,
    rng: Rng,
    step: usize,
}

enum Current {
    Baseline(Box<Training>),
    Subspace(Box<SubspaceTraining>),
}

/// The running sweep.
pub struct IntrinsicRun {
    config: IntrinsicConfig,
    train: Split<f64>,
    test: Option<Split<f64>>,
    init: Mlp<f64>,
    current: Option<Current>,
    next: usize,
    done: usize,
    result: IntrinsicResult,
}

impl IntrinsicRun {
    /// Draws the data and the initial network.
    pub fn new(config: &IntrinsicConfig) -> Result<Self> {
        config.validate()?;
        let (train, test) = config.problem.make_data()?;
        let init =
            config
                .problem
                .init(train.input_dim(), train.output_dim(), config.problem.seed)?;
        let train_split = Split::new(&train)?;
        let training = Training::new(&config.problem, init.clone(), train.len())?;
        Ok(IntrinsicRun {
            config: config.clone(),
            train: train_split,
            test: test.as_ref().map(Split::new).transpose()?,
            current: Some(Current::Baseline(Box::new(training))),
            init,
            next: 0,
            done: 0,
            result: IntrinsicResult {
                config: config.clone(),
                params: config.params(),
                on_test: test.is_some(),
                baseline_loss: None,
                baseline_accuracy: None,
                dims: Vec::new(),
                train_loss: Vec::new(),
                accuracy: Vec::new(),
                d_int90: None,
            },
        })
    }

    fn total_steps(&self) -> usize {
        self.config.problem.epochs * self.config.problem.steps_per_epoch()
    }

    /// Final loss on the training set and accuracy on the test set (or training set).
    fn score(&self, mlp: &Mlp<f64>) -> Result<(f64, f64)> {
        let loss = self.config.problem.loss;
        let (train_loss, train_acc) = evaluate(mlp, &self.train, loss)?;
        let acc = match &self.test {
            Some(t) => evaluate(mlp, t, loss)?.1,
            None => train_acc,
        };
        Ok((train_loss, acc))
    }

    /// A slice of the current training.
    fn slice(&mut self) -> Result<()> {
        let p = &self.config.problem;
        let total = self.total_steps();
        match self.current.take() {
            Some(Current::Baseline(mut t)) => {
                let per_step = 3.0 * p.batch_size as f64 * p.weights();
                let steps = ((SLICE_WORK / per_step) as usize).max(1);
                let before = t.progress().0;
                t.advance(&self.train, steps)?;
                self.done += t.progress().0 - before;
                if t.finished() {
                    let (loss, acc) = self.score(t.mlp())?;
                    self.result.baseline_loss = Some(loss);
                    self.result.baseline_accuracy = Some(acc);
                    self.start_next()?;
                } else {
                    self.current = Some(Current::Baseline(t));
                }
            }
            Some(Current::Subspace(mut s)) => {
                let d = s.subspace.dim() as f64;
                let per_step =
                    3.0 * p.batch_size as f64 * p.weights() + 2.0 * d * s.origin.len() as f64;
                let steps = ((SLICE_WORK / per_step) as usize).max(1);
                for _ in 0..steps {
                    if s.step >= total {
                        break;
                    }
                    self.subspace_step(&mut s)?;
                    self.done += 1;
                }
                if s.step >= total {
                    let (loss, acc) = self.score(&s.mlp)?;
                    let r = &mut self.result;
                    r.dims.push(s.subspace.dim());
                    r.train_loss.push(loss);
                    r.accuracy.push(acc);
                    if let Some(base) = r.baseline_accuracy {
                        r.d_int90 = intrinsic_dimension(&r.dims, &r.accuracy, base, THRESHOLD);
                    }
                    self.start_next()?;
                } else {
                    self.current = Some(Current::Subspace(s));
                }
            }
            None => {}
        }
        Ok(())
    }

    /// Draws the next dimension's subspace (the same init for every d).
    fn start_next(&mut self) -> Result<()> {
        let Some(&dim) = self.config.dims.get(self.next) else {
            return Ok(());
        };
        let seed = self.config.problem.seed;
        let origin = self.init.flatten();
        let mut rng = Rng::new(seed.wrapping_add(self.next as u64 + 1), Stream::Experiment);
        let subspace = RandomSubspace::new(origin.len(), dim, &mut rng)?;
        self.next += 1;
        self.current = Some(Current::Subspace(Box::new(SubspaceTraining {
            subspace,
            z: DVector::zeros(dim),
            velocity: DVector::zeros(dim),
            second: DVector::zeros(dim),
            origin,
            mlp: self.init.clone(),
            order: (0..self.train.features.ncols()).collect(),
            cursor: usize::MAX,
            rng: Rng::new(seed, Stream::Batches),
            step: 0,
        })));
        Ok(())
    }

    /// One optimizer step on z (PyTorch's SGD or Adam update): the gradient in parameter space
    /// pulled back by `P^T`.
    fn subspace_step(&self, s: &mut SubspaceTraining) -> Result<()> {
        let p = &self.config.problem;
        if s.cursor >= s.order.len() {
            s.rng.shuffle(&mut s.order);
            s.cursor = 0;
        }
        let end = (s.cursor + p.batch_size).min(s.order.len());
        let batch = self.train.select(&s.order[s.cursor..end]);
        s.cursor = end;
        let forward = s.mlp.forward(&batch.features)?;
        let loss: Loss = p.loss;
        let (value, d_output) = loss.value_and_gradient(forward.output(), batch.target())?;
        if !value.is_finite() {
            return Err(Error::Diverged {
                step: s.step,
                loss: value,
                lr: p.lr,
            });
        }
        let gradient = Mlp::flatten_like(&s.mlp.backward(&forward, &d_output));
        let gz = s.subspace.pullback(&gradient);
        match p.optimizer {
            OptimizerKind::Sgd => {
                s.velocity = &s.velocity * p.momentum + gz;
                s.z.axpy(-p.lr, &s.velocity, 1.0);
            }
            OptimizerKind::Adam => {
                let d = crate::core::optim::OptimizerConfig::default();
                let (b1, b2, eps) = (d.beta1, d.beta2, d.eps);
                let t = (s.step + 1) as i32;
                s.velocity = &s.velocity * b1 + &gz * (1.0 - b1);
                s.second = &s.second * b2 + gz.component_mul(&gz) * (1.0 - b2);
                let (c1, c2) = (1.0 - f64::powi(b1, t), 1.0 - f64::powi(b2, t));
                let step = p.lr / c1;
                for ((z, m), v) in s.z.iter_mut().zip(s.velocity.iter()).zip(s.second.iter()) {
                    *z -= step * m / (v.sqrt() / c2.sqrt() + eps);
                }
            }
        }
        s.mlp.set_flat(&s.subspace.point(&s.origin, &s.z))?;
        s.step += 1;
        Ok(())
    }
}

impl Stepper for IntrinsicRun {
    type Output = IntrinsicResult;

    async fn step(&mut self) -> Result<Progress> {
        self.slice()?;
        let total = self.total_steps() * (self.config.dims.len() + 1);
        let finished = self.current.is_none();
        Ok(Progress {
            done: if finished {
                total
            } else {
                self.done.min(total - 1)
            },
            total,
        })
    }

    fn result(&self) -> IntrinsicResult {
        self.result.clone()
    }
}
