//! The Playground room's commands: train a network (flags or a TOML/JSON config, on a built-in
//! data set or a CSV file, on either backend) and evaluate a saved model.

use super::files::{create_dir, in_file, read_bytes, read_config, read_text, write};
use super::limits;
use super::run::{run_with_bar, to_json, write_figures};
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use theorylab::core::activation::Activation;
use theorylab::core::data::{Dataset, DatasetName, TargetColumns, Targets, parse_csv};
use theorylab::core::loss::{Loss, Target, accuracy};
use theorylab::core::model_file::from_safetensors;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::train::{Backend, Precision, TrainConfig, TrainResult};
use theorylab::error::{Error, Result};
use theorylab::experiments::playground::{self, training::Training};
use theorylab::gpu::GpuContext;

/// Flags of `train`; each one given overrides the config file (or `TrainConfig::default()`).
#[derive(Args)]
pub struct TrainArgs {
    /// Read the config from a TOML or JSON file (flags given as well override it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Built-in data set: spiral, circles, xor, gaussian_mixture, teacher_student, sphere, digits.
    #[arg(long)]
    dataset: Option<DatasetName>,
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
    activation: Option<Activation>,
    /// Train without biases.
    #[arg(long)]
    no_bias: bool,
    /// Make hidden layers residual blocks h + ALPHA phi(W h + b).
    #[arg(long, value_name = "ALPHA", allow_negative_numbers = true)]
    residual: Option<f64>,
    /// abc-parametrization preset: sp, ntk, mup, mean_field.
    #[arg(long)]
    parametrization: Option<Parametrization>,
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
    optimizer: Option<OptimizerKind>,
    /// Base learning rate (each layer uses lr * n^-c).
    #[arg(long, allow_negative_numbers = true)]
    lr: Option<f64>,
    /// SGD momentum.
    #[arg(long, allow_negative_numbers = true)]
    momentum: Option<f64>,
    /// L2 weight decay.
    #[arg(long, allow_negative_numbers = true)]
    weight_decay: Option<f64>,
    /// Loss: mse or cross_entropy (ce), with PyTorch's mean reductions.
    #[arg(long)]
    loss: Option<Loss>,
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
    precision: Option<Precision>,
    /// Record the curves every N steps (0 = about 100 points).
    #[arg(long)]
    record_every: Option<usize>,
    /// Compute backend: gpu (WebGPU/Vulkan through wgpu, f32) or cpu. Default: gpu when an
    /// adapter exists and the precision is f32, else cpu.
    #[arg(long)]
    backend: Option<Backend>,
    /// Write result.json, curves.csv, curves.svg, curves.png and model.safetensors into DIR.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the result JSON (config and curves) to stdout.
    #[arg(long)]
    json: bool,
}

pub(super) fn target_columns(loss: Loss, target_cols: Option<usize>) -> Result<TargetColumns> {
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
    let mut c: TrainConfig = match &args.config {
        None => TrainConfig::default(),
        Some(path) => read_config(path)?,
    };
    if args.data.is_some() {
        c.data.dataset = DatasetName::Csv;
    }
    macro_rules! set {
        ($($flag:ident => $($field:ident).+),* $(,)?) => {
            $(if let Some(v) = args.$flag.clone() { c.$($field).+ = v; })*
        };
    }
    set!(dataset => data.dataset, samples => data.samples, noise => data.noise,
        test_fraction => data.test_fraction, dim => data.dim, classes => data.classes,
        width => width, depth => depth, activation => activation, sigma_w => sigma_w,
        sigma_b => sigma_b, optimizer => optimizer.kind, lr => optimizer.lr,
        momentum => optimizer.momentum, weight_decay => optimizer.weight_decay, loss => loss,
        steps => steps, batch_size => batch_size, seed => seed, precision => precision,
        record_every => record_every, parametrization => parametrization);
    if args.no_bias {
        c.bias = false;
    }
    if args.residual.is_some() {
        c.residual = args.residual;
    }
    if let Some(abc) = &args.abc {
        c.parametrization = Parametrization::parse_abc(abc)?;
    }
    c.validate()?;
    Ok(c)
}

/// `theorylab train`.
pub fn train(args: TrainArgs) -> Result<()> {
    let config = train_config(&args)?;
    let budget = limits::budget();
    if args.data.is_none() {
        let (rows, input, outputs) = config.data.shape();
        budget.check(&config.cost(rows, input, outputs))?;
    }
    let (train_set, test_set) = match (&args.data, config.data.dataset) {
        (Some(path), _) => {
            let columns = target_columns(config.loss, args.target_cols)?;
            let data = parse_csv(&read_text(path)?, columns).map_err(in_file(path))?;
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
    let rows = train_set.len() + test_set.as_ref().map_or(0, Dataset::len);
    budget.check(&config.cost(rows, train_set.input_dim(), train_set.output_dim()))?;
    let mut training = start_training(args.backend, &config, &train_set, test_set.as_ref())?;
    let result = run_with_bar(&mut training)?;
    let json = to_json(&result)?;
    let written = match &args.out {
        Some(dir) => write_outputs(
            dir,
            &result,
            &json,
            &mut training,
            &train_set,
            test_set.as_ref(),
        )?,
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
    backend: Option<Backend>,
    config: &TrainConfig,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<Training> {
    let gpu =
        |ctx: GpuContext| pollster::block_on(Training::gpu(Arc::new(ctx), config, train, test));
    match backend {
        Some(Backend::Cpu) => Training::new(config, train, test),
        Some(Backend::Gpu) => gpu(pollster::block_on(GpuContext::new())?),
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
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<Vec<String>> {
    create_dir(dir)?;
    let mut written: Vec<String> = Vec::new();
    write(&dir.join("result.json"), json.as_bytes())?;
    written.push("result.json".into());
    match pollster::block_on(training.model_file()) {
        Ok(bytes) => {
            write(&dir.join("model.safetensors"), &bytes)?;
            written.push("model.safetensors".into());
        }
        // Residual nets have no Sequential layout: say so, keep the other outputs.
        Err(e) => eprintln!("note: model not saved: {e}"),
    }
    write_figures(dir, &[playground::curves_figure(result)?])?;
    written.extend([
        "curves.csv".into(),
        "curves.svg".into(),
        "curves.png".into(),
    ]);
    // Points of the plane: the Playground page's maps too.
    if train.input_dim() == 2 {
        let network = pollster::block_on(training.network())?;
        let maps = playground::figures(&network, train, test, result.config.loss)?;
        write_figures(dir, &maps)?;
        written.extend(maps.iter().map(|f| format!("{}.svg/.png/.csv", f.stem)));
    }
    Ok(written)
}

fn print_summary(result: &TrainResult, out: Option<&Path>, written: &[String]) {
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

#[derive(Args)]
pub struct EvalArgs {
    /// Model file: the state dict of torch.nn.Sequential(Linear, act, ..., Linear) in safetensors.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// CSV file: one sample per row, features then the target column(s).
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// The activation between the Linear layers: relu, tanh, erf, gelu, linear.
    #[arg(long)]
    activation: Activation,
    /// Loss: mse (targets are the last --target-cols columns) or cross_entropy (ce: the last column is a class index).
    #[arg(long)]
    loss: Loss,
    /// With --loss mse: number of target columns.
    #[arg(long, value_name = "K")]
    target_cols: Option<usize>,
    /// Print {"loss", "accuracy", "outputs"} as JSON (the default prints a summary).
    #[arg(long)]
    json: bool,
}

/// `theorylab eval`.
pub fn eval(args: EvalArgs) -> Result<()> {
    let columns = target_columns(args.loss, args.target_cols)?;
    let mlp = from_safetensors(&read_bytes(&args.model)?, args.activation)
        .map_err(in_file(&args.model))?;
    let data: Dataset = parse_csv(&read_text(&args.data)?, columns).map_err(in_file(&args.data))?;
    limits::budget().check(&mlp.cost(1, data.len(), 8))?;
    let outputs = mlp.predict(&data.features)?;
    let (value, acc) = match &data.targets {
        Targets::Classes { labels, .. } => (
            args.loss.value(&outputs, Target::Classes(labels))?,
            Some(accuracy(&outputs, labels)),
        ),
        Targets::Values(values) => (args.loss.value(&outputs, Target::Values(values))?, None),
    };
    if !value.is_finite() {
        return Err(Error::Io {
            path: args.data.display().to_string(),
            reason: format!(
                "the loss of {} on these rows is {value}: the model's outputs overflow f64 on them (inputs or weights too large)",
                args.model.display()
            ),
        });
    }
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
