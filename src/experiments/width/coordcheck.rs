//! The coordinate check of the `mup` package (Yang et al. 2021, Tensor Programs V, Section 4 and
//! Figure 5), with feature and kernel movement: does a parametrization keep every layer's
//! activations and their updates at a width-independent size?
//!
//! For each width and seed a fresh network (depth `L`, one output) takes `steps - 1` optimizer
//! steps of full-batch MSE on a fixed teacher–student batch. At steps t = 1..T (t = 1 before any
//! update) we record, per layer output (the L hidden activations h_l, then the output f):
//! - `act_size`: mean |x| over coordinates and samples, as `mup.coord_check` does;
//! - `delta_size`: mean |x_t - x_1|, the change since initialization.
//!
//! After the last step: feature movement `||h_T - h_1||_F / ||h_1||_F` of the last hidden layer
//! and kernel movement `||Theta_T - Theta_1||_F / ||Theta_1||_F` of the empirical NTK on the
//! first [`KERNEL_POINTS`] samples. All are means over seeds.

use crate::core::activation::Activation;
use crate::core::data::{Regression, teacher_regression};
use crate::core::kernels::{empirical_ntk, relative_error};
use crate::core::loss::{Loss, Target};
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::{check_counts, check_widths};
use crate::gpu::{GpuContext, GpuEnsemble};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Samples on which the empirical NTK is measured.
pub const KERNEL_POINTS: usize = 16;

/// What to sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordCheckConfig {
    /// Parametrization preset or free exponents.
    pub parametrization: Parametrization,
    /// Optimizer (its base learning rate is `lr`; every tensor uses `lr n^-c`).
    pub optimizer: OptimizerKind,
    /// Base learning rate eta.
    pub lr: f64,
    /// Hidden widths n, ascending.
    pub widths: Vec<usize>,
    /// Recorded steps T (T - 1 updates).
    pub steps: usize,
    /// Seeds per width.
    pub seeds: usize,
    /// Hidden layers L.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Input dimension of the teacher–student data.
    pub input_dim: usize,
    /// Samples in the batch.
    pub batch: usize,
    /// Base seed (seed s of the sweep uses `seed + s`).
    pub seed: u64,
}

impl Default for CoordCheckConfig {
    fn default() -> Self {
        CoordCheckConfig {
            parametrization: Parametrization::Mup,
            optimizer: OptimizerKind::Sgd,
            lr: 0.1,
            widths: vec![64, 128, 256, 512, 1024, 2048, 4096],
            steps: 5,
            seeds: 3,
            depth: 2,
            activation: Activation::Relu,
            input_dim: 16,
            batch: 32,
            seed: 0,
        }
    }
}

impl CoordCheckConfig {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        check_widths(&self.widths)?;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config(
                "learning rate",
                format!("{} must be finite and > 0", self.lr),
            ));
        }
        check_counts(&[
            ("steps", self.steps, 1..=1000),
            ("seeds", self.seeds, 1..=1000),
            ("depth", self.depth, 1..=64),
            ("input dimension", self.input_dim, 1..=4096),
            ("batch", self.batch, 1..=4096),
        ])
    }

    /// The network of width `n`.
    pub fn mlp_config(&self, n: usize) -> MlpConfig {
        MlpConfig {
            input_dim: self.input_dim,
            hidden: vec![n; self.depth],
            output_dim: 1,
            activation: self.activation,
            bias: true,
            residual: None,
            rules: self.parametrization.rules(self.optimizer),
            sigma_w: 1.0,
            sigma_b: 0.0,
        }
    }

    /// The fixed batch: Gaussian inputs, targets from a random tanh teacher (noise-free).
    pub fn data(&self) -> Result<Regression> {
        teacher_regression(
            self.batch,
            self.input_dim,
            16,
            0.0,
            false,
            &mut Rng::new(self.seed, Stream::Data),
        )
    }

    /// Names of the recorded layer outputs.
    pub fn layer_names(&self) -> Vec<String> {
        (1..=self.depth)
            .map(|l| format!("h{l}"))
            .chain(["output".to_string()])
            .collect()
    }
}

/// Sizes by width, step and layer (means over seeds), and movement by width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoordCheckResult {
    /// The config that produced it.
    pub config: CoordCheckConfig,
    /// Widths with at least one finished seed.
    pub widths: Vec<usize>,
    /// Names of the layer outputs (`h1..hL`, `output`).
    pub layers: Vec<String>,
    /// `act_size[width][step][layer]`: mean |x_t|.
    pub act_size: Vec<Vec<Vec<f64>>>,
    /// `delta_size[width][step][layer]`: mean |x_t - x_1|.
    pub delta_size: Vec<Vec<Vec<f64>>>,
    /// `||h_T - h_1|| / ||h_1||` of the last hidden layer, per width.
    pub feature_movement: Vec<f64>,
    /// `||Theta_T - Theta_1||_F / ||Theta_1||_F`, per width.
    pub kernel_movement: Vec<f64>,
    /// Seeds finished at each width.
    pub seeds_done: Vec<usize>,
}

/// The width exponent p of each layer's change after the first update, `|x_2 - x_1| ~ n^p`, for
/// the input layer h1, the hidden layers h2..hL and the output f, or `None` off the presets.
///
/// SGD moves `W_l` by `-eta n^(-2a-c) delta_l h^T`, Adam's first step by `-eta n^(-a-c)
/// sign(g)` (a rank-one sign pattern, so `dW h` sums n aligned terms); with the presets'
/// exponents (Yang & Hu 2021, Table 1; TP5, Table 3) this gives the table that
/// `tests/coordcheck.rs` checks against measured slopes. Mean field is muP moved along the
/// optimizers' symmetry (module docs of `core::parametrization`), so it trains identically.
pub fn first_update_exponents(
    parametrization: Parametrization,
    optimizer: OptimizerKind,
) -> Option<[f64; 3]> {
    use OptimizerKind::{Adam, Sgd};
    use Parametrization::{Custom, MeanField, Mup, Ntk, Sp};
    match (parametrization, optimizer) {
        (Sp, Sgd) => Some([-0.5, 0.5, 1.0]),
        (Sp, Adam) => Some([0.0, 1.0, 1.5]),
        (Ntk, _) => Some([-0.5, -0.5, 0.0]),
        (Mup | MeanField, _) => Some([0.0, 0.0, 0.0]),
        (Custom(_), _) => None,
    }
}

impl CoordCheckResult {
    /// The predicted exponent of each recorded layer (`h1`, hidden, `output`), or `None`.
    pub fn predicted_exponents(&self) -> Option<Vec<f64>> {
        let [input, hidden, output] =
            first_update_exponents(self.config.parametrization, self.config.optimizer)?;
        let depth = self.layers.len().saturating_sub(1);
        Some(
            (0..self.layers.len())
                .map(|l| match l {
                    0 if depth > 0 => input,
                    l if l < depth => hidden,
                    _ => output,
                })
                .collect(),
        )
    }
}

/// One network being trained.
#[derive(Debug)]
struct Run<T: Float> {
    mlp: Mlp<T>,
    optimizer: Optimizer<T>,
    initial: Vec<DMatrix<T>>,
    initial_ntk: DMatrix<f64>,
    step: usize,
}

/// Per-width sums over seeds.
#[derive(Clone, Debug, Default)]
struct Sums {
    act: Vec<Vec<f64>>,
    delta: Vec<Vec<f64>>,
    feature: f64,
    kernel: f64,
    seeds: usize,
}

/// The sweep as a [`Stepper`]: one optimizer step of one network per slice.
#[derive(Debug)]
pub struct CoordCheck<T: Float> {
    config: CoordCheckConfig,
    x: DMatrix<T>,
    y: DMatrix<T>,
    /// The first [`KERNEL_POINTS`] inputs, where the NTK is measured.
    kernel_x: DMatrix<f64>,
    /// Index into widths x seeds of the network in training.
    unit: usize,
    run: Option<Run<T>>,
    sums: Vec<Sums>,
}

/// Mean |x| over all entries.
fn mean_abs<T: Float>(m: &DMatrix<T>) -> f64 {
    m.iter().map(|x| x.as_f64().abs()).sum::<f64>() / m.len() as f64
}

/// The layer outputs h_1..h_L, f of a forward pass.
fn outputs<T: Float>(forward: &crate::core::mlp::Forward<T>) -> Vec<DMatrix<T>> {
    forward.activations[1..]
        .iter()
        .chain([forward.output()])
        .cloned()
        .collect()
}

impl Sums {
    /// Adds one network's layer outputs at recorded step `step` (0-based) of `steps`.
    fn record<T: Float>(
        &mut self,
        step: usize,
        steps: usize,
        outputs: &[DMatrix<T>],
        initial: &[DMatrix<T>],
    ) {
        if self.act.len() < steps {
            self.act = vec![vec![0.0; outputs.len()]; steps];
            self.delta = vec![vec![0.0; outputs.len()]; steps];
        }
        for (l, (now, first)) in outputs.iter().zip(initial).enumerate() {
            self.act[step][l] += mean_abs(now);
            self.delta[step][l] += mean_abs(&(now - first));
        }
    }

    /// Adds one finished network's feature and kernel movement.
    fn finish<T: Float>(
        &mut self,
        outputs: &[DMatrix<T>],
        initial: &[DMatrix<T>],
        ntk: &DMatrix<f64>,
        initial_ntk: &DMatrix<f64>,
    ) {
        let last = outputs.len() - 2;
        let norm = |m: &DMatrix<T>| m.iter().map(|v| v.as_f64().powi(2)).sum::<f64>().sqrt();
        self.feature += norm(&(&outputs[last] - &initial[last])) / norm(&initial[last]);
        self.kernel += relative_error(ntk, initial_ntk);
        self.seeds += 1;
    }
}

/// Means over seeds of the widths with a finished seed.
fn summarize(config: &CoordCheckConfig, sums: &[Sums]) -> CoordCheckResult {
    let finished: Vec<(usize, &Sums)> = config
        .widths
        .iter()
        .copied()
        .zip(sums)
        .filter(|(_, s)| s.seeds > 0)
        .collect();
    let mean = |table: &Vec<Vec<f64>>, seeds: usize| -> Vec<Vec<f64>> {
        table
            .iter()
            .map(|row| row.iter().map(|v| v / seeds as f64).collect())
            .collect()
    };
    CoordCheckResult {
        config: config.clone(),
        widths: finished.iter().map(|(w, _)| *w).collect(),
        layers: config.layer_names(),
        act_size: finished
            .iter()
            .map(|(_, s)| mean(&s.act, s.seeds))
            .collect(),
        delta_size: finished
            .iter()
            .map(|(_, s)| mean(&s.delta, s.seeds))
            .collect(),
        feature_movement: finished
            .iter()
            .map(|(_, s)| s.feature / s.seeds as f64)
            .collect(),
        kernel_movement: finished
            .iter()
            .map(|(_, s)| s.kernel / s.seeds as f64)
            .collect(),
        seeds_done: finished.iter().map(|(_, s)| s.seeds).collect(),
    }
}

impl<T: Float> CoordCheck<T> {
    /// Validates the config and draws the batch.
    pub fn new(config: &CoordCheckConfig) -> Result<Self> {
        config.validate()?;
        let data = config.data()?;
        let k = KERNEL_POINTS.min(data.features.ncols());
        Ok(CoordCheck {
            kernel_x: data.features.columns(0, k).into_owned(),
            x: data.features.map(T::of_f64),
            y: data.values.map(T::of_f64),
            config: config.clone(),
            unit: 0,
            run: None,
            sums: vec![Sums::default(); config.widths.len()],
        })
    }

    fn units(&self) -> usize {
        self.config.widths.len() * self.config.seeds
    }

    fn start(&self) -> Result<Run<T>> {
        let (w, s) = (self.unit / self.config.seeds, self.unit % self.config.seeds);
        let n = self.config.widths[w];
        let seed = self.config.seed.wrapping_add(s as u64);
        let mlp = Mlp::<T>::init(
            &self.config.mlp_config(n),
            &mut Rng::new(seed, Stream::Init),
        )?;
        let optimizer = Optimizer::new(
            OptimizerConfig {
                kind: self.config.optimizer,
                lr: self.config.lr,
                ..OptimizerConfig::default()
            },
            &mlp,
        )?;
        let initial_ntk = empirical_ntk(&mlp.cast::<f64>(), &self.kernel_x)?;
        Ok(Run {
            mlp,
            optimizer,
            initial: Vec::new(),
            initial_ntk,
            step: 0,
        })
    }
}

impl<T: Float> Stepper for CoordCheck<T> {
    type Output = CoordCheckResult;

    fn step(&mut self) -> Result<Progress> {
        let total = self.units() * self.config.steps;
        if self.unit >= self.units() {
            return Ok(Progress { done: total, total });
        }
        let run = match self.run.take() {
            Some(run) => run,
            None => self.start()?,
        };
        let width_index = self.unit / self.config.seeds;
        let steps = self.config.steps;
        let run = self.run.insert(run);
        let forward = run.mlp.forward(&self.x)?;
        let outputs = outputs(&forward);
        if run.step == 0 {
            run.initial = outputs.clone();
        }
        let sums = &mut self.sums[width_index];
        sums.record(run.step, steps, &outputs, &run.initial);
        run.step += 1;
        if run.step < steps {
            let (_, d_output) =
                Loss::Mse.value_and_gradient(forward.output(), Target::Values(&self.y))?;
            let gradients = run.mlp.backward(&forward, &d_output);
            run.optimizer.step(&mut run.mlp, &gradients);
        } else {
            let ntk = empirical_ntk(&run.mlp.cast::<f64>(), &self.kernel_x)?;
            sums.finish(&outputs, &run.initial, &ntk, &run.initial_ntk);
            self.run = None;
            self.unit += 1;
        }
        let done = self.unit * steps + self.run.as_ref().map_or(0, |r| r.step);
        Ok(Progress { done, total })
    }

    fn result(&self) -> CoordCheckResult {
        summarize(&self.config, &self.sums)
    }
}

/// The same sweep on the GPU backend (f32): per width, one [`GpuEnsemble`] whose members are
/// the seeds, drawn exactly as [`CoordCheck`] draws them, so both backends give the same numbers
/// up to f32 rounding. Each [`GpuCoordCheck::step`] is one recorded step of all seeds of one
/// width (a forward pass read back, then one optimizer step); the tangent kernels of the first
/// and last steps are computed on the CPU from the parameters read back.
#[derive(Debug)]
pub struct GpuCoordCheck {
    config: CoordCheckConfig,
    ctx: Arc<GpuContext>,
    x: DMatrix<f32>,
    y: DMatrix<f32>,
    kernel_x: DMatrix<f64>,
    width: usize,
    step: usize,
    ensemble: Option<GpuEnsemble>,
    /// Per member: its outputs at step 1, and its initial NTK.
    initial: Vec<(Vec<DMatrix<f32>>, DMatrix<f64>)>,
    sums: Vec<Sums>,
}

impl GpuCoordCheck {
    /// Validates the config and draws the batch; networks are uploaded width by width.
    pub fn new(ctx: Arc<GpuContext>, config: &CoordCheckConfig) -> Result<Self> {
        let cpu = CoordCheck::<f32>::new(config)?;
        Ok(GpuCoordCheck {
            config: config.clone(),
            ctx,
            x: cpu.x,
            y: cpu.y,
            kernel_x: cpu.kernel_x,
            width: 0,
            step: 0,
            ensemble: None,
            initial: Vec::new(),
            sums: vec![Sums::default(); config.widths.len()],
        })
    }

    fn progress(&self) -> Progress {
        let (seeds, steps) = (self.config.seeds, self.config.steps);
        Progress {
            done: (self.width * steps + self.step) * seeds,
            total: self.config.widths.len() * seeds * steps,
        }
    }

    /// One recorded step of every seed of the current width.
    pub async fn step(&mut self) -> Result<Progress> {
        if self.width >= self.config.widths.len() {
            return Ok(self.progress());
        }
        let ensemble = match self.ensemble.take() {
            Some(ensemble) => ensemble,
            None => {
                let n = self.config.widths[self.width];
                let nets = (0..self.config.seeds)
                    .map(|s| {
                        let seed = self.config.seed.wrapping_add(s as u64);
                        Mlp::<f32>::init(
                            &self.config.mlp_config(n),
                            &mut Rng::new(seed, Stream::Init),
                        )
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.initial = nets
                    .iter()
                    .map(|net| Ok((Vec::new(), empirical_ntk(&net.cast(), &self.kernel_x)?)))
                    .collect::<Result<_>>()?;
                let optimizer = OptimizerConfig {
                    kind: self.config.optimizer,
                    lr: self.config.lr,
                    ..OptimizerConfig::default()
                };
                GpuEnsemble::new(self.ctx.clone(), &nets, Loss::Mse, optimizer).await?
            }
        };
        let ensemble = self.ensemble.insert(ensemble);
        let forwards = ensemble.forward(&self.x).await?;
        let (step, steps) = (self.step, self.config.steps);
        let sums = &mut self.sums[self.width];
        for (forward, (initial, _)) in forwards.iter().zip(&mut self.initial) {
            let now = outputs(forward);
            if step == 0 {
                *initial = now.clone();
            }
            sums.record(step, steps, &now, initial);
        }
        self.step += 1;
        if self.step < steps {
            ensemble.train_step(&self.x, Target::Values(&self.y))?;
        } else {
            let nets = ensemble.read_params().await?;
            for ((net, forward), (initial, initial_ntk)) in
                nets.iter().zip(&forwards).zip(&self.initial)
            {
                let ntk = empirical_ntk(&net.cast(), &self.kernel_x)?;
                sums.finish(&outputs(forward), initial, &ntk, initial_ntk);
            }
            self.ensemble = None;
            self.width += 1;
            self.step = 0;
        }
        Ok(self.progress())
    }

    /// The result so far.
    pub fn result(&self) -> CoordCheckResult {
        summarize(&self.config, &self.sums)
    }
}
