//! The Width room's controls as one config (what the permalink stores), and the experiments it
//! drives: finite width vs the infinite-width kernels, function-space training, and the
//! coordinate check.

pub mod coordcheck;
pub mod figures;
pub mod function_space;
pub mod kernel_convergence;
pub mod lr_transfer;

use super::{Experiment, FigureData};
use crate::core::abc::AbcRules;
use crate::core::activation::Activation;
use crate::core::budget::{Cost, f};
use crate::core::ensemble::CpuEnsemble;
use crate::core::kernels::{KernelParametrization, KernelSpec};
use crate::core::kernels::{Kernels, network_shape};
use crate::core::mlp::MlpConfig;
use crate::core::optim::OptimizerKind;
use crate::core::parametrization::Parametrization;
use crate::error::{Error, Result};
use crate::experiments::session::{Started, boxed};
use crate::experiments::sweep::{page_max_width_log2, powers_of_two};
use crate::gpu::{GpuContext, GpuEnsemble};
use crate::plot::Figure;
use coordcheck::{CoordCheck, CoordCheckConfig, CoordCheckResult};
use function_space::{FunctionSpace, FunctionSpaceConfig, FunctionSpaceResult};
use kernel_convergence::{KernelConvergence, KernelConvergenceConfig, KernelConvergenceResult};
use lr_transfer::{LrTransfer, LrTransferConfig, LrTransferResult};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Smallest width of the kernel sweep (2^4) and of the coordinate check (2^6).
const KERNEL_MIN_LOG2: u32 = 4;
const COORD_MIN_LOG2: u32 = 6;
/// Widest network of the kernel comparison and of function-space training, which run on the
/// CPU (the coordinate check goes to `2^max_width_log2`, on the GPU where there is one).
pub const CPU_MAX_WIDTH_LOG2: u32 = page_max_width_log2(false);
/// Largest |exponent| of the abc map.
const MAX_EXPONENT: f64 = 4.0;
/// Largest width the room offers (2^12 = 4096, on WebGPU).
pub const MAX_WIDTH_LOG2: u32 = page_max_width_log2(true);

/// Every control of the room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidthConfig {
    /// Hidden layers of every network.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Widths run over powers of two up to `2^max_width_log2`.
    pub max_width_log2: u32,
    /// Weight variance `W_std^2` of the kernel networks.
    pub weight_var: f64,
    /// Bias variance `b_std^2` of the kernel networks.
    pub bias_var: f64,
    /// Parametrization of the trained networks.
    pub parametrization: Parametrization,
    /// Optimizer of the trained networks.
    pub optimizer: OptimizerKind,
    /// Base learning rate.
    pub lr: f64,
    /// Recorded steps T of the coordinate check.
    pub steps: usize,
    /// Seeds per width.
    pub seeds: usize,
    /// Base seed.
    pub seed: u64,
    /// Free exponents of the abc map (Yang & Hu 2021, Theorem 3.3).
    pub abc: AbcRules,
}

impl Default for WidthConfig {
    fn default() -> Self {
        WidthConfig {
            depth: 2,
            activation: Activation::Relu,
            max_width_log2: 9,
            weight_var: 2.0,
            bias_var: 0.0,
            parametrization: Parametrization::Mup,
            optimizer: OptimizerKind::Sgd,
            lr: 0.1,
            steps: 5,
            seeds: 3,
            seed: 0,
            abc: Parametrization::Mup.rules(OptimizerKind::Sgd),
        }
    }
}

impl WidthConfig {
    /// Checks the room-level bounds, then both experiments' configs.
    pub fn validate(&self) -> Result<()> {
        if !(COORD_MIN_LOG2..=MAX_WIDTH_LOG2).contains(&self.max_width_log2) {
            return Err(Error::config(
                "max_width_log2",
                format!(
                    "{} is not in {COORD_MIN_LOG2}..={MAX_WIDTH_LOG2} (widths {}..={})",
                    self.max_width_log2,
                    1 << COORD_MIN_LOG2,
                    1 << MAX_WIDTH_LOG2
                ),
            ));
        }
        if self.depth > 8 {
            return Err(Error::config(
                "depth",
                format!("{} is above the room's 8", self.depth),
            ));
        }
        if self.seeds > 16 {
            return Err(Error::config(
                "seeds",
                format!("{} is above the room's 16", self.seeds),
            ));
        }
        if self.steps > 50 {
            return Err(Error::config(
                "steps",
                format!("{} is above the room's 50", self.steps),
            ));
        }
        let abc = [self.abc.input, self.abc.hidden, self.abc.output];
        if let Some(x) = abc
            .iter()
            .flat_map(|l| [l.a, l.b, l.c])
            .find(|x| !(x.is_finite() && x.abs() <= MAX_EXPONENT))
        {
            return Err(Error::config(
                "abc",
                format!("exponent {x} is not a number in -{MAX_EXPONENT}..={MAX_EXPONENT}"),
            ));
        }
        self.kernel().validate()?;
        self.function_space().validate()?;
        self.coordcheck().validate()
    }

    /// The finite-width vs limit comparison.
    pub fn kernel(&self) -> KernelConvergenceConfig {
        KernelConvergenceConfig {
            spec: KernelSpec {
                depth: self.depth,
                activation: self.activation,
                weight_var: self.weight_var,
                bias_var: self.bias_var,
                parametrization: KernelParametrization::Ntk,
            },
            widths: powers_of_two(KERNEL_MIN_LOG2, self.max_width_log2.min(CPU_MAX_WIDTH_LOG2)),
            seeds: self.seeds,
            seed: self.seed,
            ..KernelConvergenceConfig::default()
        }
    }

    /// Function-space training: NTK and muP networks beside the NTK-GP, with the kernels'
    /// architecture and the coordinate check's widths.
    pub fn function_space(&self) -> FunctionSpaceConfig {
        FunctionSpaceConfig {
            spec: self.kernel().spec,
            widths: powers_of_two(COORD_MIN_LOG2, self.max_width_log2.min(CPU_MAX_WIDTH_LOG2)),
            seeds: self.seeds,
            seed: self.seed,
            ..FunctionSpaceConfig::default()
        }
    }

    /// The coordinate check.
    pub fn coordcheck(&self) -> CoordCheckConfig {
        CoordCheckConfig {
            parametrization: self.parametrization,
            optimizer: self.optimizer,
            lr: self.lr,
            widths: powers_of_two(COORD_MIN_LOG2, self.max_width_log2),
            steps: self.steps,
            seeds: self.seeds,
            depth: self.depth,
            activation: self.activation,
            seed: self.seed,
            ..CoordCheckConfig::default()
        }
    }
}

/// The limit kernels of a result (`None` until computed).
pub fn limit_kernels(r: &KernelConvergenceResult) -> Option<Kernels> {
    let n = r.nngp.len();
    if n == 0 {
        return None;
    }
    let matrix = |rows: &[Vec<f64>]| DMatrix::from_fn(n, n, |i, j| rows[i][j]);
    Some(Kernels {
        nngp: matrix(&r.nngp),
        ntk: matrix(&r.ntk),
    })
}

impl Experiment for CoordCheckConfig {
    const NAME: &'static str = "coordcheck";
    type Result = CoordCheckResult;
    type Session = CoordCheck<CpuEnsemble<f32>>;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let mlp = |n| self.mlp_config(n);
        Ok(sweep_cost(
            &self.widths,
            mlp,
            self.seeds,
            self.batch,
            4,
            self.seeds * self.steps,
        ))
    }

    fn start(&self) -> Result<Self::Session> {
        CoordCheck::new(self)
    }

    fn figures(r: &CoordCheckResult) -> Result<Vec<FigureData>> {
        let csv = figures::coordinate_check_csv(r);
        Ok(vec![
            FigureData {
                stem: "coordinate-check",
                panels: shown_steps(figures::coordinate_check(r)?),
                panel_size: (350, 330),
                csv: csv.clone(),
            },
            FigureData {
                stem: "coordinate-change",
                panels: shown_steps(figures::coordinate_change(r)?),
                panel_size: (350, 330),
                csv,
            },
            FigureData {
                stem: "movement",
                panels: figures::movement(r)?,
                panel_size: (560, 380),
                csv: figures::movement_csv(r),
            },
        ])
    }

    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        Some(CoordCheck::<GpuEnsemble>::on(gpu, self).map(boxed::<Self, _>))
    }
}

impl Experiment for KernelConvergenceConfig {
    const NAME: &'static str = "convergence";
    type Result = KernelConvergenceResult;
    type Session = KernelConvergence;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let mlp = |n| network_shape(&self.spec, self.input_dim, n);
        Ok(sweep_cost(&self.widths, mlp, 1, self.points, 8, self.seeds))
    }

    fn start(&self) -> Result<Self::Session> {
        KernelConvergence::new(self)
    }

    fn figures(r: &KernelConvergenceResult) -> Result<Vec<FigureData>> {
        let mut figures = Vec::new();
        if let Some(limit) = limit_kernels(r) {
            figures.push(FigureData {
                stem: "kernels",
                panels: figures::kernel_maps(&limit)?,
                panel_size: (380, 340),
                csv: figures::kernel_maps_csv(&limit),
            });
        }
        figures.push(FigureData {
            stem: "kernel-error",
            panels: figures::kernel_error(r)?,
            panel_size: (560, 380),
            csv: figures::kernel_error_csv(r),
        });
        Ok(figures)
    }
}

impl Experiment for FunctionSpaceConfig {
    const NAME: &'static str = "fnspace";
    type Result = FunctionSpaceResult;
    type Session = FunctionSpace;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let mlp = |n| network_shape(&self.spec, 2, n);
        let points = self.train_points.max(self.test_points);
        // Two parametrizations, each network trained for `steps` full-batch steps.
        Ok(sweep_cost(
            &self.widths,
            mlp,
            1,
            points,
            8,
            2 * self.seeds * (self.steps + 1),
        ))
    }

    fn start(&self) -> Result<Self::Session> {
        FunctionSpace::new(self)
    }

    fn figures(r: &FunctionSpaceResult) -> Result<Vec<FigureData>> {
        let csv = figures::function_space_csv(r);
        let figure = |stem, panels, panel_size| FigureData {
            stem,
            panels,
            panel_size,
            csv: csv.clone(),
        };
        Ok(vec![
            figure("fnspace-fit", figures::function_space_fit(r)?, (460, 400)),
            figure("fnspace-loss", figures::function_space_loss(r)?, (560, 400)),
            figure("fnspace-gap", figures::linearization_gap(r)?, (560, 380)),
        ])
    }
}

impl Experiment for LrTransferConfig {
    const NAME: &'static str = "lrtransfer";
    type Result = LrTransferResult;
    type Session = LrTransfer<f32>;

    fn cost(&self) -> Result<Cost> {
        self.validate()?;
        let networks = self.networks();
        let mlp = |n| networks.mlp_config(n);
        let runs = self.log2_lrs().len() * self.seeds * self.steps;
        Ok(sweep_cost(&self.widths, mlp, 1, networks.batch, 4, runs))
    }

    fn start(&self) -> Result<Self::Session> {
        LrTransfer::new(self)
    }

    fn figures(r: &LrTransferResult) -> Result<Vec<FigureData>> {
        Ok(vec![lr_transfer_figure(&[r])?])
    }
}

/// What a width sweep costs: `held` networks of the widest kind at once (each with its
/// gradient and optimizer moments) over `rows` inputs at `bytes` per number, and `passes`
/// forward and backward passes over them at every width.
fn sweep_cost(
    widths: &[usize],
    mlp: impl Fn(usize) -> MlpConfig,
    held: usize,
    rows: usize,
    bytes: usize,
    passes: usize,
) -> Cost {
    let widest = widths.iter().copied().max().unwrap_or(1);
    let per_pass: f64 = widths
        .iter()
        .map(|&n| mlp(n).cost(0, rows, bytes).madds())
        .sum();
    let memory = mlp(widest).cost(4, rows, bytes);
    (0..held)
        .fold(Cost::new(), |c, _| c.and(memory.clone()))
        .work(
            "widths",
            format!("{passes} passes over {rows} rows at each width of {widths:?}"),
            f(passes) * per_pass,
        )
}

/// The panels of the first, second and last recorded steps (every step when T <= 3): the
/// first update is where the theory's exponents are read, the last shows where training went.
fn shown_steps(panels: Vec<Figure>) -> Vec<Figure> {
    let n = panels.len();
    panels
        .into_iter()
        .enumerate()
        .filter(|(i, _)| n <= 3 || *i < 2 || *i == n - 1)
        .map(|(_, p)| p)
        .collect()
}

/// Learning-rate sweeps side by side (the page shows SP beside muP), one panel each.
pub fn lr_transfer_figure(sweeps: &[&LrTransferResult]) -> Result<FigureData> {
    Ok(FigureData {
        stem: "lr-transfer",
        panels: figures::lr_transfer(sweeps)?,
        panel_size: (460, 380),
        csv: figures::lr_transfer_csv(sweeps),
    })
}

/// The abc map of `rules` (Yang & Hu 2021, Theorem 3.3): the regimes in the (r, alpha) plane.
pub fn abc_figure(rules: &AbcRules, depth: usize, optimizer: OptimizerKind) -> Result<FigureData> {
    Ok(FigureData {
        stem: "abc-map",
        panels: figures::abc_map(rules, depth, optimizer)?,
        panel_size: (600, 460),
        csv: figures::abc_csv(rules, depth, optimizer),
    })
}
