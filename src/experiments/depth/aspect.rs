//! The depth-to-width ratio alone: ensembles over a grid of depths L and widths n, whose output
//! kurtosis and tangent-kernel fluctuations collapse onto functions of L/n (PDLT ch. 5; Hanin &
//! Nica 2019).

use super::ensemble::{Ensemble, EnsembleConfig, EnsembleResult};
use crate::core::activation::Activation;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use crate::gpu::GpuContext;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AspectConfig {
    /// phi.
    pub activation: Activation,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// Skip weight gamma.
    pub residual: f64,
    /// Depths L, ascending.
    pub depths: Vec<usize>,
    /// Widths n, ascending.
    pub widths: Vec<usize>,
    /// Networks per grid point.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for AspectConfig {
    fn default() -> Self {
        AspectConfig {
            activation: Activation::Relu,
            weight_var: 2.0,
            bias_var: 0.0,
            residual: 0.0,
            depths: vec![1, 2, 4, 8, 16],
            widths: vec![16, 32, 64],
            samples: 2000,
            seed: 0,
        }
    }
}

fn check_ascending(name: &str, values: &[usize]) -> Result<()> {
    if values.is_empty() || values.len() > 16 {
        return Err(Error::config(name, "give 1 to 16 values"));
    }
    if values.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::config(name, "must be strictly increasing"));
    }
    Ok(())
}

impl AspectConfig {
    /// The ensemble at one grid point, its networks drawn from a seed of its own (the draws are
    /// keyed by network, layer and neuron: with one seed a deeper point's networks would extend
    /// the shallower ones', and the points' errors would be correlated).
    pub fn point(&self, depth: usize, width: usize) -> EnsembleConfig {
        EnsembleConfig {
            activation: self.activation,
            depth,
            width,
            samples: self.samples,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            residual: self.residual,
            seed: self
                .seed
                .wrapping_add(((depth as u64) << 32) | width as u64),
            ..EnsembleConfig::default()
        }
    }

    /// The grid points, width-major.
    pub fn points(&self) -> Vec<(usize, usize)> {
        self.widths
            .iter()
            .flat_map(|&n| self.depths.iter().map(move |&l| (l, n)))
            .collect()
    }

    /// Checks the lists and every point (the largest one bounds the work).
    pub fn validate(&self) -> Result<()> {
        check_ascending("depths", &self.depths)?;
        check_ascending("widths", &self.widths)?;
        check_counts(&[("samples", self.samples, 2..=1_000_000)])?;
        let total: u64 = self
            .points()
            .iter()
            .map(|&(l, n)| (l as u64 + 1) * n as u64 * self.samples as u64)
            .sum();
        if total > super::ensemble::MAX_WORK {
            return Err(Error::config(
                "samples",
                format!(
                    "the grid needs {total} neuron draws, above the {} one run allows",
                    super::ensemble::MAX_WORK
                ),
            ));
        }
        self.points()
            .iter()
            .try_for_each(|&(l, n)| self.point(l, n).validate())
    }
}

/// One grid point's summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AspectPoint {
    /// L.
    pub depth: usize,
    /// n.
    pub width: usize,
    /// Measured `E[z^4] / (3 E[z^2]^2)` of the readout.
    pub kurtosis_ratio: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The lab's prediction (exact law or leading order; null where none applies).
    pub theory: Option<f64>,
    /// Leading order `1 + V / (n K^2)`.
    pub theory_leading: Option<f64>,
    /// Measured `E[Theta^2] / E[Theta]^2`.
    pub ntk_ratio: f64,
    /// Its standard error.
    pub ntk_stderr: f64,
    /// Its prediction (ReLU at `C_b = 0`).
    pub ntk_theory: Option<f64>,
    /// Hanin & Nica's `exp(5 L / n)`.
    pub ntk_growth_law: Option<f64>,
}

impl AspectPoint {
    fn of(r: &EnsembleResult) -> Self {
        AspectPoint {
            depth: r.config.depth,
            width: r.config.width,
            kurtosis_ratio: r.output.kurtosis_ratio,
            stderr: r.output.stderr,
            theory: r.output.theory,
            theory_leading: r.output.theory_leading,
            ntk_ratio: r.ntk.ratio,
            ntk_stderr: r.ntk.stderr,
            ntk_theory: r.ntk.theory,
            ntk_growth_law: r.ntk.growth_law,
        }
    }
}

/// The grid's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AspectResult {
    /// The config that produced it.
    pub config: AspectConfig,
    /// Finished points, width-major.
    pub points: Vec<AspectPoint>,
}

/// The sweep as a [`Stepper`]: one grid point's ensemble after another.
#[derive(Debug)]
pub struct Aspect {
    config: AspectConfig,
    sweep: EnsembleSweep<AspectPoint>,
}

impl Aspect {
    /// Validates the config; the networks on the CPU.
    pub fn new(config: &AspectConfig) -> Result<Self> {
        Aspect::on(config, None)
    }

    /// The same sweep with its networks on `gpu` when given.
    pub fn on(config: &AspectConfig, gpu: Option<Arc<GpuContext>>) -> Result<Self> {
        config.validate()?;
        let points = config
            .points()
            .iter()
            .map(|&(l, n)| config.point(l, n))
            .collect();
        Ok(Aspect {
            config: config.clone(),
            sweep: EnsembleSweep::new(points, AspectPoint::of, gpu)?,
        })
    }
}

impl Stepper for Aspect {
    type Output = AspectResult;

    async fn step(&mut self) -> Result<Progress> {
        self.sweep.advance().await
    }

    fn result(&self) -> AspectResult {
        AspectResult {
            config: self.config.clone(),
            points: self.sweep.points().to_vec(),
        }
    }
}

/// Ensembles one after another, each summarized into a `P` when it finishes: the grids over
/// (L, n) and over the skip weight.
#[derive(Debug)]
pub struct EnsembleSweep<P> {
    configs: Vec<EnsembleConfig>,
    summarize: fn(&EnsembleResult) -> P,
    gpu: Option<Arc<GpuContext>>,
    current: Option<Ensemble>,
    points: Vec<P>,
    work_done: u64,
}

impl<P> EnsembleSweep<P> {
    /// Checks every ensemble's config; the networks on `gpu` when given, else on the CPU.
    pub fn new(
        configs: Vec<EnsembleConfig>,
        summarize: fn(&EnsembleResult) -> P,
        gpu: Option<Arc<GpuContext>>,
    ) -> Result<Self> {
        configs.iter().try_for_each(EnsembleConfig::validate)?;
        Ok(EnsembleSweep {
            configs,
            summarize,
            gpu,
            current: None,
            points: Vec::new(),
            work_done: 0,
        })
    }

    /// The finished ensembles' summaries, in order.
    pub fn points(&self) -> &[P] {
        &self.points
    }

    /// Network-layer-neurons of the first `upto` ensembles.
    fn work(&self, upto: usize) -> u64 {
        self.configs[..upto]
            .iter()
            .map(|c| c.samples as u64 * (c.depth as u64 + 1) * c.width as u64)
            .sum()
    }

    /// One slice of the ensemble under way; progress in network-layer-neurons.
    pub async fn advance(&mut self) -> Result<Progress> {
        let total = self.work(self.configs.len());
        let k = self.points.len();
        if k < self.configs.len() {
            let (before, upto) = (self.work(k), self.work(k + 1));
            let current = match self.current.as_mut() {
                Some(c) => c,
                None => self
                    .current
                    .insert(Ensemble::on(&self.configs[k], self.gpu.clone())?),
            };
            let progress = current.step().await?;
            self.work_done =
                before + (upto - before) * progress.done as u64 / progress.total.max(1) as u64;
            if progress.finished() {
                self.points.push((self.summarize)(&current.result()));
                self.current = None;
            }
        }
        let finished = self.points.len() == self.configs.len();
        Ok(Progress {
            done: if finished { total } else { self.work_done } as usize,
            total: total as usize,
        })
    }
}
