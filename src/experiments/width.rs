//! The Width room's controls as one config (what the permalink stores), and the experiments it
//! drives: finite width vs the infinite-width kernels, function-space training, and the
//! coordinate check.

use super::coordcheck::CoordCheckConfig;
use super::function_space::FunctionSpaceConfig;
use super::kernel_convergence::KernelConvergenceConfig;
use crate::core::activation::Activation;
use crate::core::kernels::{KernelParametrization, KernelSpec};
use crate::core::optim::OptimizerKind;
use crate::core::parametrization::{AbcRules, Parametrization};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Smallest width of the kernel sweep (2^4) and of the coordinate check (2^6).
const KERNEL_MIN_LOG2: u32 = 4;
const COORD_MIN_LOG2: u32 = 6;
/// Widest network of the kernel comparison and of function-space training, which run on the
/// CPU (the coordinate check goes to `2^max_width_log2`, on the GPU where there is one).
pub const CPU_MAX_WIDTH_LOG2: u32 = 10;
/// Largest |exponent| of the abc map.
const MAX_EXPONENT: f64 = 4.0;
/// Largest width the room offers (2^12 = 4096).
pub const MAX_WIDTH_LOG2: u32 = 12;

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

fn powers_of_two(from: u32, to: u32) -> Vec<usize> {
    (from..=to).map(|k| 1usize << k).collect()
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
