//! The Collapse room's commands: a training run into the terminal phase (`collapse`) and the
//! metrics of features made elsewhere (`nc-metrics`). Every flag's default is the experiment
//! config's `Default`.

use super::files::read_text;
use super::limits;
use super::run::{Output, Widths, gpu, report, run_with_bar, to_json};
use clap::Args;
use std::path::{Path, PathBuf};
use theorylab::core::activation::Activation;
use theorylab::core::loss::Loss;
use theorylab::core::train::Backend;
use theorylab::error::Result;
use theorylab::experiments::Experiment;
use theorylab::experiments::collapse::CollapseRun;
use theorylab::experiments::collapse::own::{Named, OwnFeatures};
use theorylab::experiments::collapse::{CollapseConfig, CollapseData};
use theorylab::gpu::GpuEnsemble;

fn defaults() -> CollapseConfig {
    CollapseConfig::default()
}

#[derive(Args)]
pub struct CollapseArgs {
    /// Where the features come from: an MLP on a Gaussian mixture or optical digits, or the unconstrained features model.
    #[arg(long, default_value_t = defaults().dataset)]
    dataset: CollapseData,
    /// Classes C.
    #[arg(long, default_value_t = defaults().classes)]
    classes: usize,
    /// Class sizes n1,n2,... (overrides --samples-per-class and --imbalance).
    #[arg(long)]
    class_sizes: Option<Widths>,
    /// Size of the majority classes.
    #[arg(long, default_value_t = defaults().samples_per_class)]
    samples_per_class: usize,
    /// Majority / minority size ratio R (the last floor(C/2) classes are minorities).
    #[arg(long, default_value_t = defaults().imbalance, allow_negative_numbers = true)]
    imbalance: f64,
    /// Input dimension of the Gaussian mixture.
    #[arg(long, default_value_t = defaults().dim)]
    dim: usize,
    /// Distance of the mixture's means from the origin (unit noise).
    #[arg(long, default_value_t = defaults().separation, allow_negative_numbers = true)]
    separation: f64,
    /// Loss: mse or ce.
    #[arg(long, default_value_t = defaults().loss)]
    loss: Loss,
    /// Weight decay lambda_W.
    #[arg(long, default_value_t = defaults().weight_decay, allow_negative_numbers = true)]
    weight_decay: f64,
    /// Feature decay lambda_H (unconstrained features model only).
    #[arg(long, default_value_t = defaults().feature_decay, allow_negative_numbers = true)]
    feature_decay: f64,
    /// Biases on every layer and the classifier (the default is bias-free: the closed form is
    /// for bias-free MSE).
    #[arg(long, overrides_with = "no_bias")]
    bias: bool,
    /// No biases anywhere (the default).
    #[arg(long)]
    no_bias: bool,
    /// Hidden activation (linear: a deep linear network).
    #[arg(long, default_value_t = defaults().activation)]
    activation: Activation,
    /// Hidden width n; the feature dimension d of the features model.
    #[arg(long, default_value_t = defaults().width)]
    width: usize,
    /// Hidden layers.
    #[arg(long, default_value_t = defaults().depth)]
    depth: usize,
    /// Linear layers at the end: the MLP's last k hidden layers have no activation; the
    /// features model gets a deep linear head of k d x d layers before the classifier.
    #[arg(long, value_name = "K", default_value_t = defaults().linear_layers)]
    linear_layers: usize,
    /// Epochs (gradient steps for the features model); without it an MLP trains 300 epochs and the features model until it reaches the closed form (where one applies) or a stationary point.
    #[arg(long)]
    epochs: Option<usize>,
    /// Learning rate.
    #[arg(long, default_value_t = defaults().lr, allow_negative_numbers = true)]
    lr: f64,
    /// Mini-batch size.
    #[arg(long, default_value_t = defaults().batch_size)]
    batch_size: usize,
    /// Seed.
    #[arg(long, default_value_t = defaults().seed)]
    seed: u64,
    /// Where an MLP trains: cpu (f64) or gpu (wgpu, f32); the features model and the measures
    /// run on the CPU in f64 either way.
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[command(flatten)]
    output: Output,
}

fn show(value: Option<f64>) -> String {
    value.map_or("undefined".into(), |v| format!("{v:.3e}"))
}

/// `theorylab collapse`.
pub fn collapse(a: CollapseArgs) -> Result<()> {
    let config = CollapseConfig {
        dataset: a.dataset,
        classes: a.classes,
        class_sizes: a.class_sizes.map(|w| w.0).unwrap_or_default(),
        samples_per_class: a.samples_per_class,
        imbalance: a.imbalance,
        dim: a.dim,
        separation: a.separation,
        loss: a.loss,
        weight_decay: a.weight_decay,
        feature_decay: a.feature_decay,
        bias: if a.bias || a.no_bias {
            a.bias
        } else {
            defaults().bias
        },
        activation: a.activation,
        width: a.width,
        depth: a.depth,
        linear_layers: a.linear_layers,
        epochs: a.epochs,
        lr: a.lr,
        batch_size: a.batch_size,
        seed: a.seed,
    };
    limits::budget().check(&config.cost()?)?;
    let result = match a.backend {
        Backend::Cpu => run_with_bar(&mut CollapseRun::new(&config)?)?,
        Backend::Gpu => run_with_bar(&mut CollapseRun::<GpuEnsemble>::on(gpu()?, &config)?)?,
    };
    report::<CollapseConfig>(&result, &a.output, |r| {
        let last = r.epochs.len() - 1;
        println!(
            "epoch {}: train accuracy {:.4}, NC1 {} (at init {}), NC2 equiangular {}, NC3 {}, NC4 {}",
            r.epochs[last],
            r.train_accuracy[last],
            show(r.nc1[last]),
            show(r.nc1[0]),
            show(r.nc2_equiangular[last]),
            show(r.nc3[last]),
            show(r.nc4[last]),
        );
        match r.zero_error_epoch {
            Some(e) => println!("zero training error from epoch {e}"),
            None => println!("training error never reached zero"),
        }
        if let Some(t) = &r.theory {
            println!(
                "||w_k||^2 measured {:?}, closed form {:?} (minority collapse below n_k = {:.1})",
                r.last.classifier_norms_sq, t.classifier_norms_sq, t.collapse_threshold
            );
        }
        if let Some(why) = &r.convergence {
            println!("{why}");
        }
        for note in &r.last.notes {
            println!("note: {note}");
        }
    })
}

#[derive(Args)]
pub struct NcMetricsArgs {
    /// Features, one sample per row (CSV).
    #[arg(long)]
    features: PathBuf,
    /// Labels 0..C-1, one per row (CSV).
    #[arg(long)]
    labels: PathBuf,
    /// Classifier W, C rows of d numbers (CSV).
    #[arg(long)]
    classifier: Option<PathBuf>,
    /// Classifier bias b, C numbers, one per row (CSV).
    #[arg(long)]
    bias: Option<PathBuf>,
    /// Print the metrics as JSON.
    #[arg(long)]
    json: bool,
}

fn named((name, text): &(String, String)) -> Named<'_> {
    Named { name, text }
}

/// `theorylab nc-metrics`.
pub fn nc_metrics_command(a: NcMetricsArgs) -> Result<()> {
    let text = |p: &Path| read_text(p).map(|t| (p.display().to_string(), t));
    let optional = |p: &Option<PathBuf>| p.as_deref().map(text).transpose();
    let (features, labels) = (text(&a.features)?, text(&a.labels)?);
    let (classifier, bias) = (optional(&a.classifier)?, optional(&a.bias)?);
    let own = OwnFeatures::read(
        named(&features),
        named(&labels),
        classifier.as_ref().map(named),
        bias.as_ref().map(named),
    )?;
    let metrics = own.metrics()?;
    if a.json {
        println!("{}", to_json(&metrics)?);
    } else {
        println!(
            "NC1 {}  NC2 equinorm means {}  equinorm classifier {}  equiangular {}  cos std {}  NC3 {}  NC4 {}",
            show(metrics.nc1),
            show(metrics.nc2_equinorm_means),
            show(metrics.nc2_equinorm_classifier),
            show(metrics.nc2_equiangular),
            show(metrics.nc2_cos_std),
            show(metrics.nc3),
            show(metrics.nc4)
        );
        for note in &metrics.notes {
            println!("note: {note}");
        }
    }
    Ok(())
}
