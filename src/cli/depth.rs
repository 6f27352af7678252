//! The Depth room's commands: ensembles at initialization (`depthwidth`), the L/n grid
//! (`aspect`) and order-to-chaos (`criticality`). Every flag's default is the experiment
//! config's `Default`.

use super::run::{Output, Widths, run_experiment, run_experiment_on};
use clap::Args;
use theorylab::core::activation::Activation;
use theorylab::core::data::DatasetName;
use theorylab::core::train::Backend;
use theorylab::error::Result;
use theorylab::experiments::depth::aspect::Aspect;
use theorylab::experiments::depth::aspect::AspectConfig;
use theorylab::experiments::depth::criticality::CriticalityConfig;
use theorylab::experiments::depth::ensemble::Ensemble;
use theorylab::experiments::depth::ensemble::EnsembleConfig;
use theorylab::experiments::depth::residual::ResidualConfig;
use theorylab::experiments::depth::residual::ResidualRun;
use theorylab::experiments::depth::trained::TrainedConfig;

fn ensemble() -> EnsembleConfig {
    EnsembleConfig::default()
}

fn aspect_default() -> AspectConfig {
    AspectConfig::default()
}

fn critical() -> CriticalityConfig {
    CriticalityConfig::default()
}

fn trained() -> TrainedConfig {
    TrainedConfig::default()
}

fn skip() -> ResidualConfig {
    ResidualConfig::default()
}

#[derive(Args)]
pub struct DepthwidthArgs {
    /// Hidden activation.
    #[arg(long, default_value_t = ensemble().activation)]
    activation: Activation,
    /// Hidden layers L.
    #[arg(long, default_value_t = ensemble().depth)]
    depth: usize,
    /// Width n of every hidden layer (and of the readout).
    #[arg(long, default_value_t = ensemble().width)]
    width: usize,
    /// Networks S.
    #[arg(long, default_value_t = ensemble().samples)]
    samples: usize,
    /// Weight variance C_W (W ~ N(0, C_W / fan_in)).
    #[arg(long, default_value_t = ensemble().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance C_b.
    #[arg(long, default_value_t = ensemble().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
    /// Skip weight gamma in [0, 1): z^(l+1) = gamma z^(l) + W phi(z^(l)) + b, the branch scaled by 1 - gamma^2.
    #[arg(long, default_value_t = ensemble().residual, allow_negative_numbers = true)]
    residual: f64,
    /// |x|^2 / n_0 of the fixed input.
    #[arg(long, default_value_t = ensemble().q_input, allow_negative_numbers = true)]
    q_input: f64,
    /// Seed of the networks.
    #[arg(long, default_value_t = ensemble().seed)]
    seed: u64,
    /// Where the networks are sampled: cpu (f64) or gpu (f32, the same draws).
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[command(flatten)]
    output: Output,
}

/// `theorylab depthwidth`.
pub fn depthwidth(a: DepthwidthArgs) -> Result<()> {
    let config = EnsembleConfig {
        activation: a.activation,
        depth: a.depth,
        width: a.width,
        samples: a.samples,
        weight_var: a.weight_var,
        bias_var: a.bias_var,
        residual: a.residual,
        q_input: a.q_input,
        seed: a.seed,
        ..ensemble()
    };
    let on_gpu = |c: &EnsembleConfig, gpu| Ensemble::on(c, Some(gpu));
    run_experiment_on(config, a.backend, on_gpu, &a.output, |r| {
        let o = &r.output;
        let theory = o
            .theory
            .map_or("none for this activation with a skip".into(), |t| {
                format!("{t:.5}")
            });
        println!(
            "readout of {} networks: E[z^2] = {:.5}, E[z^4] / (3 E[z^2]^2) = {:.5} ± {:.5} (theory {theory})",
            o.samples, o.second_moment, o.kurtosis_ratio, o.stderr
        );
        println!(
            "tangent kernel: E[Theta^2] / E[Theta]^2 = {:.4} ± {:.4}{}",
            r.ntk.ratio,
            r.ntk.stderr,
            r.ntk
                .theory
                .map_or(String::new(), |t| format!(" (theory {t:.4})"))
        );
    })
}

#[derive(Args)]
pub struct AspectArgs {
    /// Hidden activation.
    #[arg(long, default_value_t = aspect_default().activation)]
    activation: Activation,
    /// Depths L, comma-separated, ascending.
    #[arg(long, default_value_t = Widths(aspect_default().depths))]
    depths: Widths,
    /// Widths n, comma-separated, ascending.
    #[arg(long, default_value_t = Widths(aspect_default().widths))]
    widths: Widths,
    /// Networks per grid point.
    #[arg(long, default_value_t = aspect_default().samples)]
    samples: usize,
    /// Weight variance C_W.
    #[arg(long, default_value_t = aspect_default().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance C_b.
    #[arg(long, default_value_t = aspect_default().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
    /// Skip weight gamma in [0, 1).
    #[arg(long, default_value_t = aspect_default().residual, allow_negative_numbers = true)]
    residual: f64,
    /// Seed.
    #[arg(long, default_value_t = aspect_default().seed)]
    seed: u64,
    /// Where the networks are sampled: cpu (f64) or gpu (f32, the same draws).
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[command(flatten)]
    output: Output,
}

/// `theorylab aspect`.
pub fn aspect(a: AspectArgs) -> Result<()> {
    let config = AspectConfig {
        activation: a.activation,
        depths: a.depths.0,
        widths: a.widths.0,
        samples: a.samples,
        weight_var: a.weight_var,
        bias_var: a.bias_var,
        residual: a.residual,
        seed: a.seed,
    };
    let on_gpu = |c: &AspectConfig, gpu| Aspect::on(c, Some(gpu));
    run_experiment_on(config, a.backend, on_gpu, &a.output, |r| {
        for p in &r.points {
            println!(
                "L = {:3}, n = {:4}, L/n = {:.3}: kurtosis ratio {:.4} ± {:.4}, NTK ratio {:.4} ± {:.4}",
                p.depth,
                p.width,
                p.depth as f64 / p.width as f64,
                p.kurtosis_ratio,
                p.stderr,
                p.ntk_ratio,
                p.ntk_stderr
            );
        }
    })
}

#[derive(Args)]
pub struct CriticalityArgs {
    /// Hidden activation: tanh or erf (phase diagram over the plane), relu or gelu (its C_b = 0 edge).
    #[arg(long, default_value_t = critical().activation)]
    activation: Activation,
    /// Weight variance sigma_w^2 = C_W.
    #[arg(long, default_value_t = critical().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance sigma_b^2 = C_b.
    #[arg(long, default_value_t = critical().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
    /// Cells per side of the phase diagram.
    #[arg(long, default_value_t = critical().cells)]
    cells: usize,
    /// Seed of the kernel-flow ensembles.
    #[arg(long, default_value_t = critical().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab criticality`.
pub fn criticality(a: CriticalityArgs) -> Result<()> {
    let config = CriticalityConfig {
        activation: a.activation,
        weight_var: a.weight_var,
        bias_var: a.bias_var,
        cells: a.cells,
        seed: a.seed,
        ..critical()
    };
    run_experiment(config, &a.output, |r| {
        let f = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v:.6}"));
        let p = &r.point;
        println!(
            "q* = {}, c* = {}, chi_1 = {}, xi_q = {}, xi_c = {}; critical C_W at this C_b: {}",
            f(p.q_star),
            f(p.c_star),
            f(p.chi_1),
            f(p.xi_q),
            f(p.xi_c),
            f(r.critical_weight_var)
        );
    })
}

#[derive(Args)]
pub struct TrainedAspectArgs {
    /// Task: teacher_student (8 inputs, 1 output, MSE) or digits (64 inputs, 10 classes, cross-entropy).
    #[arg(long, default_value_t = trained().dataset)]
    dataset: DatasetName,
    /// Hidden activation.
    #[arg(long, default_value_t = trained().activation)]
    activation: Activation,
    /// Parameter budget P: each depth gets the width whose network is nearest to it.
    #[arg(long, default_value_t = trained().params)]
    params: usize,
    /// Depths L, comma-separated, ascending.
    #[arg(long, default_value_t = Widths(trained().depths))]
    depths: Widths,
    /// Networks per depth (seeds seed, seed + 1, ...).
    #[arg(long, default_value_t = trained().seeds)]
    seeds: usize,
    /// Adam steps per network.
    #[arg(long, default_value_t = trained().steps)]
    steps: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = trained().batch_size)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = trained().lr, allow_negative_numbers = true)]
    lr: f64,
    /// Weight variance C_W at initialization.
    #[arg(long, default_value_t = trained().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance C_b at initialization.
    #[arg(long, default_value_t = trained().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
    /// Seed of the data and the first network.
    #[arg(long, default_value_t = trained().seed)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

/// `theorylab trained-aspect`.
pub fn trained_aspect(a: TrainedAspectArgs) -> Result<()> {
    let config = TrainedConfig {
        dataset: a.dataset,
        activation: a.activation,
        params: a.params,
        depths: a.depths.0,
        seeds: a.seeds,
        steps: a.steps,
        batch_size: a.batch_size,
        lr: a.lr,
        weight_var: a.weight_var,
        bias_var: a.bias_var,
        seed: a.seed,
    };
    run_experiment(config, &a.output, |r| {
        use theorylab::experiments::depth::trained::mean_and_stderr;
        for p in &r.points {
            let (loss, se) = mean_and_stderr(&p.test_loss);
            println!(
                "L = {:2}, n = {:4} ({} parameters), L/n = {:.4}: test loss {loss:.4} ± {se:.4} over {} networks{}",
                p.depth,
                p.width,
                p.params,
                p.ratio,
                p.test_loss.len(),
                if p.diverged > 0 {
                    format!(" ({} diverged)", p.diverged)
                } else {
                    String::new()
                }
            );
        }
        if let Some(r_star) = r.optimal_ratio {
            println!(
                "PDLT's optimal aspect ratio for {} outputs: r* = {r_star:.4}",
                r.outputs
            );
        }
    })
}

#[derive(Args)]
pub struct ResidualArgs {
    /// Hidden activation: tanh, erf or linear (odd: where the vertex recursion holds with a skip).
    #[arg(long, default_value_t = skip().activation)]
    activation: Activation,
    /// Hidden layers L.
    #[arg(long, default_value_t = skip().depth)]
    depth: usize,
    /// Width n.
    #[arg(long, default_value_t = skip().width)]
    width: usize,
    /// Skip weights gamma in [0, 1), comma-separated, ascending.
    #[arg(long, value_delimiter = ',', default_values_t = skip().gammas, allow_negative_numbers = true)]
    gammas: Vec<f64>,
    /// Networks per skip weight.
    #[arg(long, default_value_t = skip().samples)]
    samples: usize,
    /// Weight variance C_W.
    #[arg(long, default_value_t = skip().weight_var, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance C_b.
    #[arg(long, default_value_t = skip().bias_var, allow_negative_numbers = true)]
    bias_var: f64,
    /// Seed.
    #[arg(long, default_value_t = skip().seed)]
    seed: u64,
    /// Where the networks are sampled: cpu (f64) or gpu (f32, the same draws).
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[command(flatten)]
    output: Output,
}

/// `theorylab residual`.
pub fn residual(a: ResidualArgs) -> Result<()> {
    let config = ResidualConfig {
        activation: a.activation,
        depth: a.depth,
        width: a.width,
        gammas: a.gammas,
        samples: a.samples,
        weight_var: a.weight_var,
        bias_var: a.bias_var,
        seed: a.seed,
    };
    let on_gpu = |c: &ResidualConfig, gpu| ResidualRun::on(c, Some(gpu));
    run_experiment_on(config, a.backend, on_gpu, &a.output, |r| {
        for p in &r.points {
            println!(
                "gamma = {:.2}: kurtosis ratio {:.4} ± {:.4} (recursion {})",
                p.residual,
                p.kurtosis_ratio,
                p.stderr,
                p.theory.map_or("none".into(), |t| format!("{t:.4}"))
            );
        }
    })
}
