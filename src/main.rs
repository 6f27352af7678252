//! The native command line: run experiments headless, write figures, data and models.

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use theorylab::core::abc_regime::classify;
use theorylab::core::activation::Activation;
use theorylab::core::data::{
    Dataset, DatasetName, TargetColumns, Targets, parse_csv, parse_points,
};
use theorylab::core::kernels::{KernelParametrization, KernelSpec, analytic};
use theorylab::core::loss::{Loss, Target, accuracy};
use theorylab::core::model_file::from_safetensors;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::stepper::run;
use theorylab::core::train::{Precision, TrainConfig, TrainResult};
use theorylab::error::{Error, Result};
use theorylab::experiments::coordcheck::{CoordCheck, CoordCheckConfig, power_law_fit};
use theorylab::experiments::function_space::{FunctionSpace, FunctionSpaceConfig};
use theorylab::experiments::lr_transfer::{LrTransfer, LrTransferConfig};
use theorylab::experiments::training::Training;
use theorylab::gpu::GpuContext;
use theorylab::plot;

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
}

#[derive(Subcommand)]
enum Command {
    /// Train an MLP on a built-in data set or a CSV file; print or write curves, figures and the model.
    Train(Box<TrainArgs>),
    /// Evaluate a saved model (torch.nn.Sequential layout, safetensors) on a CSV file.
    Eval(EvalArgs),
    /// Infinite-width NNGP and NTK of an MLP on the rows of a CSV file (neural-tangents' conventions).
    Kernel(KernelArgs),
    /// Coordinate check (as the mup package's): layer output sizes over training steps vs width.
    Coordcheck(CoordCheckArgs),
    /// Learning-rate transfer (muTransfer): loss after T steps vs log2 learning rate, per width.
    Lrtransfer(LrTransferArgs),
    /// Training in function space: NTK and muP networks beside the infinite-width NTK prediction.
    Fnspace(FunctionSpaceArgs),
    /// Which infinite-width limit an abc-parametrization has (Yang & Hu 2021, Theorem 3.3).
    Abc(AbcArgs),
}

#[derive(Args)]
struct LrTransferArgs {
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value = "mup")]
    parametrization: String,
    /// sgd or adam.
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value = "64,128,256,512,1024")]
    widths: String,
    /// Smallest log2 learning rate.
    #[arg(long, default_value_t = -14, allow_negative_numbers = true)]
    log2_lr_min: i32,
    /// Largest log2 learning rate (grid step 1).
    #[arg(long, default_value_t = 2, allow_negative_numbers = true)]
    log2_lr_max: i32,
    /// Optimizer steps per run.
    #[arg(long, default_value_t = 30)]
    steps: usize,
    /// Seeds averaged per point.
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the result JSON to stdout.
    #[arg(long)]
    json: bool,
    /// Write lrtransfer.json and lrtransfer.svg / .png into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct AbcArgs {
    /// Free exponents 'a,b,c;a,b,c;a,b,c' (input; hidden; output), overriding --parametrization.
    #[arg(long, allow_hyphen_values = true)]
    abc: Option<String>,
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value = "mup")]
    parametrization: String,
    /// sgd or adam.
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Print the verdict as JSON.
    #[arg(long)]
    json: bool,
    /// Write the figure abc.svg / abc.png into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct FunctionSpaceArgs {
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Hidden activation: relu, erf, gelu, tanh, linear.
    #[arg(long, default_value = "relu")]
    activation: String,
    /// Weight variance W_std^2.
    #[arg(long, default_value_t = 2.0)]
    weight_var: f64,
    /// Bias variance b_std^2.
    #[arg(long, default_value_t = 0.0)]
    bias_var: f64,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value = "64,128,256,512,1024")]
    widths: String,
    /// Networks per width and parametrization.
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// Training inputs on the unit circle.
    #[arg(long, default_value_t = 8)]
    train_points: usize,
    /// Gradient-descent steps T.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Step size as a fraction of the critical rate m / lambda_max of the NTK, in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    lr_fraction: f64,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the result JSON to stdout.
    #[arg(long)]
    json: bool,
    /// Write fnspace.json and the figures fnspace-fit, fnspace-loss and fnspace-gap (.svg / .png) into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct KernelArgs {
    /// CSV file of input points, one per row (a header row is skipped).
    #[arg(long, value_name = "X.csv")]
    inputs: PathBuf,
    /// Hidden layers L (each Dense then activation), then a Dense readout.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Hidden activation: relu, erf, gelu (closed forms), tanh, linear.
    #[arg(long, default_value = "relu")]
    activation: String,
    /// Weight variance W_std^2.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    weight_var: f64,
    /// Bias variance b_std^2.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    bias_var: f64,
    /// ntk or standard (neural-tangents' Dense parameterization).
    #[arg(long, default_value = "ntk")]
    parametrization: String,
    /// Hidden width n, needed by --parametrization standard.
    #[arg(long)]
    width: Option<usize>,
    /// Print {"nngp": [[...]], "ntk": [[...]]} to stdout.
    #[arg(long)]
    json: bool,
    /// Write kernels.json and the figure kernels.svg / kernels.png into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct CoordCheckArgs {
    /// sp, ntk, mup or mean_field.
    #[arg(long, default_value = "mup")]
    parametrization: String,
    /// sgd or adam.
    #[arg(long, default_value = "sgd")]
    optimizer: String,
    /// Comma-separated hidden widths, ascending.
    #[arg(long, default_value = "64,128,256,512,1024,2048,4096")]
    widths: String,
    /// Recorded steps T (t = 1 is before any update).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Base learning rate (each tensor uses lr n^-c).
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    lr: f64,
    /// Seeds averaged per width.
    #[arg(long, default_value_t = 3)]
    seeds: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = 2)]
    depth: usize,
    /// Hidden activation: relu, tanh, erf, gelu, linear.
    #[arg(long, default_value = "relu")]
    activation: String,
    /// Base seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the result JSON to stdout.
    #[arg(long)]
    json: bool,
    /// Write coordcheck.json and the figures coordcheck, change, movement (SVG and PNG) into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct TrainArgs {
    /// Read the config from a TOML or JSON file (flags given as well override it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Built-in data set: spiral, circles, xor, gaussian_mixture, teacher_student, sphere, digits.
    #[arg(long)]
    dataset: Option<String>,
    /// Train on a CSV file instead: one sample per row, features then the target column(s).
    #[arg(long, value_name = "FILE.csv")]
    data: Option<PathBuf>,
    /// With --loss mse: the last K columns of the CSV are targets.
    #[arg(long, value_name = "K")]
    target_cols: Option<usize>,
    /// Samples drawn from a synthetic data set.
    #[arg(long)]
    samples: Option<usize>,
    /// Noise std of a synthetic data set (input jitter or target noise).
    #[arg(long, allow_negative_numbers = true)]
    noise: Option<f64>,
    /// Fraction of samples held out as a test set, in [0, 1).
    #[arg(long, allow_negative_numbers = true)]
    test_fraction: Option<f64>,
    /// Input dimension of gaussian_mixture, teacher_student and sphere.
    #[arg(long)]
    dim: Option<usize>,
    /// Number of classes of gaussian_mixture.
    #[arg(long)]
    classes: Option<usize>,
    /// Width of every hidden layer.
    #[arg(long)]
    width: Option<usize>,
    /// Number of hidden layers.
    #[arg(long)]
    depth: Option<usize>,
    /// Hidden activation: relu, tanh, erf, gelu, linear.
    #[arg(long)]
    activation: Option<String>,
    /// Train without biases.
    #[arg(long)]
    no_bias: bool,
    /// Make hidden layers residual blocks h + ALPHA phi(W h + b).
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    residual: Option<f64>,
    /// abc-parametrization preset: sp, ntk, mup, mean_field.
    #[arg(long)]
    parametrization: Option<String>,
    /// Free abc exponents "a,b,c;a,b,c;a,b,c" for input; hidden; output layers (overrides --parametrization).
    #[arg(long, allow_hyphen_values = true)]
    abc: Option<String>,
    /// Weight init scale sigma_w.
    #[arg(long, allow_negative_numbers = true)]
    sigma_w: Option<f64>,
    /// Bias init scale sigma_b.
    #[arg(long, allow_negative_numbers = true)]
    sigma_b: Option<f64>,
    /// Optimizer: sgd or adam.
    #[arg(long)]
    optimizer: Option<String>,
    /// Base learning rate (each layer uses lr * n^-c).
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// SGD momentum.
    #[arg(long, allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// L2 weight decay.
    #[arg(long, allow_negative_numbers = true)]
    weight_decay: Option<f64>,
    /// Loss: mse or ce (cross-entropy), with PyTorch's mean reductions.
    #[arg(long)]
    loss: Option<String>,
    /// Optimizer steps.
    #[arg(long)]
    steps: Option<usize>,
    /// Mini-batch size (0 = full batch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Seed of every random draw.
    #[arg(long)]
    seed: Option<u64>,
    /// Network precision: f32 or f64.
    #[arg(long)]
    precision: Option<String>,
    /// Record the curves every N steps (0 = about 100 points).
    #[arg(long)]
    record_every: Option<usize>,
    /// Compute backend: gpu (WebGPU/Vulkan through wgpu, f32) or cpu. Default: gpu when an
    /// adapter exists and the precision is f32, else cpu.
    #[arg(long)]
    backend: Option<String>,
    /// Write result.json, curves.csv, curves.svg, curves.png and model.safetensors into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the result JSON (config and curves) to stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// Model file: the state dict of torch.nn.Sequential(Linear, act, ..., Linear) in safetensors.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// CSV file: one sample per row, features then the target column(s).
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// The activation between the Linear layers: relu, tanh, erf, gelu, linear.
    #[arg(long)]
    activation: String,
    /// Loss: mse (targets are the last --target-cols columns) or ce (last column is a class index).
    #[arg(long)]
    loss: String,
    /// With --loss mse: number of target columns.
    #[arg(long, value_name = "K")]
    target_cols: Option<usize>,
    /// Print {"loss", "accuracy", "outputs"} as JSON (the default prints a summary).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Train(args) => train(*args),
        Command::Eval(args) => eval(args),
        Command::Kernel(args) => kernel(args),
        Command::Fnspace(args) => fnspace(args),
        Command::Abc(args) => abc(args),
        Command::Coordcheck(args) => coordcheck(args),
        Command::Lrtransfer(args) => lrtransfer(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|_| Error::Io {
        path: path.display().to_string(),
        reason: "not UTF-8 text".into(),
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

fn target_columns(loss: Loss, target_cols: Option<usize>) -> Result<TargetColumns> {
    match (loss, target_cols) {
        (Loss::CrossEntropy, Some(_)) => Err(Error::config(
            "target-cols",
            "only applies to --loss mse; ce reads one class column",
        )),
        (Loss::CrossEntropy, None) => Ok(TargetColumns::Class),
        (Loss::Mse, k) => Ok(TargetColumns::Values(k.unwrap_or(1))),
    }
}

/// The config file (if any) with the flags given on top.
fn train_config(args: &TrainArgs) -> Result<TrainConfig> {
    let mut c = match &args.config {
        None => TrainConfig::default(),
        Some(path) => {
            let text = read_text(path)?;
            let parsed = if path.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).map_err(|e| e.to_string())
            } else {
                toml::from_str(&text).map_err(|e| e.to_string())
            };
            parsed.map_err(|reason| Error::Io {
                path: path.display().to_string(),
                reason,
            })?
        }
    };
    if let Some(name) = &args.dataset {
        c.data.dataset = DatasetName::from_name(name)?;
    }
    if args.data.is_some() {
        c.data.dataset = DatasetName::Csv;
    }
    macro_rules! set {
        ($($flag:ident => $($field:ident).+),* $(,)?) => {
            $(if let Some(v) = args.$flag.clone() { c.$($field).+ = v; })*
        };
    }
    set!(samples => data.samples, noise => data.noise, test_fraction => data.test_fraction,
        dim => data.dim, classes => data.classes, width => width, depth => depth,
        sigma_w => sigma_w, sigma_b => sigma_b, lr => optimizer.lr, momentum => optimizer.momentum,
        weight_decay => optimizer.weight_decay, steps => steps, batch_size => batch_size,
        seed => seed, record_every => record_every);
    if let Some(a) = &args.activation {
        c.activation = a.parse::<Activation>()?;
    }
    if args.no_bias {
        c.bias = false;
    }
    if args.residual.is_some() {
        c.residual = args.residual;
    }
    if let Some(p) = &args.parametrization {
        c.parametrization = Parametrization::from_name(p)?;
    }
    if let Some(abc) = &args.abc {
        c.parametrization = Parametrization::parse_abc(abc)?;
    }
    if let Some(o) = &args.optimizer {
        c.optimizer.kind = OptimizerKind::from_name(o)?;
    }
    if let Some(l) = &args.loss {
        c.loss = Loss::from_name(l)?;
    }
    if let Some(p) = &args.precision {
        c.precision = match p.as_str() {
            "f32" => Precision::F32,
            "f64" => Precision::F64,
            _ => {
                return Err(Error::config(
                    "precision",
                    format!("unknown precision '{p}' (expected f32 or f64)"),
                ));
            }
        };
    }
    c.validate()?;
    Ok(c)
}

fn train(args: TrainArgs) -> Result<()> {
    let config = train_config(&args)?;
    let (train_set, test_set) = match (&args.data, config.data.dataset) {
        (Some(path), _) => {
            let data = parse_csv(
                &read_text(path)?,
                target_columns(config.loss, args.target_cols)?,
            )
            .map_err(|e| Error::Io {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            config.split(&data)?
        }
        (None, DatasetName::Csv) => {
            return Err(Error::config(
                "data",
                "the config names a csv data set: pass the file with --data FILE.csv",
            ));
        }
        (None, _) => config.make_data()?,
    };
    let mut training = start_training(
        args.backend.as_deref(),
        &config,
        &train_set,
        test_set.as_ref(),
    )?;
    let bar = ProgressBar::new(config.steps as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {elapsed} < {eta}")
    {
        bar.set_style(style);
    }
    let result = run(&mut training, |p| {
        bar.set_position(p.done as u64);
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    let result = result?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| Error::Data(e.to_string()))?;
    let written = match &args.out {
        Some(dir) => write_outputs(dir, &result, &json, &mut training)?,
        None => Vec::new(),
    };
    if args.json {
        println!("{json}");
    } else {
        print_summary(&result, args.out.as_deref(), &written);
    }
    Ok(())
}

/// The backend the user asked for, or the default: the GPU when an adapter exists and the
/// run is f32, else the CPU with a one-line notice.
fn start_training(
    backend: Option<&str>,
    config: &TrainConfig,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<Training> {
    let gpu = |ctx: GpuContext| {
        pollster::block_on(Training::gpu(std::sync::Arc::new(ctx), config, train, test))
    };
    match backend {
        Some("cpu") => Training::new(config, train, test),
        Some("gpu") => gpu(pollster::block_on(GpuContext::new())?),
        Some(other) => Err(Error::config(
            "backend",
            format!("unknown backend '{other}' (expected cpu or gpu)"),
        )),
        None if config.precision == Precision::F64 => Training::new(config, train, test),
        None => match pollster::block_on(GpuContext::new()) {
            Ok(ctx) => gpu(ctx),
            Err(e) => {
                eprintln!("note: {e}; using the CPU backend");
                Training::new(config, train, test)
            }
        },
    }
}

/// Writes the run's files (the model first: figures may still fail on odd data) and returns
/// the names written.
fn write_outputs(
    dir: &Path,
    result: &TrainResult,
    json: &str,
    training: &mut Training,
) -> Result<Vec<&'static str>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut written = Vec::new();
    write(&dir.join("result.json"), json.as_bytes())?;
    written.push("result.json");
    write(
        &dir.join("curves.csv"),
        plot::training::curves_csv(result).as_bytes(),
    )?;
    written.push("curves.csv");
    match pollster::block_on(training.model_file()) {
        Ok(bytes) => {
            write(&dir.join("model.safetensors"), &bytes)?;
            written.push("model.safetensors");
        }
        // Residual nets have no Sequential layout: say so, keep the other outputs.
        Err(e) => eprintln!("note: model not saved: {e}"),
    }
    let panels = plot::training::curves(result)?;
    let (width, height) = (500 * panels.len() as u32, 420);
    write(
        &dir.join("curves.svg"),
        plot::to_svg(&panels, width, height)?.as_bytes(),
    )?;
    write(
        &dir.join("curves.png"),
        &plot::to_png(&panels, width * 2, height * 2)?,
    )?;
    written.extend(["curves.svg", "curves.png"]);
    Ok(written)
}

fn print_summary(result: &TrainResult, out: Option<&Path>, written: &[&str]) {
    let c = &result.curves;
    let last = |v: &[f64]| v.last().map_or("-".to_string(), |x| format!("{x:.4}"));
    println!(
        "{} steps, {} parameters: train loss {}, train accuracy {}, test loss {}, test accuracy {}",
        result.steps_done,
        result.num_params,
        last(&c.train_loss),
        last(&c.train_accuracy),
        last(&c.test_loss),
        last(&c.test_accuracy),
    );
    if let Some(dir) = out {
        println!("wrote {} to {}", written.join(", "), dir.display());
    }
}

fn eval(args: EvalArgs) -> Result<()> {
    let activation: Activation = args.activation.parse()?;
    let loss = Loss::from_name(&args.loss)?;
    let columns = target_columns(loss, args.target_cols)?;
    let mlp = from_safetensors(&read_bytes(&args.model)?, activation).map_err(|e| Error::Io {
        path: args.model.display().to_string(),
        reason: e.to_string(),
    })?;
    let data: Dataset = parse_csv(&read_text(&args.data)?, columns).map_err(|e| Error::Io {
        path: args.data.display().to_string(),
        reason: e.to_string(),
    })?;
    let outputs = mlp.predict(&data.features)?;
    let (value, acc) = match &data.targets {
        Targets::Classes { labels, .. } => (
            loss.value(&outputs, Target::Classes(labels))?,
            Some(accuracy(&outputs, labels)),
        ),
        Targets::Values(values) => (loss.value(&outputs, Target::Values(values))?, None),
    };
    let rows: Vec<Vec<f64>> = outputs
        .column_iter()
        .map(|c| c.iter().copied().collect())
        .collect();
    if args.json {
        let json = serde_json::json!({ "loss": value, "accuracy": acc, "outputs": rows });
        println!("{json}");
    } else {
        let acc = acc.map_or("-".into(), |a| format!("{a:.4}"));
        println!("{} samples: loss {value:.6}, accuracy {acc}", data.len());
    }
    Ok(())
}

fn kernel(args: KernelArgs) -> Result<()> {
    let parametrization = match (args.parametrization.as_str(), args.width) {
        ("ntk", _) => KernelParametrization::Ntk,
        ("standard", Some(width)) => KernelParametrization::Standard { width },
        ("standard", None) => {
            return Err(Error::config(
                "width",
                "--parametrization standard needs the hidden --width n",
            ));
        }
        (other, _) => {
            return Err(Error::config(
                "parametrization",
                format!("unknown kernel parametrization '{other}' (expected ntk or standard)"),
            ));
        }
    };
    let spec = KernelSpec {
        depth: args.depth,
        activation: args.activation.parse()?,
        weight_var: args.weight_var,
        bias_var: args.bias_var,
        parametrization,
    };
    let x = parse_points(&read_text(&args.inputs)?).map_err(|e| Error::Io {
        path: args.inputs.display().to_string(),
        reason: e.to_string(),
    })?;
    let kernels = analytic(&spec, &x)?;
    let rows = |m: &nalgebra::DMatrix<f64>| -> Vec<Vec<f64>> {
        m.row_iter().map(|r| r.iter().copied().collect()).collect()
    };
    let json =
        serde_json::json!({ "spec": spec, "nngp": rows(&kernels.nngp), "ntk": rows(&kernels.ntk) });
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write(&dir.join("kernels.json"), json.to_string().as_bytes())?;
        let panels = plot::width::kernel_maps(&kernels)?;
        write_figure(dir, "kernels", &panels)?;
    }
    if args.json {
        println!("{json}");
    } else {
        println!("{n} x {n} NNGP and NTK of {spec:?}", n = x.ncols());
    }
    Ok(())
}

fn parse_widths(text: &str) -> Result<Vec<usize>> {
    text.split(',')
        .map(|w| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| Error::config("widths", format!("'{w}' is not a whole number")))
        })
        .collect()
}

/// Runs a stepper to the end with a progress bar.
fn run_with_bar<S: theorylab::core::stepper::Stepper>(stepper: &mut S) -> Result<S::Output> {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {elapsed} < {eta}")
    {
        bar.set_style(style);
    }
    let result = run(stepper, |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    result
}

fn lrtransfer(args: LrTransferArgs) -> Result<()> {
    let config = LrTransferConfig {
        parametrization: Parametrization::from_name(&args.parametrization)?,
        optimizer: OptimizerKind::from_name(&args.optimizer)?,
        widths: parse_widths(&args.widths)?,
        log2_lr_min: args.log2_lr_min,
        log2_lr_max: args.log2_lr_max,
        steps: args.steps,
        seeds: args.seeds,
        depth: args.depth,
        seed: args.seed,
        ..LrTransferConfig::default()
    };
    let result = run_with_bar(&mut LrTransfer::<f32>::new(&config)?)?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| Error::Data(e.to_string()))?;
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write(&dir.join("lrtransfer.json"), json.as_bytes())?;
        write_figure(dir, "lrtransfer", &plot::width::lr_transfer(&[&result])?)?;
    }
    if args.json {
        println!("{json}");
    } else {
        for (n, &i) in result.widths.iter().zip(&result.argmin) {
            println!("width {n}: best learning rate 2^{}", result.log2_lrs[i]);
        }
    }
    Ok(())
}

fn abc(args: AbcArgs) -> Result<()> {
    let optimizer = OptimizerKind::from_name(&args.optimizer)?;
    let parametrization = match &args.abc {
        Some(text) => Parametrization::parse_abc(text)?,
        None => Parametrization::from_name(&args.parametrization)?,
    };
    if args.depth == 0 {
        return Err(Error::config("depth", "must be at least 1 hidden layer"));
    }
    let rules = parametrization.rules(optimizer);
    let verdict = classify(&rules, args.depth, optimizer);
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write_figure(
            dir,
            "abc",
            &plot::width::abc_map(&rules, args.depth, optimizer)?,
        )?;
    }
    if args.json {
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

fn fnspace(args: FunctionSpaceArgs) -> Result<()> {
    let config = FunctionSpaceConfig {
        spec: KernelSpec {
            depth: args.depth,
            activation: args.activation.parse()?,
            weight_var: args.weight_var,
            bias_var: args.bias_var,
            parametrization: KernelParametrization::Ntk,
        },
        widths: parse_widths(&args.widths)?,
        seeds: args.seeds,
        train_points: args.train_points,
        steps: args.steps,
        lr_fraction: args.lr_fraction,
        seed: args.seed,
        ..FunctionSpaceConfig::default()
    };
    let result = run_with_bar(&mut FunctionSpace::new(&config)?)?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| Error::Data(e.to_string()))?;
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write(&dir.join("fnspace.json"), json.as_bytes())?;
        write_figure(
            dir,
            "fnspace-fit",
            &plot::width::function_space_fit(&result)?,
        )?;
        write_figure(
            dir,
            "fnspace-loss",
            &plot::width::function_space_loss(&result)?,
        )?;
        write_figure(
            dir,
            "fnspace-gap",
            &plot::width::linearization_gap(&result)?,
        )?;
    }
    if args.json {
        println!("{json}");
    } else {
        println!("step eta = {:.4} (NTK-GP)", result.lr);
        for runs in &result.runs {
            for (n, gap) in runs.widths.iter().zip(&runs.linearization_gap) {
                println!(
                    "{:?} width {n}: ||f_T - f_T^lin|| / ||f_T^lin - f_0|| = {gap:.4}",
                    runs.parametrization
                );
            }
        }
    }
    Ok(())
}

fn coordcheck(args: CoordCheckArgs) -> Result<()> {
    let widths = parse_widths(&args.widths)?;
    let config = CoordCheckConfig {
        parametrization: Parametrization::from_name(&args.parametrization)?,
        optimizer: OptimizerKind::from_name(&args.optimizer)?,
        lr: args.lr,
        widths,
        steps: args.steps,
        seeds: args.seeds,
        depth: args.depth,
        activation: args.activation.parse()?,
        seed: args.seed,
        ..CoordCheckConfig::default()
    };
    let result = run_with_bar(&mut CoordCheck::<f32>::new(&config)?)?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| Error::Data(e.to_string()))?;
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        write(&dir.join("coordcheck.json"), json.as_bytes())?;
        write_figure(dir, "coordcheck", &plot::width::coordinate_check(&result)?)?;
        write_figure(dir, "change", &plot::width::coordinate_change(&result)?)?;
        write_figure(dir, "movement", &plot::width::movement(&result)?)?;
    }
    if args.json {
        println!("{json}");
    } else {
        for (i, name) in result.layers.iter().enumerate() {
            let last = config.steps - 1;
            let points: Vec<(f64, f64)> = result
                .widths
                .iter()
                .zip(&result.delta_size)
                .map(|(&n, d)| (n as f64, d[last][i]))
                .collect();
            match power_law_fit(&points) {
                Some((p, _)) => println!("{name}: |x_T - x_1| ~ n^{p:.2}"),
                None => println!("{name}: no change"),
            }
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        reason: e.to_string(),
    })
}

/// Writes `stem.svg` and `stem.png` (2x) of a row of panels.
fn write_figure(dir: &Path, stem: &str, panels: &[plot::Figure]) -> Result<()> {
    let (width, height) = (480 * panels.len() as u32, 420);
    write(
        &dir.join(format!("{stem}.svg")),
        plot::to_svg(panels, width, height)?.as_bytes(),
    )?;
    write(
        &dir.join(format!("{stem}.png")),
        &plot::to_png(panels, width * 2, height * 2)?,
    )
}
