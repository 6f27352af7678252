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
use crate::core::bounds;
use crate::core::data::{Regression, teacher_regression};
use crate::core::ensemble::{CpuEnsemble, Ensemble};
use crate::core::kernels::{empirical_ntk, relative_error};
use crate::core::loss::{Loss, Target};
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::scalar::Float;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::{check_counts, check_widths};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

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
            ("seeds", self.seeds, bounds::SEEDS.min..=bounds::SEEDS.max),
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

/// Per member: its layer outputs at step 1 (filled at the first slice) and its initial NTK.
type Initial<T> = (Vec<DMatrix<T>>, DMatrix<f64>);

/// The seeds of one width in training, as ensemble members.
#[derive(Debug)]
struct Run<E: Ensemble> {
    ensemble: E,
    initial: Vec<Initial<E::Scalar>>,
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

/// The sweep as a [`Stepper`] on the ensemble backend `E`: the seeds of each width are trained
/// as ensemble members, [`Ensemble::members_per_slice`] at a time (one network per slice on the CPU, all
/// seeds in one dispatch on the GPU); a slice is one recorded step of those members. Both
/// backends draw the same networks, so they give the same numbers up to rounding.
#[derive(Debug)]
pub struct CoordCheck<E: Ensemble> {
    config: CoordCheckConfig,
    device: E::Device,
    x: DMatrix<E::Scalar>,
    y: DMatrix<E::Scalar>,
    /// The first [`KERNEL_POINTS`] inputs, where the NTK is measured.
    kernel_x: DMatrix<f64>,
    /// Index of the group of seeds in training, over widths x groups.
    group: usize,
    run: Option<Run<E>>,
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

impl<T: Float> CoordCheck<CpuEnsemble<T>> {
    /// The sweep on the CPU, in `T`.
    pub fn new(config: &CoordCheckConfig) -> Result<Self> {
        CoordCheck::on((), config)
    }
}

impl<E: Ensemble> CoordCheck<E> {
    /// Validates the config and draws the batch; networks are made group by group.
    pub fn on(device: E::Device, config: &CoordCheckConfig) -> Result<Self> {
        config.validate()?;
        let data = config.data()?;
        let k = KERNEL_POINTS.min(data.features.ncols());
        Ok(CoordCheck {
            kernel_x: data.features.columns(0, k).into_owned(),
            x: data.features.map(E::Scalar::of_f64),
            y: data.values.map(E::Scalar::of_f64),
            config: config.clone(),
            device,
            group: 0,
            run: None,
            sums: vec![Sums::default(); config.widths.len()],
        })
    }

    /// Seeds per group.
    fn group_size(&self) -> usize {
        E::members_per_slice(&self.device).clamp(1, self.config.seeds)
    }

    fn groups_per_width(&self) -> usize {
        self.config.seeds.div_ceil(self.group_size())
    }

    /// The width index and the seeds of group `g`.
    fn group(&self, g: usize) -> (usize, std::ops::Range<usize>) {
        let (w, j) = (g / self.groups_per_width(), g % self.groups_per_width());
        let first = j * self.group_size();
        (w, first..(first + self.group_size()).min(self.config.seeds))
    }

    fn progress(&self) -> Progress {
        let (seeds, steps) = (self.config.seeds, self.config.steps);
        let total = self.config.widths.len() * seeds * steps;
        if self.group >= self.config.widths.len() * self.groups_per_width() {
            return Progress { done: total, total };
        }
        let (w, members) = self.group(self.group);
        let running = self.run.as_ref().map_or(0, |r| r.step * members.len());
        Progress {
            done: (w * seeds + members.start) * steps + running,
            total,
        }
    }

    async fn start(&self) -> Result<Run<E>> {
        let (w, members) = self.group(self.group);
        let n = self.config.widths[w];
        let nets = members
            .map(|s| {
                let seed = self.config.seed.wrapping_add(s as u64);
                Mlp::init(
                    &self.config.mlp_config(n),
                    &mut Rng::new(seed, Stream::Init),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let initial = nets
            .iter()
            .map(|net| Ok((Vec::new(), empirical_ntk(&net.cast(), &self.kernel_x)?)))
            .collect::<Result<_>>()?;
        let optimizer = OptimizerConfig {
            kind: self.config.optimizer,
            lr: self.config.lr,
            ..OptimizerConfig::default()
        };
        let ensemble = E::new(&self.device, &nets, Loss::Mse, optimizer).await?;
        Ok(Run {
            ensemble,
            initial,
            step: 0,
        })
    }
}

impl<E: Ensemble> Stepper for CoordCheck<E> {
    type Output = CoordCheckResult;

    async fn step(&mut self) -> Result<Progress> {
        if self.group >= self.config.widths.len() * self.groups_per_width() {
            return Ok(self.progress());
        }
        let run = match self.run.take() {
            Some(run) => run,
            None => self.start().await?,
        };
        let (w, _) = self.group(self.group);
        let steps = self.config.steps;
        let run = self.run.insert(run);
        let last = run.step + 1 == steps;
        let forwards = if last {
            run.ensemble.forward(&self.x).await?
        } else {
            run.ensemble
                .forward_then_step(&self.x, Target::Values(&self.y))
                .await?
        };
        let sums = &mut self.sums[w];
        for (forward, (initial, _)) in forwards.iter().zip(&mut run.initial) {
            let now = outputs(forward);
            // A layer that overflowed has no size to report: the run stops, naming the rate.
            let bad = now
                .iter()
                .flat_map(|m| m.iter())
                .find(|v| !v.as_f64().is_finite());
            if let Some(bad) = bad {
                return Err(Error::Diverged {
                    step: run.step,
                    loss: bad.as_f64(),
                    lr: self.config.lr,
                });
            }
            if run.step == 0 {
                *initial = now.clone();
            }
            sums.record(run.step, steps, &now, initial);
        }
        run.step += 1;
        if last {
            let nets = run.ensemble.networks().await?;
            for ((net, forward), (initial, initial_ntk)) in
                nets.iter().zip(&forwards).zip(&run.initial)
            {
                let ntk = empirical_ntk(&net.cast(), &self.kernel_x)?;
                sums.finish(&outputs(forward), initial, &ntk, initial_ntk);
            }
            self.run = None;
            self.group += 1;
        }
        Ok(self.progress())
    }

    fn result(&self) -> CoordCheckResult {
        summarize(&self.config, &self.sums)
    }
}
