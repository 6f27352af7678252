//! Order and chaos at initialization: the mean-field fixed points, slopes and depth scales at
//! one `(C_W, C_b)`, their phase diagram over the plane (tanh and erf) or along the `C_b = 0`
//! edge (ReLU, GELU), and the kernel flow `q^(l)`, `c^(l)` and the gradient norms below, at and
//! above criticality, the exact maps beside ensembles (Poole et al. 2016; Schoenholz et al.
//! 2017).

use super::ensemble::{Ensemble, EnsembleConfig, EnsembleResult};
use crate::core::activation::Activation;
use crate::core::criticality::{Accuracy, Criticality, MeanField};
use crate::core::init_sampler::InitSampler;
use crate::core::nearly_gaussian::DepthSpec;
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use serde::{Deserialize, Serialize};

/// Multiples of the critical `C_W` at which the kernel flow is shown.
pub const FLOW_MULTIPLES: [f64; 3] = [0.75, 1.0, 1.33];

/// What to compute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CriticalityConfig {
    /// phi: tanh, erf, relu or gelu.
    pub activation: Activation,
    /// `C_W` of the point.
    pub weight_var: f64,
    /// `C_b` of the point.
    pub bias_var: f64,
    /// `q^(1)` of the first layer's input (`|x|^2 / n_0`).
    pub q_input: f64,
    /// Cells per side of the phase diagram.
    pub cells: usize,
    /// `C_W` range of the diagram.
    pub weight_var_range: (f64, f64),
    /// `C_b` range of the diagram.
    pub bias_var_range: (f64, f64),
    /// Hidden layers of the kernel-flow ensembles.
    pub flow_depth: usize,
    /// Their width.
    pub flow_width: usize,
    /// Their networks.
    pub flow_samples: usize,
    /// Networks per cell of the gradient-ratio map (depth `flow_depth`, width `flow_width`).
    pub gradient_samples: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for CriticalityConfig {
    fn default() -> Self {
        CriticalityConfig {
            activation: Activation::Tanh,
            weight_var: 1.5,
            bias_var: 0.05,
            q_input: 1.0,
            cells: 24,
            weight_var_range: (0.5, 4.0),
            bias_var_range: (0.0, 0.5),
            flow_depth: 30,
            flow_width: 64,
            flow_samples: 200,
            gradient_samples: 8,
            seed: 0,
        }
    }
}

impl CriticalityConfig {
    /// The point's mean field.
    pub fn mean_field(&self) -> MeanField {
        MeanField {
            activation: self.activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
        }
    }

    /// Whether the diagram covers the plane (tanh, erf) or the `C_b = 0` edge.
    pub fn plane(&self) -> bool {
        matches!(self.activation, Activation::Tanh | Activation::Erf)
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        if self.activation == Activation::Linear {
            return Err(Error::config(
                "activation",
                "linear networks have no order-to-chaos transition (chi_1 = C_W): choose tanh, erf, relu or gelu",
            ));
        }
        self.mean_field().validate()?;
        check_counts(&[
            ("cells", self.cells, 2..=128),
            ("flow depth", self.flow_depth, 1..=200),
            ("flow width", self.flow_width, 1..=4096),
            ("flow samples", self.flow_samples, 2..=100_000),
            ("gradient samples", self.gradient_samples, 2..=100_000),
        ])?;
        for (name, (lo, hi), min) in [
            ("weight_var_range", self.weight_var_range, f64::MIN_POSITIVE),
            ("bias_var_range", self.bias_var_range, 0.0),
        ] {
            if !(lo.is_finite() && hi.is_finite() && lo >= min && lo < hi && hi <= 1e3) {
                return Err(Error::config(
                    name,
                    format!("({lo}, {hi}) must be finite, ascending, within [{min}, 1000]"),
                ));
            }
        }
        if !(self.q_input.is_finite() && self.q_input > 0.0 && self.q_input <= 1e6) {
            return Err(Error::config(
                "q_input",
                format!("{} must be a number in (0, 1e6]", self.q_input),
            ));
        }
        Ok(())
    }

    /// `C_W` at column i of the diagram (cell centres).
    pub fn weight_var_at(&self, i: usize) -> f64 {
        let (lo, hi) = self.weight_var_range;
        lo + (hi - lo) * (i as f64 + 0.5) / self.cells as f64
    }

    /// `C_b` at row j (cell centres; the edge diagram has the one row `C_b = 0`).
    pub fn bias_var_at(&self, j: usize) -> f64 {
        if !self.plane() {
            return 0.0;
        }
        let (lo, hi) = self.bias_var_range;
        lo + (hi - lo) * (j as f64 + 0.5) / self.cells as f64
    }

    /// The centre `(C_W, C_b)` of the diagram's cell at fractions `(fx, fy)` of the grid's
    /// width and height (0: lowest `C_W`, `C_b`), as a click on the map picks it.
    pub fn cell_at(&self, fx: f64, fy: f64) -> (f64, f64) {
        let index =
            |f: f64| ((f * self.cells as f64).floor().max(0.0) as usize).min(self.cells - 1);
        (self.weight_var_at(index(fx)), self.bias_var_at(index(fy)))
    }

    /// Rows of the diagram.
    pub fn rows(&self) -> usize {
        if self.plane() { self.cells } else { 1 }
    }
}

/// The point's values, in the CLI's keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriticalityResult {
    /// The config that produced it.
    pub config: CriticalityConfig,
    /// Fixed points, slopes and depth scales at the point.
    #[serde(flatten)]
    pub point: Criticality,
    /// The `C_W` on the line `chi_1 = 1` at the point's `C_b`.
    pub critical_weight_var: Option<f64>,
    /// The diagram, row-major (`cells` per row, rows of rising `C_b`; one row on the edge).
    pub diagram: Vec<Criticality>,
    /// The line `chi_1 = 1`: `(C_W, C_b)` per row of the diagram.
    pub critical_line: Vec<(f64, f64)>,
    /// The gradient-norm ratio per cell, in the diagram's order (finished rows).
    pub gradient_ratio: Vec<GradientCell>,
    /// Ensembles at `FLOW_MULTIPLES` of the critical `C_W` (finished ones).
    pub flows: Vec<EnsembleResult>,
}

/// The ratio `E|df/dz^(1)|^2 / E|df/dz^(L)|^2` between the first and the last hidden layer of
/// sampled networks at one cell, beside mean-field theory (Schoenholz et al. 2017, eq. 18:
/// `E|delta^l|^2 = C_W E[phi'(z^l)^2] E|delta^(l+1)|^2`, so the ratio is `chi_1^(L-1)` at `q*`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradientCell {
    /// Ratio of the two sample means over `gradient_samples` networks.
    pub measured: f64,
    /// Its delta-method standard error.
    pub stderr: f64,
    /// `prod_(l=1)^(L-1) C_W E[phi'(sqrt(q^l) z)^2]` along the exact length map from
    /// `q^1 = C_W q_input + C_b`.
    pub theory: f64,
}

/// `(E a / E b, its standard error)` over pairs: the delta method, `Var R = (Var a - 2 R Cov(a,
/// b) + R^2 Var b) / (S (E b)^2)` with sample (co)variances (S - 1).
pub fn ratio_of_means(pairs: &[(f64, f64)]) -> (f64, f64) {
    let s = pairs.len() as f64;
    let (ma, mb) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), &(a, b)| (x + a / s, y + b / s));
    let r = ma / mb;
    let (mut vaa, mut vbb, mut vab) = (0.0, 0.0, 0.0);
    for &(a, b) in pairs {
        vaa += (a - ma) * (a - ma);
        vbb += (b - mb) * (b - mb);
        vab += (a - ma) * (b - mb);
    }
    let var = (vaa - 2.0 * r * vab + r * r * vbb) / ((s - 1.0) * s * mb * mb);
    (r, var.max(0.0).sqrt())
}

impl CriticalityConfig {
    /// The gradient ratio at `(C_W, C_b)`, from `gradient_samples` networks drawn with the
    /// cell's own stream (`cell` numbers it).
    pub fn gradient_cell(&self, weight_var: f64, bias_var: f64, cell: usize) -> GradientCell {
        let depth = self.flow_depth;
        let spec = DepthSpec {
            activation: self.activation,
            weight_var,
            bias_var,
            residual: 0.0,
            depth,
            width: self.flow_width,
            q_input: self.q_input,
        };
        let sampler = InitSampler::new(spec, 0.5, self.seed.wrapping_add(1 + cell as u64));
        let pairs: Vec<(f64, f64)> = (0..self.gradient_samples)
            .map(|k| {
                let g = sampler.sample(k as u32).gradient;
                (g[0], g[depth - 1])
            })
            .collect();
        let (measured, stderr) = ratio_of_means(&pairs);
        let mf = MeanField {
            activation: self.activation,
            weight_var,
            bias_var,
        };
        let theory = mf.gradient_ratio(weight_var * self.q_input + bias_var, depth);
        GradientCell {
            measured,
            stderr,
            theory,
        }
    }
}

/// The computation as a [`Stepper`]: one row of the diagram, or a slice of a flow ensemble,
/// per step.
#[derive(Debug)]
pub struct CriticalityRun {
    config: CriticalityConfig,
    point: Option<(Criticality, Option<f64>)>,
    diagram: Vec<Criticality>,
    critical_line: Vec<(f64, f64)>,
    gradient_ratio: Vec<GradientCell>,
    flows: Vec<EnsembleResult>,
    current: Option<Ensemble>,
}

impl CriticalityRun {
    /// Validates the config.
    pub fn new(config: &CriticalityConfig) -> Result<Self> {
        config.validate()?;
        Ok(CriticalityRun {
            config: config.clone(),
            point: None,
            diagram: Vec::new(),
            critical_line: Vec::new(),
            gradient_ratio: Vec::new(),
            flows: Vec::new(),
            current: None,
        })
    }

    /// The flow ensemble at a multiple of the critical `C_W` (the point's own `C_W` when the
    /// line is not crossed at its `C_b`).
    fn flow_config(&self, multiple: f64, critical: Option<f64>) -> EnsembleConfig {
        let c = &self.config;
        EnsembleConfig {
            activation: c.activation,
            depth: c.flow_depth,
            width: c.flow_width,
            samples: c.flow_samples,
            weight_var: critical.unwrap_or(c.weight_var) * multiple,
            bias_var: c.bias_var,
            q_input: c.q_input,
            input_correlation: 0.5,
            seed: c.seed,
            ..EnsembleConfig::default()
        }
    }
}

impl Stepper for CriticalityRun {
    type Output = CriticalityResult;

    async fn step(&mut self) -> Result<Progress> {
        let c = &self.config;
        let rows = c.rows();
        let total = 1 + 2 * rows + FLOW_MULTIPLES.len() * c.flow_samples;
        if self.point.is_none() {
            let mf = c.mean_field();
            self.point = Some((mf.criticality(c.q_input), mf.critical_weight_var(c.q_input)));
        } else if self.critical_line.len() < rows {
            let j = self.critical_line.len();
            let bias_var = c.bias_var_at(j);
            for i in 0..c.cells {
                let mf = MeanField {
                    activation: c.activation,
                    weight_var: c.weight_var_at(i),
                    bias_var,
                };
                self.diagram
                    .push(mf.criticality_with(c.q_input, Accuracy::Diagram));
            }
            let line = MeanField {
                activation: c.activation,
                weight_var: 1.0,
                bias_var,
            }
            .critical_weight_var(c.q_input);
            self.critical_line
                .push((line.unwrap_or(f64::NAN), bias_var));
        } else if self.gradient_ratio.len() < rows * c.cells {
            let j = self.gradient_ratio.len() / c.cells;
            for i in 0..c.cells {
                let cell = self.gradient_ratio.len();
                let g = c.gradient_cell(c.weight_var_at(i), c.bias_var_at(j), cell);
                self.gradient_ratio.push(g);
            }
        } else if self.flows.len() < FLOW_MULTIPLES.len() {
            if self.current.is_none() {
                let critical = self.point.and_then(|p| p.1);
                let config = self.flow_config(FLOW_MULTIPLES[self.flows.len()], critical);
                self.current = Some(Ensemble::new(&config)?);
            }
            if let Some(current) = self.current.as_mut()
                && current.step().await?.finished()
            {
                self.flows.push(current.result());
                self.current = None;
            }
        }
        let done_flow = self.flows.len() * self.config.flow_samples
            + self.current.as_ref().map_or(0, Ensemble::done);
        Ok(Progress {
            done: usize::from(self.point.is_some())
                + self.critical_line.len()
                + self.gradient_ratio.len() / self.config.cells
                + done_flow,
            total,
        })
    }

    fn result(&self) -> CriticalityResult {
        let (point, critical) = self.point.unwrap_or_default();
        CriticalityResult {
            config: self.config.clone(),
            point,
            critical_weight_var: critical,
            diagram: self.diagram.clone(),
            critical_line: self.critical_line.clone(),
            gradient_ratio: self.gradient_ratio.clone(),
            flows: self.flows.clone(),
        }
    }
}
