//! The Width room's commands: infinite-width kernels, their finite-width error, the
//! coordinate check, learning-rate transfer, function-space training and the abc map. Every
//! flag's default is the experiment config's `Default`.

use super::files::{create_dir, in_file, read_text, write};
use super::run::{Output, Widths, run_experiment, to_json, write_figures};
use clap::Args;
use std::path::PathBuf;
use theorylab::core::abc_regime::classify;
use theorylab::core::activation::Activation;
use theorylab::core::data::parse_points;
use theorylab::core::kernels::{KernelParametrization, KernelSpec, analytic};
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::vocabulary::{Choice, Entry};
use theorylab::error::{Error, Result};
use theorylab::experiments::FigureData;
use theorylab::experiments::sweep::power_law_fit;
use theorylab::experiments::width::abc_figure;
use theorylab::experiments::width::coordcheck::CoordCheckConfig;
use theorylab::experiments::width::function_space::FunctionSpaceConfig;
use theorylab::experiments::width::kernel_convergence::KernelConvergenceConfig;
use theorylab::experiments::width::lr_transfer::LrTransferConfig;

/// neural-tangents' two Dense parametrizations, as `--parametrization` names them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KernelKind {
    /// Width-independent NTK.
    Ntk,
    /// Standard parametrization: the NTK grows with the width.
    Standard,
}

impl Choice for KernelKind {
    const WHAT: &'static str = "kernel parametrization";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(KernelKind::Ntk, "ntk", "NTK"),
        Entry::new(KernelKind::Standard, "standard", "standard"),
    ];
}
theorylab::choice_by_name!(KernelKind);

fn spec() -> KernelSpec {
    KernelSpec::default()
}

/// The architecture flags shared by the kernel commands.
#[derive(Args)]
pub struct SpecArgs {
    /// Hidden layers L (each Dense then activation), then a Dense readout.
    #[arg(long, default_value_t = spec().depth)]
    depth: usize,
    /// Hidden activation (relu, erf, gelu: closed forms; tanh: adaptive quadrature; linear).
    #[arg(long, default_value_t = spec().activation)]
    activation: Activation,
    /// Weight variance W_std^2.
    #[arg(long, default_value_t = spec().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance b_std^2.
    #[arg(long, default_value_t = spec().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
}

impl SpecArgs {
    fn spec(&self, parametrization: KernelParametrization) -> KernelSpec {
        KernelSpec {
            depth: self.depth,
            activation: self.activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            parametrization,
        }
    }
}

#[derive(Args)]
pub struct KernelArgs {
    /// CSV file of input points, one per row (a header row is skipped).
    #[arg(long, value_name = "X.csv")]
    inputs: PathBuf,
    #[command(flatten)]
    spec: SpecArgs,
    /// ntk or standard (neural-tangents' Dense parameterization).
    #[arg(long, default_value_t = KernelKind::Ntk)]
    parametrization: KernelKind,
    /// Hidden width n, needed by --parametrization standard.
    #[arg(long)]
    width: Option<usize>,
    #[command(flatten)]
    output: Output,
}

/// `theorylab kernel`: the analytic NNGP and NTK on the rows of a CSV file.
pub fn kernel(args: KernelArgs) -> Result<()> {
    let parametrization = match (args.parametrization, args.width) {
        (KernelKind::Ntk, _) => KernelParametrization::Ntk,
        (KernelKind::Standard, Some(width)) => KernelParametrization::Standard { width },
        (KernelKind::Standard, None) => {
            return Err(Error::config(
                "width",
                "--parametrization standard needs the hidden --width n",
            ));
        }
    };
    let spec = args.spec.spec(parametrization);
    let x = parse_points(&read_text(&args.inputs)?).map_err(in_file(&args.inputs))?;
    let kernels = analytic(&spec, &x)?;
    let rows = |m: &nalgebra::DMatrix<f64>| -> Vec<Vec<f64>> {
        m.row_iter().map(|r| r.iter().copied().collect()).collect()
    };
    let json =
        serde_json::json!({ "spec": spec, "nngp": rows(&kernels.nngp), "ntk": rows(&kernels.ntk) });
    if let Some(dir) = &args.output.out {
        create_dir(dir)?;
        write(&dir.join("kernels.json"), json.to_string().as_bytes())?;
        let figure = FigureData {
            stem: "kernels",
            panels: theorylab::experiments::width::figures::kernel_maps(&kernels)?,
            panel_size: (380, 340),
            csv: theorylab::experiments::width::figures::kernel_maps_csv(&kernels),
        };
        write_figures(dir, &[figure])?;
    }
    if args.output.json {
        println!("{json}");
    } else {
        println!("{n} x {n} NNGP and NTK of {spec:?}", n = x.ncols());
    }
    Ok(())
}

fn convergence_default() -> KernelConvergenceConfig {
    KernelConvergenceConfig::default()
}

#[derive(Args)]
pub struct ConvergenceArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value_t = Widths(convergence_default().widths))]
    widths: Widths,
    /// Networks drawn per width.
    #[arg(long, default_value_t = convergence_default().seeds)]
    seeds: usize,
    /// Gaussian inputs N(0, I_d) the kernels are compared on.
    #[arg(long, default_value_t = convergence_default().points)]
    points: usize,
    /// Input dimension d.
    #[arg(long, default_value_t = convergence_default().input_dim)]
    input_dim: usize,
    /// Seed of the inputs and networks.
    #[arg(long, default_value_t = convergence_default().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab convergence`: finite networks' empirical NTK and NNGP against the limit.
pub fn convergence(args: ConvergenceArgs) -> Result<()> {
    let config = KernelConvergenceConfig {
        spec: args.spec.spec(KernelParametrization::Ntk),
        widths: args.widths.0,
        seeds: args.seeds,
        points: args.points,
        input_dim: args.input_dim,
        seed: args.seed,
    };
    run_experiment(config, &args.output, |r| {
        for (i, n) in r.widths.iter().enumerate() {
            println!(
                "width {n}: ||NTK_n - NTK|| / ||NTK|| = {:.4}, NNGP {:.4}",
                r.ntk_error[i], r.nngp_error[i]
            );
        }
    })
}

fn coordcheck_default() -> CoordCheckConfig {
    CoordCheckConfig::default()
}

#[derive(Args)]
pub struct CoordCheckArgs {
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value_t = coordcheck_default().parametrization)]
    parametrization: Parametrization,
    /// sgd or adam.
    #[arg(long, default_value_t = coordcheck_default().optimizer)]
    optimizer: OptimizerKind,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value_t = Widths(coordcheck_default().widths))]
    widths: Widths,
    /// Recorded steps T (t = 1 is before any update).
    #[arg(long, default_value_t = coordcheck_default().steps)]
    steps: usize,
    /// Base learning rate (each tensor uses lr n^-c).
    #[arg(long, default_value_t = coordcheck_default().lr, allow_negative_numbers = true)]
    lr: f64,
    /// Seeds averaged per width.
    #[arg(long, default_value_t = coordcheck_default().seeds)]
    seeds: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = coordcheck_default().depth)]
    depth: usize,
    /// Hidden activation: relu, tanh, erf, gelu, linear.
    #[arg(long, default_value_t = coordcheck_default().activation)]
    activation: Activation,
    /// Base seed.
    #[arg(long, default_value_t = coordcheck_default().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab coordcheck`: layer output sizes and their change vs width.
pub fn coordcheck(args: CoordCheckArgs) -> Result<()> {
    let config = CoordCheckConfig {
        parametrization: args.parametrization,
        optimizer: args.optimizer,
        lr: args.lr,
        widths: args.widths.0,
        steps: args.steps,
        seeds: args.seeds,
        depth: args.depth,
        activation: args.activation,
        seed: args.seed,
        ..coordcheck_default()
    };
    let last = config.steps.saturating_sub(1);
    run_experiment(config, &args.output, |r| {
        for (i, name) in r.layers.iter().enumerate() {
            let points: Vec<(f64, f64)> = r
                .widths
                .iter()
                .zip(&r.delta_size)
                .map(|(&n, d)| (n as f64, d[last][i]))
                .collect();
            match power_law_fit(&points) {
                Some((p, _)) => println!("{name}: |x_T - x_1| ~ n^{p:.2}"),
                None => println!("{name}: no change"),
            }
        }
    })
}

fn lr_default() -> LrTransferConfig {
    LrTransferConfig::default()
}

#[derive(Args)]
pub struct LrTransferArgs {
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value_t = lr_default().parametrization)]
    parametrization: Parametrization,
    /// sgd or adam.
    #[arg(long, default_value_t = lr_default().optimizer)]
    optimizer: OptimizerKind,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value_t = Widths(lr_default().widths))]
    widths: Widths,
    /// Smallest log2 learning rate.
    #[arg(long, default_value_t = lr_default().log2_lr_min, allow_negative_numbers = true)]
    log2_lr_min: i32,
    /// Largest log2 learning rate (grid step 1).
    #[arg(long, default_value_t = lr_default().log2_lr_max, allow_negative_numbers = true)]
    log2_lr_max: i32,
    /// Optimizer steps per run.
    #[arg(long, default_value_t = lr_default().steps)]
    steps: usize,
    /// Seeds averaged per point.
    #[arg(long, default_value_t = lr_default().seeds)]
    seeds: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = lr_default().depth)]
    depth: usize,
    /// Base seed.
    #[arg(long, default_value_t = lr_default().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab lrtransfer`: loss after T steps vs log2 learning rate, per width.
pub fn lrtransfer(args: LrTransferArgs) -> Result<()> {
    let config = LrTransferConfig {
        parametrization: args.parametrization,
        optimizer: args.optimizer,
        widths: args.widths.0,
        log2_lr_min: args.log2_lr_min,
        log2_lr_max: args.log2_lr_max,
        steps: args.steps,
        seeds: args.seeds,
        depth: args.depth,
        seed: args.seed,
        ..lr_default()
    };
    run_experiment(config, &args.output, |r| {
        for (n, &i) in r.widths.iter().zip(&r.argmin) {
            println!("width {n}: best learning rate 2^{}", r.log2_lrs[i]);
        }
    })
}

fn fnspace_default() -> FunctionSpaceConfig {
    FunctionSpaceConfig::default()
}

#[derive(Args)]
pub struct FunctionSpaceArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value_t = Widths(fnspace_default().widths))]
    widths: Widths,
    /// Networks per width and parametrization.
    #[arg(long, default_value_t = fnspace_default().seeds)]
    seeds: usize,
    /// Training inputs on the unit circle.
    #[arg(long, default_value_t = fnspace_default().train_points)]
    train_points: usize,
    /// Gradient-descent steps T.
    #[arg(long, default_value_t = fnspace_default().steps)]
    steps: usize,
    /// Step size as a fraction of the critical rate m / lambda_max of the NTK, in (0, 1).
    #[arg(long, default_value_t = fnspace_default().lr_fraction)]
    lr_fraction: f64,
    /// Base seed.
    #[arg(long, default_value_t = fnspace_default().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab fnspace`: NTK and muP networks beside the infinite-width NTK prediction.
pub fn fnspace(args: FunctionSpaceArgs) -> Result<()> {
    let config = FunctionSpaceConfig {
        spec: args.spec.spec(KernelParametrization::Ntk),
        widths: args.widths.0,
        seeds: args.seeds,
        train_points: args.train_points,
        steps: args.steps,
        lr_fraction: args.lr_fraction,
        seed: args.seed,
        ..fnspace_default()
    };
    run_experiment(config, &args.output, |r| {
        println!("step eta = {:.4} (NTK-GP)", r.lr);
        for runs in &r.runs {
            for (n, gap) in runs.widths.iter().zip(&runs.linearization_gap) {
                println!(
                    "{} width {n}: ||f_T - f_T^lin|| / ||f_T^lin - f_0|| = {gap:.4}",
                    runs.parametrization.name()
                );
            }
        }
    })
}

#[derive(Args)]
pub struct AbcArgs {
    /// Free exponents 'a,b,c;a,b,c;a,b,c' (input; hidden; output), overriding --parametrization.
    #[arg(long, allow_hyphen_values = true)]
    abc: Option<String>,
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value_t = Parametrization::Mup)]
    parametrization: Parametrization,
    /// sgd or adam.
    #[arg(long, default_value_t = OptimizerKind::Sgd)]
    optimizer: OptimizerKind,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    #[command(flatten)]
    output: Output,
}

/// `theorylab abc`: which infinite-width limit an abc-parametrization has.
pub fn abc(args: AbcArgs) -> Result<()> {
    let parametrization = match &args.abc {
        Some(text) => Parametrization::parse_abc(text)?,
        None => args.parametrization,
    };
    if args.depth == 0 {
        return Err(Error::config("depth", "must be at least 1 hidden layer"));
    }
    let optimizer = args.optimizer;
    let rules = parametrization.rules(optimizer);
    let verdict = classify(&rules, args.depth, optimizer);
    if let Some(dir) = &args.output.out {
        create_dir(dir)?;
        let json = to_json(&serde_json::json!({ "rules": rules, "verdict": verdict }))?;
        write(&dir.join("abc.json"), json.as_bytes())?;
        write_figures(dir, &[abc_figure(&rules, args.depth, optimizer)?])?;
    }
    if args.output.json {
        let json = serde_json::json!({ "rules": rules, "verdict": verdict });
        println!("{json}");
    } else {
        println!(
            "{} (r = {}, alpha = {}, u = {})",
            verdict.regime.name(),
            verdict.r,
            verdict.alpha,
            verdict.u
        );
        for v in &verdict.violations {
            println!("  {v}");
        }
    }
    Ok(())
}
