//! Training an MLP: config -> [`Trainer`] (a [`Stepper`], one optimizer step per slice) ->
//! [`TrainResult`] with loss and accuracy curves.

use super::activation::Activation;
use super::data::{DataConfig, Dataset, Targets};
use super::loss::{Loss, Target, accuracy};
use super::mlp::{Mlp, MlpConfig};
use super::optim::{Optimizer, OptimizerConfig};
use super::parametrization::Parametrization;
use super::rng::{Rng, Stream};
use super::scalar::Float;
use super::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Floating-point precision of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// Single precision (fast path).
    #[default]
    F32,
    /// Double precision (reference).
    F64,
}

/// Everything that defines a training run. Missing fields take the defaults, unknown fields are
/// an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// The data set.
    pub data: DataConfig,
    /// Width of every hidden layer.
    pub width: usize,
    /// Number of hidden layers L.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Whether layers have biases.
    pub bias: bool,
    /// Residual branch multiplier alpha (hidden blocks `h + alpha phi(W h + b)`), if any.
    pub residual: Option<f64>,
    /// abc-parametrization.
    pub parametrization: Parametrization,
    /// Weight init scale sigma_w.
    pub sigma_w: f64,
    /// Bias init scale sigma_b.
    pub sigma_b: f64,
    /// Optimizer and its hyperparameters.
    pub optimizer: OptimizerConfig,
    /// Training loss.
    pub loss: Loss,
    /// Optimizer steps.
    pub steps: usize,
    /// Mini-batch size; 0 means full batch.
    pub batch_size: usize,
    /// Seed of every random draw (data, init, batches).
    pub seed: u64,
    /// Record the curves every this many steps; 0 picks about 100 points.
    pub record_every: usize,
    /// Network precision.
    pub precision: Precision,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: DataConfig::default(),
            width: 64,
            depth: 2,
            activation: Activation::Relu,
            bias: true,
            residual: None,
            parametrization: Parametrization::Sp,
            sigma_w: 1.0,
            sigma_b: 0.0,
            optimizer: OptimizerConfig::default(),
            loss: Loss::CrossEntropy,
            steps: 1000,
            batch_size: 0,
            seed: 0,
            record_every: 0,
            precision: Precision::F32,
        }
    }
}

impl TrainConfig {
    /// Checks the scalars that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        if self.width == 0 {
            return Err(Error::config("width", "must be at least 1"));
        }
        if self.depth == 0 {
            return Err(Error::config("depth", "must be at least 1 hidden layer"));
        }
        if self.steps == 0 {
            return Err(Error::config("steps", "must be at least 1"));
        }
        self.optimizer.validate()?;
        self.data.validate()
    }

    /// The network for inputs of `input_dim` and `output_dim` outputs.
    pub fn mlp_config(&self, input_dim: usize, output_dim: usize) -> MlpConfig {
        MlpConfig {
            input_dim,
            hidden: vec![self.width; self.depth],
            output_dim,
            activation: self.activation,
            bias: self.bias,
            residual: self.residual,
            rules: self.parametrization.rules(self.optimizer.kind),
            sigma_w: self.sigma_w,
            sigma_b: self.sigma_b,
        }
    }

    /// Draws the built-in data set and splits it.
    pub fn make_data(&self) -> Result<(Dataset, Option<Dataset>)> {
        self.split(&self.data.generate(self.seed)?)
    }

    /// Splits a data set (built-in or user) into train and test by `data.test_fraction`.
    pub fn split(&self, data: &Dataset) -> Result<(Dataset, Option<Dataset>)> {
        data.split(
            self.data.test_fraction,
            &mut Rng::new(self.seed, Stream::Split),
        )
    }

    fn record_interval(&self) -> usize {
        if self.record_every > 0 {
            self.record_every
        } else {
            self.steps.div_ceil(100)
        }
    }
}

/// Loss and accuracy over training; accuracies are empty for regression, test curves empty
/// without a test set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// Steps at which the curves were recorded (0 = initialization).
    pub step: Vec<usize>,
    /// Loss on the whole training set.
    pub train_loss: Vec<f64>,
    /// Accuracy on the whole training set.
    pub train_accuracy: Vec<f64>,
    /// Loss on the test set.
    pub test_loss: Vec<f64>,
    /// Accuracy on the test set.
    pub test_accuracy: Vec<f64>,
}

/// The outcome of a run, as written to JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainResult {
    /// The config that produced it.
    pub config: TrainConfig,
    /// Compute backend (`"cpu"`).
    pub backend: String,
    /// Trainable scalars.
    pub num_params: usize,
    /// Steps actually taken (fewer than `config.steps` if stopped).
    pub steps_done: usize,
    /// The curves.
    pub curves: Curves,
}

/// A data split in the network's float type.
#[derive(Clone, Debug)]
struct Split<T: Float> {
    features: DMatrix<T>,
    targets: SplitTargets<T>,
}

#[derive(Clone, Debug)]
enum SplitTargets<T: Float> {
    Classes(Vec<usize>),
    Values(DMatrix<T>),
}

impl<T: Float> Split<T> {
    fn new(data: &Dataset) -> Self {
        let cast = |m: &DMatrix<f64>| m.map(T::of_f64);
        let targets = match &data.targets {
            Targets::Classes { labels, .. } => SplitTargets::Classes(labels.clone()),
            Targets::Values(values) => SplitTargets::Values(cast(values)),
        };
        Split {
            features: cast(&data.features),
            targets,
        }
    }

    fn target(&self) -> Target<'_, T> {
        match &self.targets {
            SplitTargets::Classes(labels) => Target::Classes(labels),
            SplitTargets::Values(values) => Target::Values(values),
        }
    }

    fn select(&self, indices: &[usize]) -> Self {
        let targets = match &self.targets {
            SplitTargets::Classes(labels) => {
                SplitTargets::Classes(indices.iter().map(|&i| labels[i]).collect())
            }
            SplitTargets::Values(values) => SplitTargets::Values(values.select_columns(indices)),
        };
        Split {
            features: self.features.select_columns(indices),
            targets,
        }
    }

    /// (loss, accuracy if classification) of `mlp` on this split.
    fn evaluate(&self, mlp: &Mlp<T>, loss: Loss) -> Result<(f64, Option<f64>)> {
        let output = mlp.predict(&self.features)?;
        let value = loss.value(&output, self.target())?;
        let acc = match &self.targets {
            SplitTargets::Classes(labels) => Some(accuracy(&output, labels)),
            SplitTargets::Values(_) => None,
        };
        Ok((value, acc))
    }
}

/// Trains one MLP, one optimizer step per [`Stepper::step`].
#[derive(Clone, Debug)]
pub struct Trainer<T: Float> {
    config: TrainConfig,
    mlp: Mlp<T>,
    optimizer: Optimizer<T>,
    train: Split<T>,
    test: Option<Split<T>>,
    batch_rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    steps_done: usize,
    curves: Curves,
}

impl<T: Float> Trainer<T> {
    /// Validates the config against the data, draws the network and records step 0.
    pub fn new(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Self> {
        config.validate()?;
        if let (Loss::CrossEntropy, Targets::Values(_)) = (config.loss, &train.targets) {
            return Err(Error::config(
                "loss",
                "cross-entropy needs class labels, but the data has real-valued targets; use mse",
            ));
        }
        if let Some(test) = test
            && (test.input_dim() != train.input_dim() || test.output_dim() != train.output_dim())
        {
            return Err(Error::Shape {
                what: "test set".into(),
                expected: format!(
                    "{} features, {} outputs",
                    train.input_dim(),
                    train.output_dim()
                ),
                found: format!(
                    "{} features, {} outputs",
                    test.input_dim(),
                    test.output_dim()
                ),
            });
        }
        let mlp_config = config.mlp_config(train.input_dim(), train.output_dim());
        let mlp = Mlp::init(&mlp_config, &mut Rng::new(config.seed, Stream::Init))?;
        let optimizer = Optimizer::new(config.optimizer, &mlp)?;
        let mut trainer = Trainer {
            config: config.clone(),
            mlp,
            optimizer,
            train: Split::new(train),
            test: test.map(Split::new),
            batch_rng: Rng::new(config.seed, Stream::Batches),
            order: (0..train.len()).collect(),
            cursor: train.len(),
            steps_done: 0,
            curves: Curves::default(),
        };
        trainer.record()?;
        Ok(trainer)
    }

    /// The network as it is now.
    pub fn mlp(&self) -> &Mlp<T> {
        &self.mlp
    }

    fn full_batch(&self) -> bool {
        self.config.batch_size == 0 || self.config.batch_size >= self.order.len()
    }

    /// The next mini-batch: consecutive slices of a shuffled order, reshuffled when fewer than
    /// a batch remain (every batch has exactly `batch_size` samples).
    fn next_batch(&mut self) -> Split<T> {
        let size = self.config.batch_size;
        if self.cursor + size > self.order.len() {
            self.batch_rng.shuffle(&mut self.order);
            self.cursor = 0;
        }
        let batch = self
            .train
            .select(&self.order[self.cursor..self.cursor + size]);
        self.cursor += size;
        batch
    }

    fn diverged(&self, loss: f64) -> Error {
        Error::Diverged {
            step: self.steps_done,
            loss,
            lr: self.config.optimizer.lr,
        }
    }

    fn record(&mut self) -> Result<()> {
        let (loss, acc) = self.train.evaluate(&self.mlp, self.config.loss)?;
        if !loss.is_finite() {
            return Err(self.diverged(loss));
        }
        let curves = &mut self.curves;
        curves.step.push(self.steps_done);
        curves.train_loss.push(loss);
        curves.train_accuracy.extend(acc);
        if let Some(test) = &self.test {
            let (loss, acc) = test.evaluate(&self.mlp, self.config.loss)?;
            curves.test_loss.push(loss);
            curves.test_accuracy.extend(acc);
        }
        Ok(())
    }
}

impl<T: Float> Stepper for Trainer<T> {
    type Output = TrainResult;

    fn step(&mut self) -> Result<Progress> {
        let total = self.config.steps;
        if self.steps_done < total {
            let (forward, (loss, d_output)) = if self.full_batch() {
                let forward = self.mlp.forward(&self.train.features)?;
                let value = self
                    .config
                    .loss
                    .value_and_gradient(forward.output(), self.train.target())?;
                (forward, value)
            } else {
                let batch = self.next_batch();
                let forward = self.mlp.forward(&batch.features)?;
                let value = self
                    .config
                    .loss
                    .value_and_gradient(forward.output(), batch.target())?;
                (forward, value)
            };
            if !loss.is_finite() {
                return Err(self.diverged(loss));
            }
            let gradients = self.mlp.backward(&forward, &d_output);
            self.optimizer.step(&mut self.mlp, &gradients);
            self.steps_done += 1;
            if self
                .steps_done
                .is_multiple_of(self.config.record_interval())
                || self.steps_done == total
            {
                self.record()?;
            }
        }
        Ok(Progress {
            done: self.steps_done,
            total,
        })
    }

    fn result(&self) -> TrainResult {
        TrainResult {
            config: self.config.clone(),
            backend: "cpu".into(),
            num_params: self.mlp.num_params(),
            steps_done: self.steps_done,
            curves: self.curves.clone(),
        }
    }
}

/// A trainer in the precision the config asks for.
#[derive(Clone, Debug)]
pub enum Training {
    /// Single precision.
    F32(Trainer<f32>),
    /// Double precision.
    F64(Trainer<f64>),
}

impl Training {
    /// A trainer in `config.precision`.
    pub fn new(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Self> {
        Ok(match config.precision {
            Precision::F32 => Training::F32(Trainer::new(config, train, test)?),
            Precision::F64 => Training::F64(Trainer::new(config, train, test)?),
        })
    }

    /// The current network in f64 (exact for either precision).
    pub fn mlp_f64(&self) -> Mlp<f64> {
        match self {
            Training::F32(t) => t.mlp().cast(),
            Training::F64(t) => t.mlp().clone(),
        }
    }
}

impl Stepper for Training {
    type Output = TrainResult;

    fn step(&mut self) -> Result<Progress> {
        match self {
            Training::F32(t) => t.step(),
            Training::F64(t) => t.step(),
        }
    }

    fn result(&self) -> TrainResult {
        match self {
            Training::F32(t) => t.result(),
            Training::F64(t) => t.result(),
        }
    }
}
