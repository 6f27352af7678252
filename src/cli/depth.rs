//! The Depth room's commands: ensembles at initialization (`depthwidth`), the L/n grid
//! (`aspect`) and order-to-chaos (`criticality`). Every flag's default is the experiment
//! config's `Default`.

use super::run::{Output, Widths, run_experiment};
use clap::Args;
use theorylab::core::activation::Activation;
use theorylab::error::Result;
use theorylab::experiments::depth::aspect::AspectConfig;
use theorylab::experiments::depth::criticality::CriticalityConfig;
use theorylab::experiments::depth::ensemble::EnsembleConfig;

fn ensemble() -> EnsembleConfig {
    EnsembleConfig::default()
}

fn aspect_default() -> AspectConfig {
    AspectConfig::default()
}

fn critical() -> CriticalityConfig {
    CriticalityConfig::default()
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
    run_experiment(config, &a.output, |r| {
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
    run_experiment(config, &a.output, |r| {
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
