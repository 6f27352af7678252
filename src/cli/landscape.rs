//! The Landscape room's commands: the loss on a plane (`landscape`), the Hessian's spectrum
//! (`hessian`), both on a network trained here or read from a safetensors file; sharpness
//! during full-batch gradient descent (`sharpness`) and intrinsic dimension (`intrinsic-dim`).
//! Every flag left out keeps the experiment config's `Default` (the problem's defaults differ
//! between experiments: sharpness trains a tanh network with MSE, as Cohen et al.), except
//! `hessian`'s estimators: `--trace`, `--density`, `--per-layer` and `--minibatch` are asked for
//! one by one, as PyHessian's calls are (the page's config has them all on).

use super::files::{in_file, read_bytes, read_text};
use super::playground::target_columns;
use super::run::{Output, gpu, report, run_experiment, run_with_bar};
use clap::Args;
use std::path::PathBuf;
use theorylab::core::activation::Activation;
use theorylab::core::data::parse_csv;
use theorylab::core::directions::BiasDirection;
use theorylab::core::ensemble::CpuEnsemble;
use theorylab::core::loss::Loss;
use theorylab::core::model_file::from_safetensors;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::train::{Backend, Precision};
use theorylab::error::Result;
use theorylab::experiments::connectivity::LmcData;
use theorylab::experiments::landscape::intrinsic::{IntrinsicConfig, IntrinsicResult};
use theorylab::experiments::landscape::sharpness::{SharpnessConfig, SharpnessResult};
use theorylab::experiments::landscape::spectrum::{SpectrumConfig, SpectrumResult, SpectrumRun};
use theorylab::experiments::landscape::surface::{
    DirectionKind, SurfaceConfig, SurfaceResult, SurfaceRun,
};
use theorylab::experiments::landscape::{Problem, Subject};
use theorylab::gpu::GpuEnsemble;

/// The data, network and training; a flag left out keeps the experiment's default.
#[derive(Args)]
pub struct ProblemArgs {
    /// Data set: digits (UCI optical digits) or gmm (a Gaussian mixture).
    #[arg(long)]
    dataset: Option<LmcData>,
    /// Classes of the Gaussian mixture.
    #[arg(long)]
    classes: Option<usize>,
    /// Samples of the Gaussian mixture (train and test together).
    #[arg(long)]
    samples: Option<usize>,
    /// Input dimension of the Gaussian mixture.
    #[arg(long)]
    dim: Option<usize>,
    /// Distance of the mixture's means from the origin (unit noise).
    #[arg(long, allow_negative_numbers = true)]
    separation: Option<f64>,
    /// Fraction of the samples held out as the test set.
    #[arg(long, allow_negative_numbers = true)]
    test_fraction: Option<f64>,
    /// Hidden width n.
    #[arg(long)]
    width: Option<usize>,
    /// Hidden layers L.
    #[arg(long)]
    depth: Option<usize>,
    /// Hidden activation (also of a model read with --model).
    #[arg(long)]
    activation: Option<Activation>,
    /// Loss: ce or mse.
    #[arg(long)]
    loss: Option<Loss>,
    /// Epochs of training.
    #[arg(long)]
    epochs: Option<usize>,
    /// Optimizer: sgd (with momentum) or adam.
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Learning rate.
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// SGD momentum.
    #[arg(long, allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// Mini-batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seed of the data, init, batch order and random directions.
    #[arg(long)]
    seed: Option<u64>,
}

impl ProblemArgs {
    /// `base` with the flags given laid over it.
    fn over(&self, base: Problem) -> Problem {
        Problem {
            dataset: self.dataset.unwrap_or(base.dataset),
            classes: self.classes.unwrap_or(base.classes),
            samples: self.samples.unwrap_or(base.samples),
            dim: self.dim.unwrap_or(base.dim),
            separation: self.separation.unwrap_or(base.separation),
            test_fraction: self.test_fraction.unwrap_or(base.test_fraction),
            width: self.width.unwrap_or(base.width),
            depth: self.depth.unwrap_or(base.depth),
            activation: self.activation.unwrap_or(base.activation),
            loss: self.loss.unwrap_or(base.loss),
            epochs: self.epochs.unwrap_or(base.epochs),
            optimizer: self.optimizer.unwrap_or(base.optimizer),
            lr: self.lr.unwrap_or(base.lr),
            momentum: self.momentum.unwrap_or(base.momentum),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            seed: self.seed.unwrap_or(base.seed),
        }
    }
}

/// A model trained elsewhere and the data to look at it on.
#[derive(Args)]
pub struct ModelArgs {
    /// A model trained elsewhere (safetensors, torch.nn.Sequential layout) instead of training one.
    #[arg(long, value_name = "FILE.safetensors", requires = "data")]
    model: Option<PathBuf>,
    /// With --model: the CSV to evaluate it on (features, then the target column(s)).
    #[arg(long, value_name = "FILE.csv", requires = "model")]
    data: Option<PathBuf>,
    /// With --model and --loss mse: number of target columns.
    #[arg(long, value_name = "K", requires = "model")]
    target_cols: Option<usize>,
}

impl ModelArgs {
    /// The model and data as a subject, if a model was given.
    fn subject(&self, problem: &Problem) -> Result<Option<Subject>> {
        let (Some(model), Some(data)) = (&self.model, &self.data) else {
            return Ok(None);
        };
        let mlp =
            from_safetensors(&read_bytes(model)?, problem.activation).map_err(in_file(model))?;
        let columns = target_columns(problem.loss, self.target_cols)?;
        let dataset = parse_csv(&read_text(data)?, columns).map_err(in_file(data))?;
        let name = model.display().to_string();
        Subject::from_model(mlp, &dataset, problem.loss, &name).map(Some)
    }
}

#[derive(Args)]
pub struct LandscapeArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Points along each axis of the plane (odd).
    #[arg(long, default_value_t = SurfaceConfig::default().grid)]
    grid: usize,
    /// Half-width of the plane (filter: in units of the directions; pca: of the trajectory's extent).
    #[arg(long, default_value_t = SurfaceConfig::default().span)]
    span: f64,
    /// Directions: filter (filter-normalized Gaussian) or pca (of the training trajectory).
    #[arg(long, default_value_t = SurfaceConfig::default().directions)]
    directions: DirectionKind,
    /// Biases under filter normalization: zero (fixed) or keep (move with the weights).
    #[arg(long, default_value_t = SurfaceConfig::default().bias)]
    bias: BiasDirection,
    /// Where the grid's networks are evaluated: cpu or gpu (f32, wgpu).
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Precision of the grid on the CPU: f64 (the reference) or f32 (twice the speed; training,
    /// directions and the quadratic model stay f64).
    #[arg(long, default_value_t = Precision::F64)]
    precision: Precision,
    #[command(flatten)]
    output: Output,
}

fn surface_summary(r: &SurfaceResult) {
    let m = r.grid;
    if m == 0 {
        return;
    }
    let centre = r.train_loss[(m / 2) * m + m / 2];
    let (lo, hi) = r
        .train_loss
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    println!(
        "{} parameters, {m} x {m} grid, source {}",
        r.params, r.source
    );
    println!("training loss at the solution {centre:.4}; on the plane from {lo:.4} to {hi:.4}");
    if let Some(e) = r.plane.as_ref().and_then(|p| p.explained_variance) {
        println!(
            "PCA directions explain {:.1}% and {:.1}% of the trajectory's variance",
            100.0 * e[0],
            100.0 * e[1]
        );
    }
    for (k, q) in r.quadratic.iter().enumerate() {
        println!(
            "direction {}: d^T H d = {:.4}, g . d = {:.2e}",
            k + 1,
            q[2],
            q[1]
        );
    }
}

/// `theorylab landscape`.
pub fn landscape(a: LandscapeArgs) -> Result<()> {
    let base = SurfaceConfig::default();
    let config = SurfaceConfig {
        problem: a.problem.over(base.problem),
        grid: a.grid,
        span: a.span,
        directions: a.directions,
        bias: a.bias,
    };
    let subject = a.model.subject(&config.problem)?;
    let result = match (a.backend, subject) {
        (Backend::Cpu, subject) if a.precision == Precision::F64 => match subject {
            None => run_with_bar(&mut SurfaceRun::new(&config)?)?,
            Some(s) => run_with_bar(&mut SurfaceRun::from_subject(&config, s)?)?,
        },
        (Backend::Cpu, subject) => {
            let mut run = match subject {
                None => SurfaceRun::<CpuEnsemble<f32>>::on((), &config)?,
                Some(s) => SurfaceRun::<CpuEnsemble<f32>>::from_subject_on((), &config, s)?,
            };
            run_with_bar(&mut run)?
        }
        (Backend::Gpu, subject) => {
            let ctx = gpu()?;
            let mut run = match subject {
                None => SurfaceRun::<GpuEnsemble>::on(ctx, &config)?,
                Some(s) => SurfaceRun::<GpuEnsemble>::from_subject_on(ctx, &config, s)?,
            };
            run_with_bar(&mut run)?
        }
    };
    report::<SurfaceConfig>(&result, &a.output, surface_summary)
}

#[derive(Args)]
pub struct HessianArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    #[command(flatten)]
    model: ModelArgs,
    /// Eigenvalues reported, largest first.
    #[arg(long, default_value_t = SpectrumConfig::default().top_k)]
    top_k: usize,
    /// Lanczos steps per run (Hessian-vector products).
    #[arg(long, default_value_t = SpectrumConfig::default().iterations)]
    iterations: usize,
    /// Estimate the trace (Hutchinson, with its standard error).
    #[arg(long)]
    trace: bool,
    /// Rademacher probes of the trace estimate.
    #[arg(long, default_value_t = SpectrumConfig::default().trace_probes)]
    trace_probes: usize,
    /// The spectral density (stochastic Lanczos quadrature).
    #[arg(long)]
    density: bool,
    /// Probes of the density.
    #[arg(long, default_value_t = SpectrumConfig::default().density_probes)]
    density_probes: usize,
    /// Gaussian broadening of the density (fraction of the spectrum's range).
    #[arg(long, default_value_t = SpectrumConfig::default().broadening)]
    broadening: f64,
    /// Each layer's diagonal block too.
    #[arg(long)]
    per_layer: bool,
    /// The top eigenvalues of a random mini-batch's Hessian too (its size; 0: none).
    #[arg(long, default_value_t = 0)]
    minibatch: usize,
    #[command(flatten)]
    output: Output,
}

fn spectrum_summary(r: &SpectrumResult) {
    println!(
        "{} parameters, {} samples, source {}",
        r.params, r.samples, r.source
    );
    let list = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.4}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("top eigenvalues: {}", list(&r.eigenvalues));
    if let (Some(t), Some(e)) = (r.trace, r.trace_stderr) {
        println!("trace (Hutchinson): {t:.4} ± {e:.4}");
    }
    for l in &r.layers {
        println!("{}: {}", l.name, list(&l.eigenvalues));
    }
    if !r.minibatch_eigenvalues.is_empty() {
        println!(
            "mini-batch of {}: {}",
            r.config.minibatch,
            list(&r.minibatch_eigenvalues)
        );
    }
}

/// `theorylab hessian`.
pub fn hessian(a: HessianArgs) -> Result<()> {
    let base = SpectrumConfig::default();
    let config = SpectrumConfig {
        problem: a.problem.over(base.problem),
        top_k: a.top_k,
        iterations: a.iterations,
        trace_probes: if a.trace { a.trace_probes } else { 0 },
        density_probes: if a.density { a.density_probes } else { 0 },
        broadening: a.broadening,
        per_layer: a.per_layer,
        minibatch: a.minibatch,
    };
    match a.model.subject(&config.problem)? {
        None => run_experiment(config, &a.output, spectrum_summary),
        Some(subject) => {
            let result = run_with_bar(&mut SpectrumRun::from_subject(&config, subject)?)?;
            report::<SpectrumConfig>(&result, &a.output, spectrum_summary)
        }
    }
}

#[derive(Args)]
pub struct SharpnessArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    /// Learning rates, one full-batch run each: 0.5,1,2.
    #[arg(long, value_delimiter = ',')]
    lrs: Option<Vec<f64>>,
    /// Training samples used as the full batch.
    #[arg(long = "gd-samples")]
    gd_samples: Option<usize>,
    /// Momentum of gradient descent (0: plain).
    #[arg(long = "gd-momentum", allow_negative_numbers = true)]
    gd_momentum: Option<f64>,
    /// Gradient-descent steps per learning rate.
    #[arg(long, default_value_t = SharpnessConfig::default().steps)]
    steps: usize,
    /// Measure the sharpness every this many steps.
    #[arg(long, default_value_t = SharpnessConfig::default().every)]
    every: usize,
    /// Lanczos steps per measurement.
    #[arg(long, default_value_t = SharpnessConfig::default().iterations)]
    iterations: usize,
    #[command(flatten)]
    output: Output,
}

fn sharpness_summary(r: &SharpnessResult) {
    for c in &r.runs {
        let last = c.sharpness.last().copied().unwrap_or(f64::NAN);
        let max = c
            .sharpness
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let diverged = c
            .diverged_at
            .map_or(String::new(), |s| format!(", diverged at step {s}"));
        println!(
            "eta {}: threshold {:.3}, sharpness max {max:.3}, last {last:.3}, final loss {:.4}{diverged}",
            c.lr,
            c.threshold,
            c.loss.last().copied().unwrap_or(f64::NAN)
        );
    }
}

/// `theorylab sharpness`.
pub fn sharpness(a: SharpnessArgs) -> Result<()> {
    let base = SharpnessConfig::default();
    let config = SharpnessConfig {
        problem: a.problem.over(base.problem.clone()),
        samples: a.gd_samples.unwrap_or(base.samples),
        lrs: a.lrs.unwrap_or(base.lrs.clone()),
        momentum: a.gd_momentum.unwrap_or(base.momentum),
        steps: a.steps,
        every: a.every,
        iterations: a.iterations,
    };
    run_experiment(config, &a.output, sharpness_summary)
}

#[derive(Args)]
pub struct IntrinsicArgs {
    #[command(flatten)]
    problem: ProblemArgs,
    /// Subspace dimensions, ascending: 5,10,20,40.
    #[arg(long, value_delimiter = ',')]
    dims: Option<Vec<usize>>,
    #[command(flatten)]
    output: Output,
}

fn intrinsic_summary(r: &IntrinsicResult) {
    let on = if r.on_test { "test" } else { "training" };
    if let Some(b) = r.baseline_accuracy {
        println!("full space ({} parameters): {on} accuracy {b:.4}", r.params);
    }
    for (d, acc) in r.dims.iter().zip(&r.accuracy) {
        println!("d = {d}: {on} accuracy {acc:.4}");
    }
    match r.d_int90 {
        Some(d) => println!("d_int90 = {d}"),
        None => println!("d_int90: not reached by the largest d"),
    }
}

/// `theorylab intrinsic-dim`.
pub fn intrinsic_dim(a: IntrinsicArgs) -> Result<()> {
    let base = IntrinsicConfig::default();
    let config = IntrinsicConfig {
        problem: a.problem.over(base.problem.clone()),
        dims: a.dims.unwrap_or(base.dims.clone()),
    };
    run_experiment(config, &a.output, intrinsic_summary)
}
