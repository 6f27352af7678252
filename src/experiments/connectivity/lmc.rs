//! One pair: train A and B (independently, or B spawned from A after k steps), match B's hidden
//! units to A's, and evaluate the straight path naive and matched.

use super::{LmcConfig, LmcData, Matching};
use crate::core::activation::Activation;
use crate::core::data::{self, Dataset};
use crate::core::ensemble::{CpuEnsemble, Ensemble, evaluations_per_slice};
use crate::core::loss::Loss;
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rebasin::{self, column_cosines, singular};
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::core::train::Split;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Multiply-adds per slice of work (a few milliseconds of wasm).
const SLICE_WORK: f64 = 4e6;

/// A quantity on the naive path and (if B was matched) on the matched one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pair<T> {
    /// Between A and B as trained.
    pub naive: T,
    /// Between A and B with B's hidden units permuted.
    pub matched: Option<T>,
}

/// One layer's spectrum: B's singular values (unchanged by the permutation) and the alignment of
/// A's and B's top singular vectors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerSpectrum {
    /// Singular values of W_l^A, descending.
    pub singular_values_a: Vec<f64>,
    /// Singular values of W_l^B and of the matched W_l^B'.
    pub singular_values_b: Pair<Vec<f64>>,
    /// `|cos|` between the i-th left singular vectors of A and B (i < top_k).
    pub left_cosines: Pair<Vec<f64>>,
    /// `|cos|` between the i-th right singular vectors of A and B.
    pub right_cosines: Pair<Vec<f64>>,
}

/// What the run reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LmcResult {
    /// The config that ran (for models from files: their shape and the matching).
    pub config: LmcConfig,
    /// Where A and B came from (`trained`, or the two file names).
    pub source: String,
    /// The path's grid.
    pub alphas: Vec<f64>,
    /// Training loss along the path.
    pub train_loss: Pair<Vec<f64>>,
    /// Test loss along the path (empty without a test set).
    pub test_loss: Pair<Vec<f64>>,
    /// Training error (1 - accuracy) along the path (empty for regression).
    pub train_error: Pair<Vec<f64>>,
    /// Test error along the path.
    pub test_error: Pair<Vec<f64>>,
    /// Git Re-Basin's loss barrier on the training loss.
    pub barrier: Pair<f64>,
    /// The loss barrier on the test loss.
    pub test_barrier: Pair<Option<f64>>,
    /// Frankle et al.'s error barrier (instability) on the test error, or the training error
    /// without a test set.
    pub error_barrier: Pair<Option<f64>>,
    /// Per hidden layer, the permutation applied to B (unit j of B' is unit p[j] of B).
    pub permutations: Vec<Vec<usize>>,
    /// Weight matching's objective before matching and after each sweep.
    pub objective: Vec<f64>,
    /// Largest change of B's outputs on the training inputs made by the permutation (0 up to
    /// rounding: a permutation is a symmetry).
    pub function_change: Option<f64>,
    /// Per layer (input layer first), the spectra.
    pub layers: Vec<LayerSpectrum>,
    /// `Delta^T H Delta` of the training loss at the path's midpoint (exact Hessian-vector
    /// product).
    pub curvature: Pair<f64>,
    /// The barrier the curvature predicts, `-Delta^T H Delta / 8`.
    pub predicted_barrier: Pair<f64>,
    /// Training accuracy of A and of B (classification only).
    pub train_accuracy: Option<[f64; 2]>,
    /// Test accuracy of A and of B (with a test set).
    pub test_accuracy: Option<[f64; 2]>,
    /// Steps A and B trained (0 for models from files).
    pub steps: usize,
}

/// An MLP with its optimizer and mini-batch order.
#[derive(Clone)]
struct Training {
    mlp: Mlp<f64>,
    optimizer: Optimizer<f64>,
    order: Vec<usize>,
    cursor: usize,
    rng: Rng,
}

impl Training {
    fn new(
        config: &LmcConfig,
        input_dim: usize,
        classes: usize,
        seed: u64,
        n: usize,
    ) -> Result<Self> {
        let mlp_config = MlpConfig {
            input_dim,
            hidden: vec![config.width; config.depth],
            output_dim: classes,
            activation: config.activation,
            bias: true,
            residual: None,
            rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
            // He initialization for ReLU, unit gain otherwise.
            sigma_w: if config.activation == Activation::Relu {
                std::f64::consts::SQRT_2
            } else {
                1.0
            },
            sigma_b: 0.0,
        };
        let mlp = Mlp::init(&mlp_config, &mut Rng::new(seed, Stream::Init))?;
        let optimizer = Optimizer::new(
            OptimizerConfig {
                kind: OptimizerKind::Sgd,
                lr: config.lr,
                momentum: 0.9,
                ..OptimizerConfig::default()
            },
            &mlp,
        )?;
        Ok(Training {
            mlp,
            optimizer,
            order: (0..n).collect(),
            cursor: n,
            rng: Rng::new(seed, Stream::Batches),
        })
    }

    /// Takes its own data order from `seed` from the next step on.
    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed, Stream::Batches);
        self.cursor = self.order.len();
    }

    /// One SGD step on the next mini-batch (a reshuffle every epoch); the batch loss.
    fn step(&mut self, train: &Split<f64>, batch: usize, loss: Loss, step: usize) -> Result<()> {
        if self.cursor >= self.order.len() {
            self.rng.shuffle(&mut self.order);
            self.cursor = 0;
        }
        let end = (self.cursor + batch).min(self.order.len());
        let batch = train.select(&self.order[self.cursor..end]);
        self.cursor = end;
        let forward = self.mlp.forward(&batch.features)?;
        let (value, d_output) = loss.value_and_gradient(forward.output(), batch.target())?;
        if !value.is_finite() {
            return Err(Error::Diverged {
                step,
                loss: value,
                lr: self.optimizer.config().lr,
            });
        }
        let gradients = self.mlp.backward(&forward, &d_output);
        self.optimizer.step(&mut self.mlp, &gradients);
        Ok(())
    }
}

enum Phase {
    /// Training A and B (for a spawn: the parent until step k, then both children).
    Train {
        parent: Option<Box<Training>>,
        a: Box<Training>,
        b: Box<Training>,
        step: usize,
    },
    /// Matching B to A.
    Match {
        a: Mlp<f64>,
        b: Mlp<f64>,
    },
    /// Evaluating the path points in `nets`, `done` of them so far.
    Path {
        nets: Vec<Mlp<f64>>,
        done: usize,
        values: Vec<Point>,
    },
    Done,
}

/// Loss and accuracy of one network on the training and test sets.
#[derive(Clone, Copy, Debug)]
struct Point {
    train_loss: f64,
    train_accuracy: f64,
    test_loss: Option<f64>,
    test_accuracy: Option<f64>,
}

/// The running experiment. Training, matching and the curvature run on the CPU in f64; the path
/// points are networks evaluated through the ensemble engine `E` (the f64 CPU reference by
/// default, or the GPU in f32).
pub struct LmcRun<E: Ensemble = CpuEnsemble<f64>> {
    device: E::Device,
    config: LmcConfig,
    train: Split<f64>,
    test: Option<Split<f64>>,
    loss: Loss,
    phase: Phase,
    done: usize,
    total: usize,
    matched: Option<Mlp<f64>>,
    ends: Option<(Mlp<f64>, Mlp<f64>)>,
    result: LmcResult,
}

/// The data set of `config`, split into train and test by A's seed.
pub fn make_data(config: &LmcConfig) -> Result<(Dataset, Option<Dataset>)> {
    let seed = config.seeds[0];
    let full = match config.dataset {
        LmcData::Digits => data::digits()?,
        LmcData::Gmm => data::gaussian_mixture(
            config.samples,
            config.classes,
            config.dim,
            config.separation,
            &mut Rng::new(seed, Stream::Data),
        ),
    };
    full.split(config.test_fraction, &mut Rng::new(seed, Stream::Split))
}

/// Multiply-adds of analysing two networks shaped like `a` on `rows` samples: every path point
/// (2 paths of `alphas` points) is a forward pass of `num_params` multiply-adds per sample, the
/// midpoint curvature's Hessian-vector product about 6 more (a forward and backward pass and
/// their R-operator twins), and weight matching costs per sweep an `n^3` assignment and an
/// `n^2 (fan_in + fan_out)` score per hidden layer, for up to [`rebasin::MAX_SWEEPS`] sweeps.
pub fn models_work(a: &Mlp<f64>, rows: usize, config: &LmcConfig) -> f64 {
    let paths = 2.0 * (config.alphas as f64 + 6.0);
    let forward = rows as f64 * a.num_params() as f64 * paths;
    let matching: f64 = a.layers[..a.layers.len().saturating_sub(1)]
        .iter()
        .zip(&a.layers[1..])
        .map(|(l, next)| {
            let n = l.params.weight.nrows() as f64;
            let fans = (l.params.weight.ncols() + next.params.weight.nrows()) as f64;
            n.powi(3) + n * n * fans
        })
        .sum();
    forward + matching * rebasin::MAX_SWEEPS as f64
}

impl LmcRun {
    /// Validates the config, draws the data and both initial networks; the path on the CPU.
    pub fn new(config: &LmcConfig) -> Result<Self> {
        LmcRun::on((), config)
    }

    /// The analysis of two networks trained elsewhere, the path on the CPU in f64 (see
    /// [`LmcRun::from_models_on`]).
    pub fn from_models(
        a: Mlp<f64>,
        b: Mlp<f64>,
        data: &Dataset,
        loss: Loss,
        config: &LmcConfig,
        source: &str,
    ) -> Result<Self> {
        LmcRun::from_models_on((), a, b, data, loss, config, source)
    }
}

impl<E: Ensemble> LmcRun<E> {
    /// Validates the config, draws the data and both initial networks; the path on `device`.
    pub fn on(device: E::Device, config: &LmcConfig) -> Result<Self> {
        config.validate()?;
        let (train, test) = make_data(config)?;
        let (d, c, _) = config.data_shape();
        let n = train.len();
        let [seed_a, seed_b] = config.seeds;
        let a = Training::new(config, d, c, seed_a, n)?;
        let (parent, b) = match config.spawn {
            Some(_) => (Some(Box::new(a.clone())), a.clone()),
            None => (None, Training::new(config, d, c, seed_b, n)?),
        };
        let steps = config.total_steps();
        let training_units = match config.spawn {
            Some(k) => k + 2 * (steps - k),
            None => 2 * steps,
        };
        let mut run = Self::empty(
            device,
            config,
            &train,
            test.as_ref(),
            config.loss,
            "trained",
        )?;
        run.total = training_units + run.path_units();
        run.result.steps = steps;
        run.phase = Phase::Train {
            parent,
            a: Box::new(a),
            b: Box::new(b),
            step: 0,
        };
        Ok(run)
    }

    /// The analysis of two networks trained elsewhere, on `data` (no test set): matching, the
    /// path (on `device`) and the spectra. `config` supplies the matching, the grid and `top_k`;
    /// its architecture fields are overwritten with the models'.
    pub fn from_models_on(
        device: E::Device,
        a: Mlp<f64>,
        b: Mlp<f64>,
        data: &Dataset,
        loss: Loss,
        config: &LmcConfig,
        source: &str,
    ) -> Result<Self> {
        rebasin::check_same_shape(&a, &b)?;
        if data.input_dim() != a.input_dim() {
            return Err(Error::Shape {
                what: "the data file".into(),
                expected: format!("{} feature columns, the models' input width", a.input_dim()),
                found: format!("{} feature columns", data.input_dim()),
            });
        }
        if data.output_dim() != a.output_dim() {
            return Err(Error::Shape {
                what: "the data file's targets".into(),
                expected: format!(
                    "{} classes or target columns, the models' outputs",
                    a.output_dim()
                ),
                found: format!("{}", data.output_dim()),
            });
        }
        if config.matching != Matching::None {
            rebasin::identity(&a)?;
        }
        let work = models_work(&a, data.len(), config);
        if work > super::CLI_MAX_WORK {
            return Err(Error::config(
                "data",
                format!(
                    "{} rows through these models cost about {work:.1e} multiply-adds, more than the {:.0e} (hours on a CPU) this lab runs: use fewer rows",
                    data.len(),
                    super::CLI_MAX_WORK
                ),
            ));
        }
        let mut config = config.clone();
        config.width = a.layers[0].params.weight.nrows();
        config.depth = a.layers.len() - 1;
        config.activation = a.activation;
        config.loss = loss;
        config.spawn = None;
        if !(super::MIN_ALPHAS..=super::MAX_ALPHAS).contains(&config.alphas) {
            return Err(Error::config(
                "alphas",
                format!(
                    "{} is not in {}..={}",
                    config.alphas,
                    super::MIN_ALPHAS,
                    super::MAX_ALPHAS
                ),
            ));
        }
        let mut run = Self::empty(device, &config, data, None, loss, source)?;
        run.total = run.path_units();
        run.phase = Phase::Match { a, b };
        Ok(run)
    }

    fn empty(
        device: E::Device,
        config: &LmcConfig,
        train: &Dataset,
        test: Option<&Dataset>,
        loss: Loss,
        source: &str,
    ) -> Result<Self> {
        let train = Split::new(train)?;
        if loss == Loss::CrossEntropy && !train.is_classification() {
            return Err(Error::config(
                "loss",
                "cross-entropy needs class labels; use --loss mse for real targets",
            ));
        }
        let alphas = (0..config.alphas)
            .map(|i| i as f64 / (config.alphas - 1) as f64)
            .collect();
        Ok(LmcRun {
            device,
            config: config.clone(),
            train,
            test: test.map(Split::new).transpose()?,
            loss,
            phase: Phase::Done,
            done: 0,
            total: 0,
            matched: None,
            ends: None,
            result: LmcResult {
                config: config.clone(),
                source: source.into(),
                alphas,
                train_loss: Pair::default(),
                test_loss: Pair::default(),
                train_error: Pair::default(),
                test_error: Pair::default(),
                barrier: Pair::default(),
                test_barrier: Pair::default(),
                error_barrier: Pair::default(),
                permutations: Vec::new(),
                objective: Vec::new(),
                function_change: None,
                layers: Vec::new(),
                curvature: Pair::default(),
                predicted_barrier: Pair::default(),
                train_accuracy: None,
                test_accuracy: None,
                steps: 0,
            },
        })
    }

    /// Units of work of matching (1) and of evaluating every path point.
    fn path_units(&self) -> usize {
        let paths = if self.config.matching == Matching::None {
            1
        } else {
            2
        };
        1 + paths * self.config.alphas
    }

    /// B with its hidden units permuted to match A (after the run), for `--save-matched`.
    pub fn matched_model(&self) -> Option<&Mlp<f64>> {
        self.matched.as_ref()
    }

    /// A and B as trained (after training).
    pub fn endpoints(&self) -> Option<&(Mlp<f64>, Mlp<f64>)> {
        self.ends.as_ref()
    }

    fn weights(&self) -> f64 {
        let (d, c, _) = self.config.data_shape();
        let n = self.config.width as f64;
        d as f64 * n + (self.config.depth as f64 - 1.0) * n * n + n * c as f64
    }

    /// A slice of training: as many steps as fit in [`SLICE_WORK`].
    fn train_slice(&mut self) -> Result<()> {
        let weights = self.weights();
        let Phase::Train { parent, a, b, step } = &mut self.phase else {
            return Ok(());
        };
        let c = &self.config;
        let total = c.total_steps();
        let per_step = 3.0 * c.batch_size as f64 * weights;
        let budget = ((SLICE_WORK / per_step) as usize).max(1);
        let mut units = 0;
        while units < budget && *step < total {
            if Some(*step) == c.spawn
                && let Some(p) = parent.take()
            {
                **a = (*p).clone();
                **b = *p;
                b.reseed(c.seeds[1]);
            }
            if let Some(p) = parent {
                p.step(&self.train, c.batch_size, self.loss, *step)?;
                *step += 1;
                units += 1;
                continue;
            }
            a.step(&self.train, c.batch_size, self.loss, *step)?;
            b.step(&self.train, c.batch_size, self.loss, *step)?;
            *step += 1;
            units += 2;
        }
        self.done += units;
        if *step >= total {
            if let Some(p) = parent.take() {
                // Spawned at the very end: both children are the parent.
                **a = (*p).clone();
                **b = *p;
            }
            let (a, b) = (a.mlp.clone(), b.mlp.clone());
            self.phase = Phase::Match { a, b };
        }
        Ok(())
    }

    /// Matching, the spectra, and the list of path points to evaluate.
    fn match_models(&mut self, a: Mlp<f64>, b: Mlp<f64>) -> Result<()> {
        let perms = match self.config.matching {
            Matching::None => None,
            Matching::Weight => {
                let mut rng = Rng::new(self.config.seeds[0], Stream::Experiment);
                let found = rebasin::weight_matching(&a, &b, &mut rng)?;
                self.result.objective = found.objective;
                Some(found.perms)
            }
            Matching::Activation => {
                Some(rebasin::activation_matching(&a, &b, &self.train.features)?)
            }
        };
        let matched = perms
            .as_ref()
            .map(|p| rebasin::permute_hidden(&b, p))
            .transpose()?;
        if let Some(m) = &matched {
            let (before, after) = (
                b.predict(&self.train.features)?,
                m.predict(&self.train.features)?,
            );
            let change = (before - after).abs().max();
            self.result.function_change = Some(change);
        }
        self.result.permutations = perms.unwrap_or_default();
        self.result.layers = spectra(&a, &b, matched.as_ref(), self.config.top_k);
        let mut nets = Vec::new();
        for other in std::iter::once(&b).chain(matched.as_ref()) {
            for &alpha in &self.result.alphas {
                nets.push(rebasin::interpolate(&a, other, alpha)?);
            }
        }
        self.done += 1;
        self.matched = matched;
        self.ends = Some((a, b));
        self.phase = Phase::Path {
            nets,
            done: 0,
            values: Vec::new(),
        };
        Ok(())
    }

    /// A slice of path points, through the ensemble engine: on the CPU a slice's worth of work,
    /// on the GPU as many networks as one readback holds.
    async fn path_slice(&mut self) -> Result<()> {
        let weights = self.weights();
        let Phase::Path { nets, done, values } = &mut self.phase else {
            return Ok(());
        };
        let splits: Vec<&Split<f64>> = std::iter::once(&self.train).chain(&self.test).collect();
        let samples: usize = splits.iter().map(|s| s.features.ncols()).sum();
        let units = nets[0].layers.iter().map(|l| l.params.weight.nrows()).sum();
        let per_net = samples as f64 * weights;
        let count = evaluations_per_slice::<E>(&self.device, per_net, SLICE_WORK, samples, units)
            .clamp(1, nets.len() - *done);
        let chunk: Vec<Mlp<E::Scalar>> = nets[*done..*done + count]
            .iter()
            .map(|net| net.cast::<E::Scalar>())
            .collect();
        let mut ensemble =
            E::new(&self.device, &chunk, self.loss, OptimizerConfig::default()).await?;
        let mut measured = Vec::with_capacity(splits.len());
        for split in &splits {
            let outputs = ensemble
                .forward(&split.features.map(E::Scalar::of_f64))
                .await?;
            let values = outputs
                .iter()
                .map(|f| split.measure(&f.output().map(|v| v.as_f64()), self.loss))
                .collect::<Result<Vec<(f64, f64)>>>()?;
            measured.push(values);
        }
        for i in 0..count {
            let (train_loss, train_accuracy) = measured[0][i];
            let test = measured.get(1).map(|m| m[i]);
            values.push(Point {
                train_loss,
                train_accuracy,
                test_loss: test.map(|t| t.0),
                test_accuracy: test.map(|t| t.1),
            });
        }
        *done += count;
        self.done += count;
        if *done == nets.len() {
            let values = std::mem::take(values);
            self.finish(&values)?;
            self.phase = Phase::Done;
        }
        Ok(())
    }

    /// Curves and barriers from the evaluated points, and the curvature at each path's midpoint.
    fn finish(&mut self, values: &[Point]) -> Result<()> {
        let per_path = self.config.alphas;
        let paths: Vec<&[Point]> = values.chunks(per_path).collect();
        let classification = self.train.is_classification();
        let r = &mut self.result;
        let curve = |p: &[Point], f: &dyn Fn(&Point) -> Option<f64>| -> Vec<f64> {
            p.iter().filter_map(f).collect()
        };
        let pair = |f: &dyn Fn(&Point) -> Option<f64>| -> Pair<Vec<f64>> {
            Pair {
                naive: curve(paths[0], f),
                matched: paths.get(1).map(|p| curve(p, f)),
            }
        };
        r.train_loss = pair(&|p| Some(p.train_loss));
        r.test_loss = pair(&|p| p.test_loss);
        if classification {
            r.train_error = pair(&|p| Some(1.0 - p.train_accuracy));
            r.test_error = pair(&|p| p.test_accuracy.map(|a| 1.0 - a));
        }
        let barrier_of = |c: &[f64]| (!c.is_empty()).then(|| rebasin::barrier(c));
        let map = |p: &Pair<Vec<f64>>| Pair {
            naive: barrier_of(&p.naive),
            matched: p.matched.as_deref().map(barrier_of),
        };
        r.barrier = Pair {
            naive: rebasin::barrier(&r.train_loss.naive),
            matched: r.train_loss.matched.as_deref().map(rebasin::barrier),
        };
        r.test_barrier = map(&r.test_loss);
        r.error_barrier = if self.test.is_some() {
            map(&r.test_error)
        } else {
            map(&r.train_error)
        };
        let Some((a, b)) = &self.ends else {
            return Err(Error::Data(
                "the path was evaluated before its endpoints".into(),
            ));
        };
        let curvature =
            |other: &Mlp<f64>| rebasin::midpoint_curvature(a, other, &self.train, self.loss);
        r.curvature = Pair {
            naive: curvature(b)?,
            matched: self.matched.as_ref().map(curvature).transpose()?,
        };
        r.predicted_barrier = Pair {
            naive: rebasin::predicted_barrier(r.curvature.naive),
            matched: r.curvature.matched.map(rebasin::predicted_barrier),
        };
        let ends = [paths[0][0], paths[0][self.config.alphas - 1]];
        if self.train.is_classification() {
            r.train_accuracy = Some(ends.map(|p| p.train_accuracy));
            r.test_accuracy = ends[0]
                .test_accuracy
                .zip(ends[1].test_accuracy)
                .map(|(a, b)| [a, b]);
        }
        Ok(())
    }
}

/// Per layer, B's singular values naive and matched and the alignment of A's and B's top
/// singular vectors (Ito et al. 2024: a permutation moves singular vectors, not values).
fn spectra(a: &Mlp<f64>, b: &Mlp<f64>, matched: Option<&Mlp<f64>>, k: usize) -> Vec<LayerSpectrum> {
    (0..a.layers.len())
        .map(|l| {
            let w = |m: &Mlp<f64>| m.layers[l].effective_weight();
            let (sa, ua, va) = singular(&w(a));
            let (sb, ub, vb) = singular(&w(b));
            let m = matched.map(|m| singular(&w(m)));
            LayerSpectrum {
                singular_values_a: sa,
                singular_values_b: Pair {
                    naive: sb,
                    matched: m.as_ref().map(|m| m.0.clone()),
                },
                left_cosines: Pair {
                    naive: column_cosines(&ua, &ub, k),
                    matched: m.as_ref().map(|m| column_cosines(&ua, &m.1, k)),
                },
                right_cosines: Pair {
                    naive: column_cosines(&va, &vb, k),
                    matched: m.as_ref().map(|m| column_cosines(&va, &m.2, k)),
                },
            }
        })
        .collect()
}

impl<E: Ensemble> Stepper for LmcRun<E> {
    type Output = LmcResult;

    async fn step(&mut self) -> Result<Progress> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            phase @ Phase::Train { .. } => {
                self.phase = phase;
                self.train_slice()?;
            }
            Phase::Match { a, b } => self.match_models(a, b)?,
            phase @ Phase::Path { .. } => {
                self.phase = phase;
                self.path_slice().await?;
            }
            Phase::Done => {}
        }
        let finished = matches!(self.phase, Phase::Done);
        Ok(Progress {
            done: if finished {
                self.total
            } else {
                self.done.min(self.total - 1)
            },
            total: self.total,
        })
    }

    fn result(&self) -> LmcResult {
        self.result.clone()
    }
}
