//! The Depth room: random networks at initialization are nearly Gaussian, with corrections set
//! by the depth-to-width ratio L/n (Roberts, Yaida & Hanin 2022; Hanin & Nica 2019), and
//! criticality keeps signals alive through depth (Poole et al. 2016; Schoenholz et al. 2017).
//! Its controls are one config (what the permalink stores) that drives three experiments.

pub mod aspect;
pub mod criticality;
pub mod ensemble;
pub mod figures;
pub mod residual;
pub mod trained;
pub mod trained_figures;

use super::{Experiment, FigureData};
use crate::core::activation::Activation;
use crate::core::budget::{Cost, f};
use crate::error::{Error, Result};
use crate::experiments::session::{Started, boxed};
use crate::gpu::GpuContext;
use aspect::{Aspect, AspectConfig, AspectResult};
use criticality::{CriticalityConfig, CriticalityResult, CriticalityRun};
use ensemble::{Ensemble, EnsembleConfig, EnsembleResult};
use residual::{ResidualConfig, ResidualResult, ResidualRun};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use trained::{TrainedConfig, TrainedResult, TrainedRun};

/// Most hidden layers the page offers.
pub const PAGE_MAX_DEPTH: usize = 64;
/// Widest layer the page offers, as log2 (the sampler is O(n) per layer: 2^10 is cheap).
pub const PAGE_MAX_WIDTH_LOG2: u32 = 10;
/// Most networks per ensemble in the page, as log2.
pub const PAGE_MAX_SAMPLES_LOG2: u32 = 14;

/// Every control of the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DepthConfig {
    /// phi.
    pub activation: Activation,
    /// Hidden layers L.
    pub depth: usize,
    /// Width n as log2.
    pub width_log2: u32,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// Skip weight gamma.
    pub residual: f64,
    /// Networks per ensemble as log2.
    pub samples_log2: u32,
    /// Seed.
    pub seed: u64,
    /// Whether to train networks at a fixed parameter budget (tens of seconds: on request).
    pub train: bool,
    /// Their task: teacher_student or digits.
    pub task: crate::core::data::DatasetName,
}

impl Default for DepthConfig {
    fn default() -> Self {
        DepthConfig {
            activation: Activation::Relu,
            depth: 8,
            width_log2: 6,
            weight_var: 2.0,
            bias_var: 0.0,
            residual: 0.0,
            samples_log2: 10,
            seed: 0,
            train: false,
            task: crate::core::data::DatasetName::Digits,
        }
    }
}

impl DepthConfig {
    /// Checks the room's bounds, then each experiment's config.
    pub fn validate(&self) -> Result<()> {
        if !(1..=PAGE_MAX_DEPTH).contains(&self.depth) {
            return Err(Error::config(
                "depth",
                format!("{} is not in 1..={PAGE_MAX_DEPTH}", self.depth),
            ));
        }
        if !(2..=PAGE_MAX_WIDTH_LOG2).contains(&self.width_log2) {
            return Err(Error::config(
                "width_log2",
                format!("{} is not in 2..={PAGE_MAX_WIDTH_LOG2}", self.width_log2),
            ));
        }
        if !(6..=PAGE_MAX_SAMPLES_LOG2).contains(&self.samples_log2) {
            return Err(Error::config(
                "samples_log2",
                format!(
                    "{} is not in 6..={PAGE_MAX_SAMPLES_LOG2}",
                    self.samples_log2
                ),
            ));
        }
        if !matches!(
            self.task,
            crate::core::data::DatasetName::TeacherStudent | crate::core::data::DatasetName::Digits
        ) {
            return Err(Error::config(
                "task",
                format!("'{}' is not offered: teacher_student or digits", self.task),
            ));
        }
        self.ensemble().validate()?;
        self.aspect().validate()?;
        self.trained().validate()?;
        self.residual().validate()?;
        self.criticality().validate()
    }

    /// The skip-weight sweep at the sliders' architecture: their activation where the vertex
    /// recursion describes a skip (tanh, erf, linear), else tanh at its critical point.
    pub fn residual(&self) -> ResidualConfig {
        let odd = matches!(
            self.activation,
            Activation::Tanh | Activation::Erf | Activation::Linear
        );
        let (activation, weight_var, bias_var) = if odd {
            (self.activation, self.weight_var, self.bias_var)
        } else {
            (Activation::Tanh, 1.0, 0.0)
        };
        ResidualConfig {
            activation,
            weight_var,
            bias_var,
            depth: self.depth,
            width: 1 << self.width_log2,
            // Four skip weights: the curve between them is the recursion's.
            gammas: vec![0.0, 0.5, 0.7, 0.9],
            samples: (1usize << self.samples_log2) / 4,
            seed: self.seed,
        }
    }

    /// Networks trained at a fixed parameter budget at the sliders' activation and
    /// initialization.
    pub fn trained(&self) -> TrainedConfig {
        TrainedConfig {
            dataset: self.task,
            activation: self.activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            seed: self.seed,
            ..TrainedConfig::default()
        }
    }

    /// The ensemble at the sliders' architecture.
    pub fn ensemble(&self) -> EnsembleConfig {
        EnsembleConfig {
            activation: self.activation,
            depth: self.depth,
            width: 1 << self.width_log2,
            samples: 1 << self.samples_log2,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            residual: self.residual,
            seed: self.seed,
            ..EnsembleConfig::default()
        }
    }

    /// The L/n grid at the sliders' initialization (a quarter of the samples per point).
    pub fn aspect(&self) -> AspectConfig {
        AspectConfig {
            activation: self.activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            residual: self.residual,
            samples: (1usize << self.samples_log2) / 4,
            seed: self.seed,
            ..AspectConfig::default()
        }
    }

    /// The phase diagram (tanh's for linear networks, which have none) with the flows at the
    /// sliders' width.
    pub fn criticality(&self) -> CriticalityConfig {
        let activation = match self.activation {
            Activation::Linear => Activation::Tanh,
            a => a,
        };
        CriticalityConfig {
            activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            cells: 16,
            flow_width: 1 << self.width_log2,
            flow_samples: (1usize << self.samples_log2).min(128),
            seed: self.seed,
            ..CriticalityConfig::default()
        }
    }
}

/// An ensemble at initialization: `samples` networks of `depth` layers of `width` neurons,
/// each neuron a Gaussian draw given the layer below (about four multiply-adds), with every
/// network's per-layer records (preactivations at two inputs, gradient norms, tangent kernel)
/// and one layer of the network being drawn held at once.
fn ensemble_cost(samples: usize, depth: usize, width: usize) -> Cost {
    let layers = f(depth + 1);
    Cost::new()
        .memory(
            "samples",
            format!("the per-layer records of {samples} networks of {depth} layers"),
            f(samples) * layers * 6.0 * 8.0,
        )
        .memory(
            "width",
            format!("layers of width {width}"),
            f(width) * 8.0 * 8.0,
        )
        .work(
            "samples",
            format!("{samples} networks of {depth} layers of width {width}"),
            f(samples) * layers * f(width) * 4.0,
        )
}

impl Experiment for EnsembleConfig {
    const NAME: &'static str = "depthwidth";
    type Result = EnsembleResult;
    type Session = Ensemble;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        Ok(ensemble_cost(self.samples, self.depth, self.width))
    }

    fn start(&self) -> Result<Self::Session> {
        Ensemble::new(self)
    }

    fn figures(r: &EnsembleResult) -> Result<Vec<FigureData>> {
        let layers = figures::layers_csv(r);
        Ok(vec![
            FigureData {
                stem: "readout-histogram",
                panels: figures::output_histogram(r)?,
                panel_size: (520, 380),
                csv: figures::output_histogram_csv(r),
            },
            FigureData {
                stem: "kurtosis-by-layer",
                panels: figures::kurtosis_by_layer(r)?,
                panel_size: (520, 380),
                csv: layers,
            },
        ])
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(Ensemble::on(self, Some(gpu)).map(boxed::<Self, _>))
    }
}

impl Experiment for AspectConfig {
    const NAME: &'static str = "aspect";
    type Result = AspectResult;
    type Session = Aspect;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let points = self.points();
        let draws = |&(l, n): &(usize, usize)| ensemble_cost(self.samples, l, n);
        let widest = points
            .iter()
            .map(draws)
            .max_by(|a, b| a.bytes().total_cmp(&b.bytes()));
        let work: f64 = points.iter().map(|p| draws(p).madds()).sum();
        Ok(widest.unwrap_or_default().without_work().work(
            "samples",
            format!("{} ensembles of the grid", points.len()),
            work,
        ))
    }

    fn start(&self) -> Result<Self::Session> {
        Aspect::new(self)
    }

    fn figures(r: &AspectResult) -> Result<Vec<FigureData>> {
        let csv = figures::aspect_csv(r);
        Ok(vec![
            FigureData {
                stem: "kurtosis-collapse",
                panels: figures::kurtosis_collapse(r)?,
                panel_size: (520, 400),
                csv: csv.clone(),
            },
            FigureData {
                stem: "ntk-fluctuations",
                panels: figures::ntk_fluctuations(r)?,
                panel_size: (520, 400),
                csv,
            },
        ])
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(Aspect::on(self, Some(gpu)).map(boxed::<Self, _>))
    }
}

impl Experiment for CriticalityConfig {
    const NAME: &'static str = "criticality";
    type Result = CriticalityResult;
    type Session = CriticalityRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let cells = f(self.cells * self.cells);
        let networks = f(self.flow_samples + self.gradient_samples);
        let draws = networks * f(self.flow_depth + 1) * f(self.flow_width);
        Ok(Cost::new()
            .memory(
                "cells",
                format!("a {0} x {0} diagram", self.cells),
                cells * 16.0 * 8.0,
            )
            .memory(
                "flow width",
                "one layer of each network",
                networks.min(1e3) * f(self.flow_width) * 8.0 * 4.0,
            )
            // An adaptive bivariate quadrature per cell: about 10^4 evaluations.
            .work("cells", "the quadratures of every cell", cells * 1e4)
            .work(
                "flow samples",
                "the networks drawn for the flows",
                draws * 4.0,
            ))
    }

    fn start(&self) -> Result<Self::Session> {
        CriticalityRun::new(self)
    }

    fn figures(r: &CriticalityResult) -> Result<Vec<FigureData>> {
        let mut figures = Vec::new();
        if r.diagram.len() >= r.config.cells {
            figures.push(FigureData {
                stem: "phase-diagram",
                panels: figures::phase_diagram(r)?,
                // Five heat maps, each with a three-entry legend under it, or four line plots.
                panel_size: if r.config.plane() {
                    (360, 360)
                } else {
                    (380, 340)
                },
                csv: figures::phase_csv(r),
            });
        }
        if r.gradient_ratio.len() >= r.config.cells {
            figures.push(FigureData {
                stem: "gradient-ratio",
                panels: figures::gradient_ratio(r)?,
                panel_size: if r.config.plane() {
                    (400, 340)
                } else {
                    (520, 340)
                },
                csv: figures::gradient_csv(r),
            });
        }
        if !r.flows.is_empty() {
            figures.push(FigureData {
                stem: "kernel-flow",
                panels: figures::kernel_flow(r)?,
                panel_size: (360, 340),
                csv: figures::kernel_flow_csv(r),
            });
        }
        Ok(figures)
    }
}

impl Experiment for TrainedConfig {
    const NAME: &'static str = "trained-aspect";
    type Result = TrainedResult;
    type Session = TrainedRun;

    fn cost(&self) -> Result<Cost> {
        TrainedConfig::cost(self)
    }

    fn start(&self) -> Result<Self::Session> {
        TrainedRun::new(self)
    }

    fn figures(r: &TrainedResult) -> Result<Vec<FigureData>> {
        let panels = trained_figures::trained_aspect(r)?;
        let panel_size = (460, 380);
        Ok(vec![FigureData {
            stem: "trained-aspect",
            panels,
            panel_size,
            csv: trained_figures::trained_csv(r),
        }])
    }
}

impl Experiment for ResidualConfig {
    const NAME: &'static str = "residual";
    type Result = ResidualResult;
    type Session = ResidualRun;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let one = ensemble_cost(self.samples, self.depth, self.width);
        let work = one.madds() * f(self.gammas.len());
        Ok(one.without_work().work(
            "gammas",
            format!("{} ensembles, one per skip weight", self.gammas.len()),
            work,
        ))
    }

    fn start(&self) -> Result<Self::Session> {
        ResidualRun::new(self)
    }

    fn figures(r: &ResidualResult) -> Result<Vec<FigureData>> {
        Ok(vec![FigureData {
            stem: "skip-weight",
            panels: figures::skip_weight(r)?,
            panel_size: (520, 380),
            csv: figures::skip_weight_csv(r),
        }])
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(ResidualRun::on(self, Some(gpu)).map(boxed::<Self, _>))
    }
}
