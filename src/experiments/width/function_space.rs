//! Training in function space: finite networks trained by gradient descent beside the
//! infinite-width NTK prediction (Jacot et al. 2018; Lee et al. 2019), under the NTK
//! parametrization, where the networks follow their kernel, and under muP, where they learn
//! features and leave it (Yang & Hu 2021).
//!
//! The task is a function on the unit circle, `x = (cos theta, sin theta)` (Jacot et al. 2018,
//! Figure 2): a grid of P test angles over `[-pi, pi)`, m of them (at random) the train inputs,
//! with targets `y = sin(2 theta)`. On the circle `x . x' / d = cos(theta - theta') / 2`, so the
//! kernels of grid points depend only on their index difference: the analytic recursion runs on
//! the P/2 + 1 differences, not on all pairs (one tanh entry takes tens of milliseconds). Networks (one output, full-batch GD on MSE, T steps of size eta) are
//! compared with:
//! - the NTK-GP: mean and standard deviation of the infinite ensemble of infinitely wide
//!   networks, from the analytic NNGP and NTK (src/core/kernel_gd.rs);
//! - each network's own linearization `f_0 + Theta_0(x, X) Theta_0^-1 (I - (I - c Theta_0)^T)
//!   (y - f_0(X))` with its empirical NTK at initialization. The relative gap
//!   `||f_T - f_T^lin|| / ||f_T^lin - f_0||` over all inputs falls like n^-1/2 under NTK (Lee et
//!   al. 2019, Theorem 2.1) and stays O(1) under muP.
//!
//! The step is a fixed fraction of the rate at which kernel gradient descent diverges,
//! `eta = lr_fraction * m / lambda_max(Theta)`: of the analytic NTK for the NTK-GP, of its own
//! initial NTK for each network (a muP network's kernel has another scale; under NTK the two
//! rates agree up to O(n^-1/2)).

use crate::core::activation::Activation;
use crate::core::bounds;
use crate::core::kernel_gd::KernelGd;
use crate::core::kernels::{
    KernelParametrization, KernelSpec, Kernels, Recursion, empirical_ntk, network,
};
use crate::core::loss::{Loss, Target};
use crate::core::mlp::{Mlp, MlpConfig};
use crate::core::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use crate::core::parametrization::Parametrization;
use crate::core::rng::{Rng, Stream};
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use crate::experiments::sweep::check_widths;
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// The parametrizations compared, in this order.
pub const PARAMETRIZATIONS: [Parametrization; 2] = [Parametrization::Ntk, Parametrization::Mup];

/// What to train.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionSpaceConfig {
    /// Architecture and init (neural-tangents' conventions; the parametrization field is NTK).
    pub spec: KernelSpec,
    /// Hidden widths n, ascending.
    pub widths: Vec<usize>,
    /// Networks per width and parametrization.
    pub seeds: usize,
    /// Training inputs m on the circle.
    pub train_points: usize,
    /// Test angles P, evenly spaced over [-pi, pi).
    pub test_points: usize,
    /// Gradient-descent steps T.
    pub steps: usize,
    /// eta as a fraction of the critical rate `m / lambda_max` of the analytic NTK.
    pub lr_fraction: f64,
    /// Seed of the data and networks.
    pub seed: u64,
}

impl Default for FunctionSpaceConfig {
    fn default() -> Self {
        FunctionSpaceConfig {
            spec: KernelSpec::default(),
            widths: vec![64, 128, 256, 512],
            seeds: 3,
            train_points: 8,
            test_points: 64,
            steps: 100,
            lr_fraction: 0.5,
            seed: 0,
        }
    }
}

impl FunctionSpaceConfig {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        self.spec.validate()?;
        if self.spec.parametrization != KernelParametrization::Ntk {
            return Err(Error::config(
                "parametrization",
                "function-space training compares with the NTK-parametrized limit; set it to ntk",
            ));
        }
        check_widths(&self.widths)?;
        check_counts(&[
            ("seeds", self.seeds, bounds::SEEDS.min..=bounds::SEEDS.max),
            ("train points", self.train_points, 1..=256),
            ("test points", self.test_points, 2..=1024),
            ("steps", self.steps, 1..=100_000),
        ])?;
        if self.train_points > self.test_points {
            return Err(Error::config(
                "train points",
                format!(
                    "{} is more than the {} grid angles they are drawn from",
                    self.train_points, self.test_points
                ),
            ));
        }
        if !(self.lr_fraction.is_finite() && self.lr_fraction >= 1e-6 && self.lr_fraction < 1.0) {
            return Err(Error::config(
                "lr fraction",
                format!(
                    "{:e} must be in [1e-6, 1): at 1 the step reaches the rate m / lambda_max where gradient descent diverges; below 1e-6 the functions barely move and the gap's denominator ||f_T^lin - f_0|| is lost to rounding",
                    self.lr_fraction
                ),
            ));
        }
        Ok(())
    }

    /// Grid indices of the train angles: m distinct ones at random, ascending.
    pub fn train_indices(&self) -> Vec<usize> {
        let mut rng = Rng::new(self.seed, Stream::Data);
        let mut pool: Vec<usize> = (0..self.test_points).collect();
        // A partial Fisher–Yates shuffle.
        for i in 0..self.train_points {
            let j = i + rng.below(pool.len() - i);
            pool.swap(i, j);
        }
        let mut train = pool[..self.train_points].to_vec();
        train.sort_unstable();
        train
    }

    /// Angle of grid point k.
    pub fn grid_angle(&self, k: usize) -> f64 {
        -PI + 2.0 * PI * k as f64 / self.test_points as f64
    }

    /// Train angles and test angles (the whole grid).
    pub fn angles(&self) -> (Vec<f64>, Vec<f64>) {
        let train = self
            .train_indices()
            .iter()
            .map(|&k| self.grid_angle(k))
            .collect();
        let test = (0..self.test_points).map(|k| self.grid_angle(k)).collect();
        (train, test)
    }

    /// The network of a parametrization at width `n`: NTK networks are neural-tangents' (whose
    /// kernels are the analytic ones); muP networks have the same init variances.
    fn network(
        &self,
        parametrization: Parametrization,
        n: usize,
        rng: &mut Rng,
    ) -> Result<Mlp<f64>> {
        match parametrization {
            Parametrization::Ntk => network(&self.spec, 2, n, rng),
            _ => Mlp::init(
                &MlpConfig {
                    input_dim: 2,
                    hidden: vec![n; self.spec.depth],
                    output_dim: 1,
                    activation: self.spec.activation,
                    bias: true,
                    residual: None,
                    rules: parametrization.rules(OptimizerKind::Sgd),
                    sigma_w: self.spec.weight_var.sqrt(),
                    sigma_b: self.spec.bias_var.sqrt(),
                },
                rng,
            ),
        }
    }
}

/// Kernel gradient descent at the step `fraction * m / lambda_max` of `theta`.
fn at_fraction_of_critical(theta: &DMatrix<f64>, m: usize, fraction: f64) -> Result<KernelGd> {
    let unit = KernelGd::new(theta, m, 1.0)?;
    let critical = unit.critical_lr();
    if !critical.is_finite() {
        return Err(Error::config(
            "weight variance",
            format!(
                "the tangent kernel's largest eigenvalue on the training points is {:e}: at these variances the network's outputs do not move with its parameters, so there is no step size to train at",
                m as f64 / critical
            ),
        ));
    }
    let lr = fraction * critical;
    unit.with_lr(lr)
}

/// The target function.
pub fn target(theta: f64) -> f64 {
    (2.0 * theta).sin()
}

/// Networks of one parametrization: means over seeds per width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionSpaceRuns {
    /// Which parametrization.
    pub parametrization: Parametrization,
    /// Widths with at least one network done.
    pub widths: Vec<usize>,
    /// Networks done per width.
    pub seeds_done: Vec<usize>,
    /// `output[width][j]`: ensemble mean of `f_T` at test angle j.
    pub output: Vec<Vec<f64>>,
    /// `loss[width][t]`: mean train MSE after t steps, t = 0..=T.
    pub loss: Vec<Vec<f64>>,
    /// Mean relative gap to the network's own linearization, `||f_T - f_T^lin|| / ||f_T^lin - f_0||`.
    pub linearization_gap: Vec<f64>,
    /// Mean step eta of the networks (a fraction of each one's critical rate).
    pub lr: Vec<f64>,
}

/// The kernel prediction and the networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FunctionSpaceResult {
    /// The config that produced it.
    pub config: FunctionSpaceConfig,
    /// The step eta of the NTK-GP (0 until the analytic NTK is computed).
    pub lr: f64,
    /// Train angles and targets.
    pub train_angles: Vec<f64>,
    /// `sin(2 theta)` at the train angles.
    pub train_targets: Vec<f64>,
    /// Test angles.
    pub test_angles: Vec<f64>,
    /// NTK-GP mean of `f_T` at the test angles (empty until computed).
    pub kernel_mean: Vec<f64>,
    /// NTK-GP standard deviation of `f_T` at the test angles.
    pub kernel_sd: Vec<f64>,
    /// NTK-GP expected train MSE after t = 0..=T steps.
    pub kernel_loss: Vec<f64>,
    /// One entry per parametrization in [`PARAMETRIZATIONS`] with a network done.
    pub runs: Vec<FunctionSpaceRuns>,
}

/// The analytic prediction.
#[derive(Debug)]
struct Limit {
    lr: f64,
    mean: Vec<f64>,
    sd: Vec<f64>,
    loss: Vec<f64>,
}

/// One network in training.
#[derive(Debug)]
struct Run {
    mlp: Mlp<f64>,
    optimizer: Optimizer<f64>,
    f0: DVector<f64>,
    linearized: DVector<f64>,
    loss: Vec<f64>,
    lr: f64,
}

/// What one network leaves behind.
#[derive(Clone, Debug)]
struct Done {
    output: Vec<f64>,
    loss: Vec<f64>,
    gap: f64,
    lr: f64,
}

/// The experiment as a [`Stepper`]: the analytic kernels entry by entry for tanh, then one
/// gradient-descent step of one network per slice.
#[derive(Debug)]
pub struct FunctionSpace {
    config: FunctionSpaceConfig,
    /// Inputs `[2, m + P]`: train first, then test.
    x: DMatrix<f64>,
    /// The train inputs `[2, m]` and targets `[1, m]` that gradient descent sees.
    train_x: DMatrix<f64>,
    train_y: DMatrix<f64>,
    y: DVector<f64>,
    /// Grid index of every input (train first, then test).
    grid: Vec<usize>,
    /// The analytic recursion on the grid points `(0, k)`, k = 0..=P/2.
    differences: Vec<Recursion>,
    limit: Option<Limit>,
    run: Option<Run>,
    /// Finished networks, in parametrization-, width-, then seed-major order.
    done: Vec<Done>,
}

impl FunctionSpace {
    /// Validates the config and lays out the inputs.
    pub fn new(config: &FunctionSpaceConfig) -> Result<Self> {
        config.validate()?;
        let (train, test) = config.angles();
        let angles: Vec<f64> = train.iter().chain(&test).copied().collect();
        let x = DMatrix::from_fn(2, angles.len(), |i, j| {
            if i == 0 {
                angles[j].cos()
            } else {
                angles[j].sin()
            }
        });
        let y = DVector::from_iterator(train.len(), train.iter().map(|&t| target(t)));
        let grid = config
            .train_indices()
            .into_iter()
            .chain(0..config.test_points)
            .collect();
        let differences = (0..=config.test_points / 2)
            .map(|k| {
                let (a, b) = (config.grid_angle(0), config.grid_angle(k));
                Recursion::new(
                    &config.spec,
                    &DMatrix::from_column_slice(2, 2, &[a.cos(), a.sin(), b.cos(), b.sin()]),
                )
            })
            .collect::<Result<_>>()?;
        Ok(FunctionSpace {
            grid,
            differences,
            config: config.clone(),
            train_x: x.columns(0, train.len()).into_owned(),
            train_y: DMatrix::from_row_slice(1, y.len(), y.as_slice()),
            x,
            y,
            limit: None,
            run: None,
            done: Vec::new(),
        })
    }

    fn units(&self) -> usize {
        PARAMETRIZATIONS.len() * self.config.widths.len() * self.config.seeds
    }

    /// The inputs `[2, m + P]`: train first, then the test grid.
    pub fn inputs(&self) -> &DMatrix<f64> {
        &self.x
    }

    /// The analytic kernels on all inputs, once every difference is computed.
    pub fn kernels(&self) -> Option<Kernels> {
        let by_difference: Vec<(f64, f64)> = self
            .differences
            .iter()
            .map(|r| r.kernels().map(|k| (k.nngp[(0, 1)], k.ntk[(0, 1)])))
            .collect::<Option<_>>()?;
        let p = self.config.test_points;
        let at = |a: usize, b: usize| {
            let d = (self.grid[a] + p - self.grid[b]) % p;
            by_difference[d.min(p - d)]
        };
        let n = self.grid.len();
        Some(Kernels {
            nngp: DMatrix::from_fn(n, n, |a, b| at(a, b).0),
            ntk: DMatrix::from_fn(n, n, |a, b| at(a, b).1),
        })
    }

    fn entries(&self) -> (usize, usize) {
        self.differences.iter().fold((0, 0), |(done, total), r| {
            (done + r.entries_done(), total + r.total_entries())
        })
    }

    fn compute_limit(&self) -> Result<Option<Limit>> {
        let Some(kernels) = self.kernels() else {
            return Ok(None);
        };
        let kernels = &kernels;
        let m = self.config.train_points;
        let gd = at_fraction_of_critical(&kernels.ntk, m, self.config.lr_fraction)?;
        let lr = gd.lr();
        let (mean, variance) = gd.gaussian(self.config.steps, &kernels.nngp, &self.y)?;
        let loss = (0..=self.config.steps)
            .map(|t| gd.expected_loss(t, &kernels.nngp, &self.y))
            .collect::<Result<_>>()?;
        Ok(Some(Limit {
            lr,
            mean: mean.iter().skip(m).copied().collect(),
            sd: variance.iter().skip(m).map(|v| v.sqrt()).collect(),
            loss,
        }))
    }

    fn start(&self) -> Result<Run> {
        let unit = self.done.len();
        let per_param = self.config.widths.len() * self.config.seeds;
        let parametrization = PARAMETRIZATIONS[unit / per_param];
        let n = self.config.widths[(unit % per_param) / self.config.seeds];
        let seed = self
            .config
            .seed
            .wrapping_add((unit % self.config.seeds) as u64);
        let mlp = self
            .config
            .network(parametrization, n, &mut Rng::new(seed, Stream::Init))?;
        let f0 = DVector::from_iterator(self.x.ncols(), mlp.predict(&self.x)?.iter().copied());
        let theta0 = empirical_ntk(&mlp, &self.x)?;
        let m = self.config.train_points;
        let gd = at_fraction_of_critical(&theta0, m, self.config.lr_fraction)?;
        let lr = gd.lr();
        let linearized = gd.predict(self.config.steps, &f0, &self.y)?;
        let optimizer = Optimizer::new(
            OptimizerConfig {
                kind: OptimizerKind::Sgd,
                lr,
                ..OptimizerConfig::default()
            },
            &mlp,
        )?;
        Ok(Run {
            mlp,
            optimizer,
            f0,
            linearized,
            loss: Vec::with_capacity(self.config.steps + 1),
            lr,
        })
    }
}

impl Stepper for FunctionSpace {
    type Output = FunctionSpaceResult;

    async fn step(&mut self) -> Result<Progress> {
        let units = self.units();
        let total_steps = units * (self.config.steps + 1);
        if self.limit.is_none() {
            let entries = if self.config.spec.activation == Activation::Tanh {
                1
            } else {
                usize::MAX
            };
            if let Some(r) = self.differences.iter_mut().find(|r| r.kernels().is_none()) {
                r.advance(entries);
            }
            self.limit = self.compute_limit()?;
        } else if self.done.len() < units {
            let run = match self.run.take() {
                Some(run) => run,
                None => self.start()?,
            };
            let run = self.run.insert(run);
            let forward = run.mlp.forward(&self.train_x)?;
            let (loss, d_output) =
                Loss::Mse.value_and_gradient(forward.output(), Target::Values(&self.train_y))?;
            if !loss.is_finite() {
                return Err(Error::Data(format!(
                    "a network diverged at step {} (loss {loss}); lower the learning-rate fraction",
                    run.loss.len()
                )));
            }
            run.loss.push(loss);
            if run.loss.len() <= self.config.steps {
                let gradients = run.mlp.backward(&forward, &d_output);
                run.optimizer.step(&mut run.mlp, &gradients);
            } else {
                let f_t = run.mlp.predict(&self.x)?;
                let f_t = DVector::from_iterator(f_t.len(), f_t.iter().copied());
                let gap = (&f_t - &run.linearized).norm() / (&run.linearized - &run.f0).norm();
                let m = self.config.train_points;
                self.done.push(Done {
                    output: f_t.iter().skip(m).copied().collect(),
                    loss: std::mem::take(&mut run.loss),
                    gap,
                    lr: run.lr,
                });
                self.run = None;
            }
        }
        let in_progress = self.run.as_ref().map_or(0, |r| r.loss.len());
        let (entries_done, entries) = self.entries();
        Ok(Progress {
            done: entries_done + self.done.len() * (self.config.steps + 1) + in_progress,
            total: entries + total_steps,
        })
    }

    fn result(&self) -> FunctionSpaceResult {
        let (train, test) = self.config.angles();
        let seeds = self.config.seeds;
        let per_param = self.config.widths.len() * seeds;
        let runs = self
            .done
            .chunks(per_param)
            .zip(PARAMETRIZATIONS)
            .map(|(networks, parametrization)| {
                let mut runs = FunctionSpaceRuns {
                    parametrization,
                    widths: Vec::new(),
                    seeds_done: Vec::new(),
                    output: Vec::new(),
                    loss: Vec::new(),
                    linearization_gap: Vec::new(),
                    lr: Vec::new(),
                };
                for (w, chunk) in networks.chunks(seeds).enumerate() {
                    let k = chunk.len() as f64;
                    let mean = |f: &dyn Fn(&Done) -> &Vec<f64>| -> Vec<f64> {
                        let len = f(&chunk[0]).len();
                        (0..len)
                            .map(|i| chunk.iter().map(|d| f(d)[i]).sum::<f64>() / k)
                            .collect()
                    };
                    runs.widths.push(self.config.widths[w]);
                    runs.seeds_done.push(chunk.len());
                    runs.output.push(mean(&|d| &d.output));
                    runs.loss.push(mean(&|d| &d.loss));
                    runs.linearization_gap
                        .push(chunk.iter().map(|d| d.gap).sum::<f64>() / k);
                    runs.lr.push(chunk.iter().map(|d| d.lr).sum::<f64>() / k);
                }
                runs
            })
            .collect();
        let limit = self.limit.as_ref();
        FunctionSpaceResult {
            config: self.config.clone(),
            lr: limit.map_or(0.0, |l| l.lr),
            train_targets: train.iter().map(|&t| target(t)).collect(),
            train_angles: train,
            test_angles: test,
            kernel_mean: limit.map_or(Vec::new(), |l| l.mean.clone()),
            kernel_sd: limit.map_or(Vec::new(), |l| l.sd.clone()),
            kernel_loss: limit.map_or(Vec::new(), |l| l.loss.clone()),
            runs,
        }
    }
}
