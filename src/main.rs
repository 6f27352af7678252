//! The native command line: one subcommand per experiment, grouped by room in `src/cli`
//! (`playground.rs`: train, eval; `width.rs`: kernel, convergence, coordcheck, lrtransfer,
//! fnspace, abc; `depth.rs`: depthwidth, aspect, criticality;
//! `collapse.rs`: collapse, nc-metrics; `connectivity.rs`: lmc, lmc-sweep; `landscape.rs`: landscape, hessian,
//! sharpness, intrinsic-dim), and every experiment by name (`by_name.rs`: list, config, run).
//! This file only dispatches.

mod cli;

/// mimalloc keeps freed pages for reuse; glibc's malloc returned a training step's buffers to
/// the kernel and faulted them in again every step (about 20% of a 512-wide step).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches};
use clap::{Parser, Subcommand};
use cli::{by_name, collapse, connectivity, depth, landscape, limits, playground, width};
use std::process::ExitCode;
use theorylab::core::bounds;

#[derive(Parser)]
#[command(
    name = "theorylab",
    version,
    about = "A laboratory for deep-learning theory: train networks, check them against theory, draw the figures.",
    long_about = None,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Memory a run may use (4G, 500M, ...); every command prices its config against it before
    /// allocating. Default: 80% of the memory available (or of `ulimit -v`, if smaller).
    #[arg(long, global = true, value_name = "SIZE")]
    memory_limit: Option<limits::Size>,
}

#[derive(Subcommand)]
enum Command {
    /// Every experiment by name, one a line: name, room, summary.
    List,
    /// An experiment's default config as JSON (--toml for TOML).
    Config(by_name::ConfigArgs),
    /// Run an experiment by name from a config file (JSON or TOML) or a page's JSON export: the result of its own subcommand with the same settings.
    Run(by_name::RunArgs),
    /// Train an MLP on a built-in data set or a CSV file; print or write curves, figures and the model.
    Train(Box<playground::TrainArgs>),
    /// Evaluate a saved model (torch.nn.Sequential layout, safetensors) on a CSV file.
    Eval(playground::EvalArgs),
    /// Infinite-width NNGP and NTK of an MLP on the rows of a CSV file (neural-tangents' conventions).
    Kernel(width::KernelArgs),
    /// Finite width vs the limit: empirical NTK and NNGP of networks of growing width against the analytic kernels.
    Convergence(width::ConvergenceArgs),
    /// Coordinate check (as the mup package's): layer output sizes over training steps vs width.
    Coordcheck(width::CoordCheckArgs),
    /// Learning-rate transfer (muTransfer): loss after T steps vs log2 learning rate, per width.
    Lrtransfer(width::LrTransferArgs),
    /// Training in function space: NTK and muP networks beside the infinite-width NTK prediction.
    Fnspace(width::FunctionSpaceArgs),
    /// Which infinite-width limit an abc-parametrization has (Yang & Hu 2021, Theorem 3.3).
    Abc(width::AbcArgs),
    /// Random networks at initialization: per-layer moments and kurtosis, the tangent kernel's fluctuations, beside finite-width theory.
    Depthwidth(depth::DepthwidthArgs),
    /// Output kurtosis and NTK fluctuations over a grid of depths and widths: the collapse onto L/n.
    Aspect(depth::AspectArgs),
    /// Order to chaos: q*, c*, chi_1, depth scales, the critical line and the phase diagram.
    Criticality(depth::CriticalityArgs),
    /// Networks trained at a fixed parameter budget: test loss against L/n beside PDLT's optimal aspect ratio.
    TrainedAspect(depth::TrainedAspectArgs),
    /// Residual networks: the readout's excess kurtosis against the skip weight gamma, beside the vertex recursion.
    Residual(depth::ResidualArgs),
    /// Neural collapse: train into the terminal phase and record NC1-NC4 (Papyan et al. 2020), beside the closed form of the unconstrained features model.
    Collapse(Box<collapse::CollapseArgs>),
    /// NC1-NC4 of features (and a classifier) exported from elsewhere, as CSV files.
    NcMetrics(collapse::NcMetricsArgs),
    /// Linear mode connectivity: the loss barrier between two networks, naive and after Git Re-Basin's permutation matching.
    Lmc(Box<connectivity::LmcArgs>),
    /// The loss barrier against width or spawn step, naive and matched, over several pairs of seeds.
    LmcSweep(Box<connectivity::LmcSweepArgs>),
    /// The loss on a plane around a solution: filter-normalized random or trajectory-PCA directions (Li et al. 2018).
    Landscape(Box<landscape::LandscapeArgs>),
    /// The Hessian at a solution: top eigenvalues (Lanczos), trace (Hutchinson), density (SLQ), per layer.
    Hessian(Box<landscape::HessianArgs>),
    /// The edge of stability: sharpness during full-batch gradient descent against 2/eta (Cohen et al. 2021).
    Sharpness(Box<landscape::SharpnessArgs>),
    /// Intrinsic dimension: accuracy of training in random subspaces of growing dimension (Li et al. 2018).
    IntrinsicDim(Box<landscape::IntrinsicArgs>),
}

fn main() -> ExitCode {
    let matches = Cli::command().after_help(bounds::table()).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    limits::init(cli.memory_limit);
    let outcome = match cli.command {
        Command::List => by_name::list(),
        Command::Config(args) => by_name::config(args),
        Command::Run(args) => by_name::run(args),
        Command::Train(args) => playground::train(*args),
        Command::Eval(args) => playground::eval(args),
        Command::Kernel(args) => width::kernel(args),
        Command::Convergence(args) => width::convergence(args),
        Command::Coordcheck(args) => width::coordcheck(args),
        Command::Lrtransfer(args) => width::lrtransfer(args),
        Command::Fnspace(args) => width::fnspace(args),
        Command::Abc(args) => width::abc(args),
        Command::Depthwidth(args) => depth::depthwidth(args),
        Command::Aspect(args) => depth::aspect(args),
        Command::Criticality(args) => depth::criticality(args),
        Command::TrainedAspect(args) => depth::trained_aspect(args),
        Command::Residual(args) => depth::residual(args),
        Command::Collapse(args) => collapse::collapse(*args),
        Command::NcMetrics(args) => collapse::nc_metrics_command(args),
        Command::Lmc(args) => connectivity::lmc(*args),
        Command::LmcSweep(args) => connectivity::lmc_sweep(*args),
        Command::Landscape(args) => landscape::landscape(*args),
        Command::Hessian(args) => landscape::hessian(*args),
        Command::Sharpness(args) => landscape::sharpness(*args),
        Command::IntrinsicDim(args) => landscape::intrinsic_dim(*args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
