//! The Connectivity room's commands: the path between two networks, naive and matched (`lmc`,
//! trained here or read from safetensors files), and the barrier against width or spawn step
//! over several pairs (`lmc-sweep`). Every flag's default is the experiment config's `Default`.

use super::files::{in_file, read_bytes, read_text, write};
use super::limits;
use super::playground::target_columns;
use super::run::{Output, Widths, gpu, report, run_with_bar};
use clap::Args;
use std::path::PathBuf;
use theorylab::core::activation::Activation;
use theorylab::core::data::{Dataset, parse_csv};
use theorylab::core::ensemble::{CpuEnsemble, Ensemble};
use theorylab::core::loss::Loss;
use theorylab::core::model_file::{from_safetensors, to_safetensors};
use theorylab::core::train::Backend;
use theorylab::core::vocabulary::Choice;
use theorylab::error::{Error, Result};
use theorylab::experiments::Experiment;
use theorylab::experiments::connectivity::sweep::{
    LmcSweepConfig, LmcSweepResult, LmcSweepRun, SweepAxis, spawn_steps,
};
use theorylab::experiments::connectivity::{LmcConfig, LmcData, LmcResult, LmcRun, Matching};
use theorylab::gpu::GpuEnsemble;

fn defaults() -> LmcConfig {
    LmcConfig::default()
}

/// The flags shared by `lmc` and `lmc-sweep`: the data and how each network trains.
#[derive(Args)]
pub struct PairArgs {
    /// Data set: digits (UCI optical digits) or gmm (a Gaussian mixture).
    #[arg(long, default_value_t = defaults().dataset)]
    dataset: LmcData,
    /// Classes of the Gaussian mixture.
    #[arg(long, default_value_t = defaults().classes)]
    classes: usize,
    /// Samples of the Gaussian mixture (train and test together).
    #[arg(long, default_value_t = defaults().samples)]
    samples: usize,
    /// Input dimension of the Gaussian mixture.
    #[arg(long, default_value_t = defaults().dim)]
    dim: usize,
    /// Distance of the mixture's means from the origin (unit noise).
    #[arg(long, default_value_t = defaults().separation, allow_negative_numbers = true)]
    separation: f64,
    /// Fraction of the samples held out as the test set.
    #[arg(long, default_value_t = defaults().test_fraction, allow_negative_numbers = true)]
    test_fraction: f64,
    /// Hidden width n.
    #[arg(long, default_value_t = defaults().width)]
    width: usize,
    /// Hidden layers L.
    #[arg(long, default_value_t = defaults().depth)]
    depth: usize,
    /// Hidden activation.
    #[arg(long, default_value_t = defaults().activation)]
    activation: Activation,
    /// Training loss: ce or mse.
    #[arg(long, default_value_t = defaults().loss)]
    loss: Loss,
    /// Epochs of each training.
    #[arg(long)]
    epochs: Option<usize>,
    /// Learning rate (SGD, momentum 0.9).
    #[arg(long, default_value_t = defaults().lr, allow_negative_numbers = true)]
    lr: f64,
    /// Mini-batch size.
    #[arg(long, default_value_t = defaults().batch_size)]
    batch_size: usize,
    /// Points on the path (alpha = 0 .. 1 evenly).
    #[arg(long, default_value_t = defaults().alphas)]
    alphas: usize,
    /// Singular vectors compared per layer.
    #[arg(long, default_value_t = defaults().top_k)]
    top_k: usize,
    /// Where the path points are evaluated: cpu (f64) or gpu (wgpu, f32). Training, matching
    /// and the curvature run on the CPU in f64 either way.
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
}

impl PairArgs {
    fn config(&self, base: LmcConfig) -> LmcConfig {
        LmcConfig {
            dataset: self.dataset,
            classes: self.classes,
            samples: self.samples,
            dim: self.dim,
            separation: self.separation,
            test_fraction: self.test_fraction,
            width: self.width,
            depth: self.depth,
            activation: self.activation,
            loss: self.loss,
            epochs: self.epochs.unwrap_or(base.epochs),
            lr: self.lr,
            batch_size: self.batch_size,
            alphas: self.alphas,
            top_k: self.top_k,
            ..base
        }
    }
}

#[derive(Args)]
pub struct LmcArgs {
    #[command(flatten)]
    pair: PairArgs,
    /// Seeds of A and B: a,b (init and data order).
    #[arg(long, default_value = "0,1")]
    seeds: Widths,
    /// Spawn B from A after k SGD steps (shared init and first k steps).
    #[arg(long, value_name = "K")]
    spawn: Option<usize>,
    /// How B's hidden units are matched to A's: none, weight or activation.
    #[arg(long, default_value_t = defaults().matching)]
    matching: Matching,
    /// Two models trained elsewhere (safetensors, torch.nn.Sequential layout): a.safetensors,b.safetensors.
    #[arg(long, value_name = "A,B", requires = "data")]
    models: Option<String>,
    /// With --models: the CSV the path is evaluated on (features, then the target column(s)).
    #[arg(long, value_name = "FILE.csv", requires = "models")]
    data: Option<PathBuf>,
    /// With --models and --loss mse: number of target columns.
    #[arg(long, value_name = "K", requires = "models")]
    target_cols: Option<usize>,
    /// Write B with its hidden units permuted to match A (safetensors).
    #[arg(long, value_name = "FILE")]
    save_matched: Option<PathBuf>,
    #[command(flatten)]
    output: Output,
}

fn seeds(list: &Widths) -> Result<[u64; 2]> {
    match list.0[..] {
        [a, b] => Ok([a as u64, b as u64]),
        _ => Err(Error::config(
            "seeds",
            format!("give two seeds a,b, not {}", list.0.len()),
        )),
    }
}

fn show(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.4}"))
}

fn summary(r: &LmcResult) {
    if let Some([a, b]) = r.train_accuracy {
        println!("training accuracy: A {a:.4}, B {b:.4}");
    }
    if let Some([a, b]) = r.test_accuracy {
        println!("test accuracy: A {a:.4}, B {b:.4}");
    }
    println!(
        "loss barrier (train): naive {:.4}, matched {}",
        r.barrier.naive,
        show(r.barrier.matched)
    );
    println!(
        "error barrier: naive {}, matched {}",
        show(r.error_barrier.naive),
        show(r.error_barrier.matched.flatten())
    );
    println!(
        "barrier predicted by the midpoint curvature (-c/8): naive {}, matched {}",
        show(Some(r.predicted_barrier.naive)),
        show(r.predicted_barrier.matched)
    );
    if let Some(change) = r.function_change {
        println!("largest change of B's outputs made by the permutation: {change:.2e}");
    }
}

/// `theorylab lmc`.
pub fn lmc(a: LmcArgs) -> Result<()> {
    let config = LmcConfig {
        seeds: seeds(&a.seeds)?,
        spawn: a.spawn,
        matching: a.matching,
        ..a.pair.config(defaults())
    };
    let models = match (&a.models, &a.data) {
        (Some(models), Some(data)) => {
            let paths: Vec<PathBuf> = models.split(',').map(|p| PathBuf::from(p.trim())).collect();
            let [pa, pb] = &paths[..] else {
                return Err(Error::config(
                    "models",
                    format!(
                        "give two files a.safetensors,b.safetensors, not {}",
                        paths.len()
                    ),
                ));
            };
            let read = |p: &PathBuf| {
                from_safetensors(&read_bytes(p)?, config.activation).map_err(in_file(p))
            };
            let columns = target_columns(config.loss, a.target_cols)?;
            let dataset = parse_csv(&read_text(data)?, columns).map_err(in_file(data))?;
            let source = format!("{} and {}", pa.display(), pb.display());
            Some(Models {
                a: read(pa)?,
                b: read(pb)?,
                data: dataset,
                source,
            })
        }
        _ => {
            limits::budget().check(&config.cost()?)?;
            None
        }
    };
    match a.pair.backend {
        Backend::Cpu => lmc_on::<CpuEnsemble<f64>>((), &a, &config, models),
        Backend::Gpu => lmc_on::<GpuEnsemble>(gpu()?, &a, &config, models),
    }
}

/// Two models and the data read from files.
struct Models {
    a: theorylab::core::mlp::Mlp<f64>,
    b: theorylab::core::mlp::Mlp<f64>,
    data: Dataset,
    source: String,
}

/// `lmc` with its path points evaluated on `device`.
fn lmc_on<E: Ensemble>(
    device: E::Device,
    a: &LmcArgs,
    config: &LmcConfig,
    models: Option<Models>,
) -> Result<()> {
    let mut run = match models {
        Some(m) => {
            LmcRun::<E>::from_models_on(device, m.a, m.b, &m.data, config.loss, config, &m.source)?
        }
        None => LmcRun::<E>::on(device, config)?,
    };
    let result = run_with_bar(&mut run)?;
    if let Some(path) = &a.save_matched {
        let matched = run.matched_model().ok_or_else(|| {
            Error::config(
                "save-matched",
                "nothing was matched: give --matching weight or activation",
            )
        })?;
        write(path, &to_safetensors(matched)?)?;
    }
    report::<LmcConfig>(&result, &a.output, summary)
}

#[derive(Args)]
pub struct LmcSweepArgs {
    #[command(flatten)]
    pair: PairArgs,
    /// What is varied: width, or spawn (the step k after which B splits from A).
    #[arg(long, default_value_t = LmcSweepConfig::default().axis)]
    axis: SweepAxis,
    /// Its values: widths, or spawn steps.
    #[arg(long)]
    values: Option<Widths>,
    /// Pairs of seeds per value (pair p trains seeds s+2p and s+2p+1).
    #[arg(long, default_value_t = LmcSweepConfig::default().pairs)]
    pairs: usize,
    /// First seed s.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    output: Output,
}

fn sweep_summary(r: &LmcSweepResult) {
    let axis = r.config.axis.name();
    for (i, v) in r.values.iter().enumerate() {
        let (n, m) = (r.naive[i], r.matched[i]);
        let se = |s: Option<f64>| s.map_or(String::new(), |s| format!(" +- {s:.4}"));
        println!(
            "{axis} {v}: loss barrier naive {:.4}{}, matched {:.4}{}",
            n.mean,
            se(n.stderr),
            m.mean,
            se(m.stderr)
        );
    }
}

/// `theorylab lmc-sweep`.
pub fn lmc_sweep(a: LmcSweepArgs) -> Result<()> {
    let defaults = LmcSweepConfig::default();
    let base = LmcConfig {
        seeds: [a.seed, a.seed + 1],
        ..a.pair.config(defaults.base)
    };
    let values = match (a.values, a.axis) {
        (Some(v), _) => v.0,
        (None, SweepAxis::Width) => defaults.values,
        (None, SweepAxis::Spawn) => spawn_steps(base.total_steps()),
    };
    let config = LmcSweepConfig {
        base,
        axis: a.axis,
        values,
        pairs: a.pairs,
    };
    limits::budget().check(&config.cost()?)?;
    let result = match a.pair.backend {
        Backend::Cpu => run_with_bar(&mut LmcSweepRun::new(&config)?)?,
        Backend::Gpu => run_with_bar(&mut LmcSweepRun::<GpuEnsemble>::on(gpu()?, &config)?)?,
    };
    report::<LmcSweepConfig>(&result, &a.output, sweep_summary)
}
