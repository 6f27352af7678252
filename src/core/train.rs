//! Training an MLP: config -> [`Trainer`] (a [`Stepper`], one optimizer step per slice) ->
//! [`TrainResult`] with loss and accuracy curves.

use super::activation::Activation;
use super::bounds;
use super::budget::{Cost, f};
use super::data::{DataConfig, Dataset, Targets};
use super::loss::{Loss, Target, accuracy};
use super::mlp::{MAX_TOTAL_WEIGHTS, Mlp, MlpConfig};
use super::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use super::parametrization::Parametrization;
use super::rng::{Rng, Stream};
use super::scalar::Float;
use super::stepper::{Progress, Stepper};
use super::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Floating-point precision of the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    /// Single precision (fast path).
    #[default]
    F32,
    /// Double precision (reference).
    F64,
}

impl Choice for Precision {
    const WHAT: &'static str = "precision";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Precision::F32, "f32", "f32 (single)"),
        Entry::new(Precision::F64, "f64", "f64 (double)"),
    ];
}
crate::choice_by_name!(Precision);

/// Where the heavy numerics run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The CPU backend (nalgebra and matrixmultiply), the reference.
    Cpu,
    /// The GPU backend (WGSL compute shaders through wgpu: WebGPU, Vulkan), f32.
    Gpu,
}

impl Choice for Backend {
    const WHAT: &'static str = "backend";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(Backend::Cpu, "cpu", "CPU"),
        Entry::new(Backend::Gpu, "gpu", "GPU"),
    ];
}
crate::choice_by_name!(Backend);

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
        bounds::WIDTH.check(self.width)?;
        bounds::DEPTH.check(self.depth)?;
        bounds::STEPS.check(self.steps)?;
        for (option, value) in [
            ("sigma_w", self.sigma_w),
            ("sigma_b", self.sigma_b),
            ("residual", self.residual.unwrap_or(0.0)),
            ("noise", self.data.noise),
            ("weight_decay", self.optimizer.weight_decay),
        ] {
            bounds::check_scale(option, value)?;
        }
        let hidden_weights = self
            .width
            .saturating_mul(self.width)
            .saturating_mul(self.depth);
        if hidden_weights > MAX_TOTAL_WEIGHTS {
            return Err(Error::config(
                "width",
                format!(
                    "width {} x depth {} needs about {hidden_weights} weights, more than the {MAX_TOTAL_WEIGHTS} that fit in memory here",
                    self.width, self.depth
                ),
            ));
        }
        if self.residual.is_some() && self.depth < 2 {
            return Err(Error::config(
                "residual",
                "residual blocks are the hidden-to-hidden layers: use depth 2 or more",
            ));
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

    /// What training costs on data of `rows` samples (train and test) with `input_dim` features
    /// and `output_dim` outputs: the data (as read, split and cast), the network with its
    /// gradient, optimizer state and the two snapshots each recorded point takes, the
    /// activations of a full-set evaluation, the curves; and the work of every step and every
    /// evaluation.
    pub fn cost(&self, rows: usize, input_dim: usize, output_dim: usize) -> Cost {
        let bytes = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        let moments = match self.optimizer.kind {
            OptimizerKind::Sgd => 1,
            OptimizerKind::Adam => 2,
        };
        let batch = if self.batch_size == 0 {
            rows
        } else {
            self.batch_size.min(rows)
        };
        let mlp = self.mlp_config(input_dim, output_dim);
        let records = self.steps / self.record_interval() + 2;
        let step = mlp.cost(0, batch, bytes).madds();
        let evaluation = mlp.cost(0, rows, bytes).madds() / 3.0;
        let data = f(rows) * f(input_dim + output_dim);
        mlp.cost(4 + moments, rows, bytes)
            .memory(
                "samples",
                format!("{rows} rows of data, read, split and cast"),
                3.0 * data * 8.0,
            )
            .memory(
                "steps",
                format!("{records} points of the curves"),
                f(records) * 5.0 * 8.0,
            )
            .work(
                "steps",
                format!(
                    "{} steps of batch {batch} through {}",
                    self.steps,
                    mlp.shape()
                ),
                f(self.steps) * step,
            )
            .work(
                "steps",
                format!("{records} evaluations of {rows} rows"),
                f(records) * evaluation,
            )
    }

    /// Steps between two recorded points of the curves.
    pub fn record_interval(&self) -> usize {
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
    /// Compute backend: `"cpu"` or `"gpu"`.
    pub backend: String,
    /// The GPU adapter, for the GPU backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter: Option<String>,
    /// Trainable scalars.
    pub num_params: usize,
    /// Steps actually taken (fewer than `config.steps` if stopped).
    pub steps_done: usize,
    /// The curves.
    pub curves: Curves,
}

/// What a [`Trainer`] needs from a compute backend: the CPU reference ([`CpuEngine`]) or the
/// GPU (`crate::gpu`). Readbacks are futures: ready at once on the CPU, resolved by
/// `map_async` on the GPU (never a blocking wait in the browser).
pub trait Engine {
    /// The float type the engine computes in.
    type Scalar: Float;

    /// `("cpu", None)` or `("gpu", Some(adapter))`.
    fn backend(&self) -> (String, Option<String>);

    /// One optimizer step on a batch `x: [d, batch]`; returns the batch loss when it is known
    /// without waiting for the device.
    fn train_step(
        &mut self,
        x: &DMatrix<Self::Scalar>,
        target: Target<'_, Self::Scalar>,
    ) -> Result<Option<f64>>;

    /// Loss and accuracy on a data set.
    fn evaluate(
        &mut self,
        x: &DMatrix<Self::Scalar>,
        target: Target<'_, Self::Scalar>,
    ) -> impl Future<Output = Result<(f64, f64)>>;

    /// The network as it is now.
    fn network(&mut self) -> impl Future<Output = Result<Mlp<Self::Scalar>>>;
}

/// The CPU reference engine: an [`Mlp`] and its [`Optimizer`], in f32 or f64.
#[derive(Clone, Debug)]
pub struct CpuEngine<T: Float> {
    mlp: Mlp<T>,
    optimizer: Optimizer<T>,
    loss: Loss,
}

impl<T: Float> CpuEngine<T> {
    /// Trains `mlp` on `loss` with `optimizer`.
    pub fn new(mlp: Mlp<T>, loss: Loss, optimizer: OptimizerConfig) -> Result<Self> {
        let optimizer = Optimizer::new(optimizer, &mlp)?;
        Ok(CpuEngine {
            mlp,
            optimizer,
            loss,
        })
    }

    /// The network as it is now.
    pub fn mlp(&self) -> &Mlp<T> {
        &self.mlp
    }
}

impl<T: Float> Engine for CpuEngine<T> {
    type Scalar = T;

    fn backend(&self) -> (String, Option<String>) {
        ("cpu".into(), None)
    }

    fn train_step(&mut self, x: &DMatrix<T>, target: Target<'_, T>) -> Result<Option<f64>> {
        let loss = self.loss;
        let forward = self.mlp.forward(x)?;
        let (value, d_output) = loss.value_and_gradient(forward.output(), target)?;
        if value.is_finite() {
            let gradients = self.mlp.backward(&forward, &d_output);
            self.optimizer.step(&mut self.mlp, &gradients);
        }
        Ok(Some(value))
    }

    async fn evaluate(&mut self, x: &DMatrix<T>, target: Target<'_, T>) -> Result<(f64, f64)> {
        let output = self.mlp.predict(x)?;
        let value = self.loss.value(&output, target)?;
        let acc = match target {
            Target::Classes(labels) => accuracy(&output, labels),
            Target::Values(_) => f64::NAN,
        };
        Ok((value, acc))
    }

    async fn network(&mut self) -> Result<Mlp<T>> {
        Ok(self.mlp.clone())
    }
}

/// A data split in the network's float type.
#[derive(Clone, Debug)]
pub struct Split<T: Float> {
    /// Features `[d, samples]`.
    pub features: DMatrix<T>,
    targets: SplitTargets<T>,
}

#[derive(Clone, Debug)]
enum SplitTargets<T: Float> {
    Classes(Vec<usize>),
    Values(DMatrix<T>),
}

impl<T: Float> Split<T> {
    /// The data in `T`; values that overflow `T` (above 3.4e38 for f32) are an error.
    pub fn new(data: &Dataset) -> Result<Self> {
        let cast = |m: &DMatrix<f64>, what: &str| {
            let cast = m.map(T::of_f64);
            match m
                .iter()
                .zip(cast.iter())
                .find(|(_, c)| !c.as_f64().is_finite())
            {
                Some((x, _)) => Err(Error::Data(format!(
                    "{what} value {x:e} does not fit in {}; rescale the data or use precision f64",
                    T::NAME
                ))),
                None => Ok(cast),
            }
        };
        let targets = match &data.targets {
            Targets::Classes { labels, .. } => SplitTargets::Classes(labels.clone()),
            Targets::Values(values) => SplitTargets::Values(cast(values, "target")?),
        };
        Ok(Split {
            features: cast(&data.features, "feature")?,
            targets,
        })
    }

    /// The targets, as the loss takes them.
    pub fn target(&self) -> Target<'_, T> {
        match &self.targets {
            SplitTargets::Classes(labels) => Target::Classes(labels),
            SplitTargets::Values(values) => Target::Values(values),
        }
    }

    /// Whether the targets are class labels.
    pub fn is_classification(&self) -> bool {
        matches!(self.targets, SplitTargets::Classes(_))
    }

    /// Loss and accuracy (NaN for real targets) of the outputs `out: [outputs, samples]`.
    pub fn measure(&self, out: &DMatrix<T>, loss: Loss) -> Result<(f64, f64)> {
        let value = loss.value(out, self.target())?;
        let acc = match self.target() {
            Target::Classes(labels) => accuracy(out, labels),
            Target::Values(_) => f64::NAN,
        };
        Ok((value, acc))
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
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
}

/// Checks that the data suits the config: targets the loss can use, a test set like the
/// training set.
pub fn check_data(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<()> {
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
    Ok(())
}

/// Trains one MLP on any [`Engine`], one optimizer step per [`Trainer::advance`]: the same
/// batches, schedule and checks on every backend.
#[derive(Clone, Debug)]
pub struct Trainer<E: Engine> {
    config: TrainConfig,
    engine: E,
    train: Split<E::Scalar>,
    test: Option<Split<E::Scalar>>,
    batch_rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    steps_done: usize,
    curves: Curves,
    num_params: usize,
    /// The network at the last recorded step (read back for the checks there anyway): where
    /// the run resumes if its engine is lost.
    snapshot: Option<Mlp<E::Scalar>>,
}

impl<T: Float> Trainer<CpuEngine<T>> {
    /// Validates the config against the data and draws the network on the CPU.
    pub fn new(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Self> {
        check_data(config, train, test)?;
        let mlp = config.init_mlp(train)?;
        let engine = CpuEngine::new(mlp, config.loss, config.optimizer)?;
        Trainer::with_engine(config, engine, train, test)
    }

    /// The network as it is now.
    pub fn mlp(&self) -> &Mlp<T> {
        self.engine.mlp()
    }
}

impl TrainConfig {
    /// The initial network for `data`, drawn from `seed` (stream [`Stream::Init`]): the same
    /// draws for every backend and precision.
    pub fn init_mlp<T: Float>(&self, data: &Dataset) -> Result<Mlp<T>> {
        let config = self.mlp_config(data.input_dim(), data.output_dim());
        Mlp::init(&config, &mut Rng::new(self.seed, Stream::Init))
    }
}

impl<E: Engine> Trainer<E> {
    /// A trainer on `engine`, whose network must have been drawn by [`TrainConfig::init_mlp`].
    pub fn with_engine(
        config: &TrainConfig,
        engine: E,
        train: &Dataset,
        test: Option<&Dataset>,
    ) -> Result<Self> {
        check_data(config, train, test)?;
        let num_params = config
            .mlp_config(train.input_dim(), train.output_dim())
            .num_params();
        Ok(Trainer {
            config: config.clone(),
            engine,
            train: Split::new(train)?,
            test: test.map(Split::new).transpose()?,
            batch_rng: Rng::new(config.seed, Stream::Batches),
            order: (0..train.len()).collect(),
            cursor: train.len(),
            steps_done: 0,
            curves: Curves::default(),
            num_params,
            snapshot: None,
        })
    }

    /// This run continued on the CPU from its last recorded step (after its engine, a GPU
    /// device, was lost): the network recorded there, the curves up to it, the batch order;
    /// the optimizer's momentum or moments restart from zero, as after loading a checkpoint
    /// without them. `train` and `test` are the data this run was made with.
    pub fn resume_on_cpu(
        &self,
        train: &Dataset,
        test: Option<&Dataset>,
    ) -> Result<Trainer<CpuEngine<E::Scalar>>> {
        let (Some(network), Some(&step)) = (&self.snapshot, self.curves.step.last()) else {
            return Err(Error::Data(
                "the run has no recorded step to resume from".into(),
            ));
        };
        let engine = CpuEngine::new(network.clone(), self.config.loss, self.config.optimizer)?;
        let mut resumed = Trainer::with_engine(&self.config, engine, train, test)?;
        resumed.batch_rng = self.batch_rng.clone();
        resumed.order = self.order.clone();
        resumed.cursor = self.cursor;
        resumed.steps_done = step;
        resumed.curves = self.curves.clone();
        resumed.snapshot = Some(network.clone());
        Ok(resumed)
    }

    /// The engine (for reading the network back).
    pub fn engine_mut(&mut self) -> &mut E {
        &mut self.engine
    }

    fn full_batch(&self) -> bool {
        self.config.batch_size == 0 || self.config.batch_size >= self.order.len()
    }

    /// The next mini-batch: consecutive slices of a shuffled order, reshuffled when fewer than
    /// a batch remain (every batch has exactly `batch_size` samples).
    fn next_batch(&mut self) -> Split<E::Scalar> {
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
        if self.steps_done == 0 {
            return Error::config(
                "initialization",
                format!("the loss at initialization is {loss}; rescale the data or lower sigma_w"),
            );
        }
        Error::Diverged {
            step: self.steps_done,
            loss,
            lr: self.config.optimizer.lr,
        }
    }

    async fn record(&mut self) -> Result<()> {
        let (loss, acc) = self
            .engine
            .evaluate(&self.train.features, self.train.target())
            .await?;
        if !loss.is_finite() {
            return Err(self.diverged(loss));
        }
        // A finite loss can hide non-finite weights (a dead unit never reaches the output).
        let network = self.engine.network().await?;
        if let Some(bad) = network.flatten().iter().find(|w| !w.as_f64().is_finite()) {
            return Err(self.diverged(bad.as_f64()));
        }
        self.snapshot = Some(network);
        let classification = self.train.is_classification();
        self.curves.step.push(self.steps_done);
        self.curves.train_loss.push(loss);
        if classification {
            self.curves.train_accuracy.push(acc);
        }
        if let Some(test) = &self.test {
            let (loss, acc) = self.engine.evaluate(&test.features, test.target()).await?;
            if !loss.is_finite() {
                return Err(self.diverged(loss));
            }
            self.curves.test_loss.push(loss);
            if classification {
                self.curves.test_accuracy.push(acc);
            }
        }
        Ok(())
    }

    /// One optimizer step (recording the curves at step 0, every `record_interval` steps and
    /// at the end). The future resolves at once on the CPU and after the readback on the GPU.
    pub async fn advance(&mut self) -> Result<Progress> {
        let total = self.config.steps;
        if self.curves.step.is_empty() {
            self.record().await?;
        }
        if self.steps_done < total {
            let loss = if self.full_batch() {
                self.engine
                    .train_step(&self.train.features, self.train.target())?
            } else {
                let batch = self.next_batch();
                self.engine.train_step(&batch.features, batch.target())?
            };
            if let Some(loss) = loss.filter(|l| !l.is_finite()) {
                return Err(self.diverged(loss));
            }
            self.steps_done += 1;
            if self
                .steps_done
                .is_multiple_of(self.config.record_interval())
                || self.steps_done == total
            {
                self.record().await?;
            }
        }
        Ok(Progress {
            done: self.steps_done,
            total,
        })
    }

    /// The result so far.
    pub fn result(&self) -> TrainResult {
        let (backend, adapter) = self.engine.backend();
        TrainResult {
            config: self.config.clone(),
            backend,
            adapter,
            num_params: self.num_params,
            steps_done: self.steps_done,
            curves: self.curves.clone(),
        }
    }
}

impl<E: Engine> Stepper for Trainer<E> {
    type Output = TrainResult;

    /// [`Trainer::advance`]: immediate on the CPU, after the readback on the GPU.
    async fn step(&mut self) -> Result<Progress> {
        self.advance().await
    }

    fn result(&self) -> TrainResult {
        Trainer::result(self)
    }
}
