//! Residual networks `z^(l+1) = gamma z^(l) + W phi(z^(l)) + b`, the branch's variances scaled by
//! `1 - gamma^2` so the kernel keeps the plain network's fixed point: the skip slows the growth
//! of the four-point vertex, `V^(l+1) = (gamma^2 + chi)^2 V + a^2 (<phi^4> - <phi^2>^2) + 2
//! gamma^2 a (<z^2 phi^2> - K <phi^2>)` with `a = (1 - gamma^2) C_W` (`core::nearly_gaussian`,
//! derived in `docs/depth-theory.md`). Ensembles at a list of skip weights measure the readout's
//! excess kurtosis beside that recursion (PDLT Appendix B for residual networks).
//!
//! The recursion describes odd activations only (tanh, erf, linear; see
//! `nearly_gaussian::recursion_applies`), so this sweep runs on those.

use super::aspect::EnsembleSweep;
use super::ensemble::{EnsembleConfig, EnsembleResult};
use crate::core::activation::Activation;
use crate::core::nearly_gaussian::{layer_theory, recursion_applies};
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use crate::gpu::GpuContext;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Points of the theory curve over `gamma in [0, max gamma]`.
const CURVE_POINTS: usize = 16;

/// The sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResidualConfig {
    /// phi: tanh, erf or linear.
    pub activation: Activation,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// Hidden layers L.
    pub depth: usize,
    /// Width n.
    pub width: usize,
    /// Skip weights gamma, ascending, in `[0, 1)`.
    pub gammas: Vec<f64>,
    /// Networks per skip weight.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for ResidualConfig {
    fn default() -> Self {
        ResidualConfig {
            activation: Activation::Tanh,
            weight_var: 1.0,
            bias_var: 0.0,
            depth: 16,
            width: 32,
            gammas: vec![0.0, 0.3, 0.5, 0.7, 0.8, 0.9],
            samples: 2000,
            seed: 0,
        }
    }
}

impl ResidualConfig {
    /// The ensemble at skip weight `gamma`, its networks drawn from a seed of its own (one seed
    /// would give every gamma the same draws, and correlated errors).
    pub fn point(&self, gamma: f64) -> EnsembleConfig {
        EnsembleConfig {
            activation: self.activation,
            depth: self.depth,
            width: self.width,
            samples: self.samples,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            residual: gamma,
            seed: self.seed.wrapping_add(gamma.to_bits()),
            ..EnsembleConfig::default()
        }
    }

    /// Checks the activation, the list and every ensemble.
    pub fn validate(&self) -> Result<()> {
        if !recursion_applies(&self.point(0.5).spec()) {
            return Err(Error::config(
                "activation",
                format!(
                    "with a skip the vertex recursion holds for odd activations (tanh, erf, linear), not {}",
                    self.activation
                ),
            ));
        }
        check_counts(&[("gammas", self.gammas.len(), 2..=16)])?;
        if let Some(g) = self
            .gammas
            .iter()
            .find(|g| !(g.is_finite() && (0.0..1.0).contains(*g)))
        {
            return Err(Error::config(
                "gammas",
                format!("skip weight {g} must be in [0, 1)"),
            ));
        }
        if self.gammas.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config("gammas", "must be strictly increasing"));
        }
        self.gammas
            .iter()
            .try_for_each(|&g| self.point(g).validate())
    }

    /// The recursion's readout kurtosis ratio `1 + V / (n K^2)` at skip weight `gamma` (the
    /// leading order at every gamma, also at 0 where a linear network has an exact law: one
    /// curve, one approximation).
    pub fn theory(&self, gamma: f64) -> f64 {
        layer_theory(&self.point(gamma).spec())
            .last()
            .map_or(1.0, |t| t.kurtosis_ratio_leading)
    }
}

/// One skip weight's ensemble.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidualPoint {
    /// gamma.
    pub residual: f64,
    /// Measured `E[z^4] / (3 E[z^2]^2)` of the readout.
    pub kurtosis_ratio: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The recursion's value (leading order, as the curve).
    pub theory: Option<f64>,
}

impl ResidualPoint {
    fn of(r: &EnsembleResult) -> Self {
        ResidualPoint {
            residual: r.config.residual,
            kurtosis_ratio: r.output.kurtosis_ratio,
            stderr: r.output.stderr,
            theory: r.output.theory_leading,
        }
    }
}

/// The sweep's results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidualResult {
    /// The config that produced it.
    pub config: ResidualConfig,
    /// The recursion's `(gamma, kurtosis ratio)` on an even grid up to the largest gamma.
    pub theory: Vec<(f64, f64)>,
    /// Finished skip weights, in order.
    pub points: Vec<ResidualPoint>,
}

/// The sweep as a [`Stepper`]: one skip weight's ensemble after another.
#[derive(Debug)]
pub struct ResidualRun {
    config: ResidualConfig,
    theory: Vec<(f64, f64)>,
    sweep: EnsembleSweep<ResidualPoint>,
}

impl ResidualRun {
    /// Validates the config and evaluates the theory curve; the networks on the CPU.
    pub fn new(config: &ResidualConfig) -> Result<Self> {
        ResidualRun::on(config, None)
    }

    /// The same sweep with its networks on `gpu` when given.
    pub fn on(config: &ResidualConfig, gpu: Option<Arc<GpuContext>>) -> Result<Self> {
        config.validate()?;
        let top = config.gammas.last().copied().unwrap_or(0.0);
        let theory = (0..CURVE_POINTS)
            .map(|k| {
                let g = if k + 1 == CURVE_POINTS {
                    top
                } else {
                    top * k as f64 / (CURVE_POINTS - 1) as f64
                };
                (g, config.theory(g))
            })
            .collect();
        let points = config.gammas.iter().map(|&g| config.point(g)).collect();
        Ok(ResidualRun {
            config: config.clone(),
            theory,
            sweep: EnsembleSweep::new(points, ResidualPoint::of, gpu)?,
        })
    }
}

impl Stepper for ResidualRun {
    type Output = ResidualResult;

    async fn step(&mut self) -> Result<Progress> {
        self.sweep.advance().await
    }

    fn result(&self) -> ResidualResult {
        ResidualResult {
            config: self.config.clone(),
            theory: self.theory.clone(),
            points: self.sweep.points().to_vec(),
        }
    }
}
