//! Finite width vs the limit: the empirical NTK and the feature NNGP of networks of growing
//! width approach the analytic kernels (src/core/kernels.rs), with relative Frobenius error
//! `||K_n - K||_F / ||K||_F ~ n^-1/2` (Hanin & Nica 2019; Roberts, Yaida & Hanin 2022, ch. 8).

use crate::core::activation::Activation;
use crate::core::bounds;
use crate::core::kernels::{
    KernelSpec, Kernels, Recursion, empirical_ntk, feature_nngp, network, relative_error,
};
use crate::core::rng::{Rng, Stream};
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use crate::experiments::sweep::check_widths;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// What to compare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KernelConvergenceConfig {
    /// The architecture (neural-tangents' conventions).
    pub spec: KernelSpec,
    /// Hidden widths n, ascending.
    pub widths: Vec<usize>,
    /// Networks drawn per width.
    pub seeds: usize,
    /// Number of inputs N (Gaussian, N(0, I_d)).
    pub points: usize,
    /// Input dimension d.
    pub input_dim: usize,
    /// Seed of the inputs and networks.
    pub seed: u64,
}

impl Default for KernelConvergenceConfig {
    fn default() -> Self {
        KernelConvergenceConfig {
            spec: KernelSpec::default(),
            widths: vec![16, 32, 64, 128, 256, 512, 1024],
            seeds: 4,
            points: 12,
            input_dim: 4,
            seed: 0,
        }
    }
}

impl KernelConvergenceConfig {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        self.spec.validate()?;
        check_widths(&self.widths)?;
        check_counts(&[
            ("seeds", self.seeds, bounds::SEEDS.min..=bounds::SEEDS.max),
            ("points", self.points, 1..=512),
            ("input dimension", self.input_dim, 1..=4096),
        ])
    }

    /// The inputs `[d, N]`.
    pub fn inputs(&self) -> DMatrix<f64> {
        let mut rng = Rng::new(self.seed, Stream::Data);
        DMatrix::from_fn(self.input_dim, self.points, |_, _| rng.normal())
    }
}

/// Errors by width (means over seeds) and the limit kernels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KernelConvergenceResult {
    /// The config that produced it.
    pub config: KernelConvergenceConfig,
    /// Widths with at least one network done.
    pub widths: Vec<usize>,
    /// Mean relative Frobenius error of the empirical NTK.
    pub ntk_error: Vec<f64>,
    /// Mean relative Frobenius error of the feature NNGP.
    pub nngp_error: Vec<f64>,
    /// Networks done per width.
    pub seeds_done: Vec<usize>,
    /// The analytic NNGP, rows (empty until computed).
    pub nngp: Vec<Vec<f64>>,
    /// The analytic NTK, rows (empty until computed).
    pub ntk: Vec<Vec<f64>>,
}

/// The comparison as a [`Stepper`]: one network per slice.
#[derive(Debug)]
pub struct KernelConvergence {
    config: KernelConvergenceConfig,
    x: DMatrix<f64>,
    limit: Recursion,
    /// `(ntk error, nngp error)` per network, in width-major order.
    errors: Vec<(f64, f64)>,
}

impl KernelConvergence {
    /// Validates the config; the limit is computed by the first steps.
    pub fn new(config: &KernelConvergenceConfig) -> Result<Self> {
        config.validate()?;
        let x = config.inputs();
        let limit = Recursion::new(&config.spec, &x)?;
        Ok(KernelConvergence {
            config: config.clone(),
            x,
            limit,
            errors: Vec::new(),
        })
    }

    /// The limit kernels, once computed.
    pub fn limit(&self) -> Option<&Kernels> {
        self.limit.kernels()
    }
}

fn rows(m: &DMatrix<f64>) -> Vec<Vec<f64>> {
    m.row_iter().map(|r| r.iter().copied().collect()).collect()
}

impl Stepper for KernelConvergence {
    type Output = KernelConvergenceResult;

    async fn step(&mut self) -> Result<Progress> {
        let networks = self.config.widths.len() * self.config.seeds;
        let done = self.errors.len();
        if self.limit.kernels().is_none() {
            // A tanh entry is two adaptive quadratures (milliseconds): one per slice. The
            // closed forms take microseconds: all at once.
            let entries = if self.config.spec.activation == Activation::Tanh {
                1
            } else {
                usize::MAX
            };
            self.limit.advance(entries);
        } else if let (Some(limit), true) = (self.limit.kernels(), done < networks) {
            let n = self.config.widths[done / self.config.seeds];
            let seed = self
                .config
                .seed
                .wrapping_add((done % self.config.seeds) as u64);
            let mlp = network(
                &self.config.spec,
                self.x.nrows(),
                n,
                &mut Rng::new(seed, Stream::Init),
            )?;
            let errors = (
                relative_error(&empirical_ntk(&mlp, &self.x)?, &limit.ntk),
                relative_error(
                    &feature_nngp(&self.config.spec, &mlp, &self.x)?,
                    &limit.nngp,
                ),
            );
            if !(errors.0.is_finite() && errors.1.is_finite()) {
                return Err(Error::config(
                    "weight variance",
                    format!(
                        "the relative kernel errors at width {} are {:e} and {:e}: the kernels overflow or vanish at weight variance {:e} and bias variance {:e}",
                        self.config.widths[done / self.config.seeds],
                        errors.0,
                        errors.1,
                        self.config.spec.weight_var,
                        self.config.spec.bias_var
                    ),
                ));
            }
            self.errors.push(errors);
        }
        Ok(Progress {
            done: self.limit.entries_done() + self.errors.len(),
            total: self.limit.total_entries() + networks,
        })
    }

    fn result(&self) -> KernelConvergenceResult {
        let mut result = KernelConvergenceResult {
            config: self.config.clone(),
            widths: Vec::new(),
            ntk_error: Vec::new(),
            nngp_error: Vec::new(),
            seeds_done: Vec::new(),
            nngp: self.limit().map_or(Vec::new(), |k| rows(&k.nngp)),
            ntk: self.limit().map_or(Vec::new(), |k| rows(&k.ntk)),
        };
        for (w, chunk) in self.errors.chunks(self.config.seeds).enumerate() {
            let k = chunk.len() as f64;
            result.widths.push(self.config.widths[w]);
            result
                .ntk_error
                .push(chunk.iter().map(|e| e.0).sum::<f64>() / k);
            result
                .nngp_error
                .push(chunk.iter().map(|e| e.1).sum::<f64>() / k);
            result.seeds_done.push(chunk.len());
        }
        result
    }
}
