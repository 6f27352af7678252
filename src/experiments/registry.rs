//! Every experiment by name: the one table that the CLI's `list` / `config` / `run`, the page
//! and the Python package go through, so that a run exported from the page replays natively.
//!
//! An [`Entry`] erases an [`Experiment`]'s types: configs come in as JSON values (a TOML file
//! is read into one), results go out as the JSON text the experiment's own subcommand prints,
//! and a running experiment is a [`Session`] whatever its config, result and backend.

use super::session::{Started, to_json, to_value};
use super::{Experiment, FigureData, collapse, connectivity, depth, landscape, width};
use crate::core::budget::Cost;
use crate::core::train::TrainConfig;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use serde_json::Value;
use std::sync::Arc;

/// One experiment as the registry knows it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// Its name: the CLI subcommand and the stem of its result file.
    pub name: &'static str,
    /// The room that shows it (a [`super::RoomInfo`] path).
    pub room: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    default_config: fn() -> Result<Value>,
    resolve: fn(Value) -> Result<Value>,
    default_text: fn(Format) -> Result<String>,
    price: fn(Value) -> Result<Cost>,
    start: fn(Value) -> Started,
    start_on_gpu: fn(Value, Arc<GpuContext>) -> Option<Started>,
    figures: fn(&str) -> Result<Vec<FigureData>>,
}

/// A config file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON, as the page exports it.
    Json,
    /// TOML.
    Toml,
}

impl Entry {
    const fn of<E: Experiment + 'static>(room: &'static str, summary: &'static str) -> Self {
        Entry {
            name: E::NAME,
            room,
            summary,
            default_config: || to_value(&E::default()),
            resolve: |config| to_value(&config_of::<E>(config)?),
            default_text: default_text::<E>,
            price: |config| config_of::<E>(config)?.cost(),
            start: |config| {
                Ok(super::session::boxed::<E, _>(
                    config_of::<E>(config)?.start()?,
                ))
            },
            start_on_gpu: |config, gpu| match config_of::<E>(config) {
                Ok(c) => c.start_on_gpu(gpu),
                Err(e) => Some(Err(e)),
            },
            figures: figures_of::<E>,
        }
    }

    /// The default config, as a JSON value.
    pub fn default_config(&self) -> Result<Value> {
        (self.default_config)()
    }

    /// The whole config that `config` describes (its keys over the defaults), every key named
    /// and typed as the experiment reads it.
    pub fn resolve(&self, config: Value) -> Result<Value> {
        (self.resolve)(config)
    }

    /// The default config as text in `format`, its fields in the config's order.
    pub fn default_text(&self, format: Format) -> Result<String> {
        (self.default_text)(format)
    }

    /// Validates `config` (keys over the defaults, every bad one named) and prices the run.
    pub fn price(&self, config: Value) -> Result<Cost> {
        (self.price)(config)
    }

    /// Validates `config` and starts the run on the CPU.
    pub fn start(&self, config: Value) -> Started {
        (self.start)(config)
    }

    /// Validates `config` and starts the run on `gpu`; `None` where this experiment runs on
    /// the CPU only.
    pub fn start_on_gpu(&self, config: Value, gpu: Arc<GpuContext>) -> Option<Started> {
        (self.start_on_gpu)(config, gpu)
    }

    /// The figures of a result given as the JSON its run wrote.
    pub fn figures(&self, result_json: &str) -> Result<Vec<FigureData>> {
        (self.figures)(result_json)
    }
}

fn default_text<E: Experiment>(format: Format) -> Result<String> {
    let config = E::default();
    match format {
        Format::Json => {
            serde_json::to_string_pretty(&config).map_err(|e| Error::Data(e.to_string()))
        }
        #[cfg(not(target_arch = "wasm32"))]
        Format::Toml => toml::to_string(&config).map_err(|e| Error::Data(e.to_string())),
        #[cfg(target_arch = "wasm32")]
        Format::Toml => Err(Error::config(
            "format",
            "TOML is written by the native CLI only",
        )),
    }
}

/// The config `value` describes: a table of settings, each one over the config's defaults
/// (an empty table is the defaults); a key the config lacks or a bad value is named.
pub fn config_of<E: Experiment>(value: Value) -> Result<E> {
    let Value::Object(over) = value else {
        return Err(Error::config(
            "config",
            format!(
                "a config is a table of settings (a JSON object or a TOML table), not {}",
                kind(&value)
            ),
        ));
    };
    let layered = super::permalink::over_defaults::<E>(over)?;
    serde_path_to_error::deserialize(layered).map_err(|e| {
        let key = e.path().to_string();
        Error::config(&key, e.into_inner().to_string())
    })
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

fn figures_of<E: Experiment>(result_json: &str) -> Result<Vec<FigureData>> {
    let result: E::Result = serde_json::from_str(result_json)
        .map_err(|e| Error::Data(format!("not a result of {}: {e}", E::NAME)))?;
    E::figures(&result)
}

/// Every experiment, grouped by room in the nav bar's order.
pub const EXPERIMENTS: &[Entry] = &[
    Entry::of::<TrainConfig>(
        "playground",
        "train an MLP on points of the plane (or digits, teacher-student): loss and accuracy curves",
    ),
    Entry::of::<width::coordcheck::CoordCheckConfig>(
        "width",
        "coordinate check (as mup's): layer output sizes over training steps vs width",
    ),
    Entry::of::<width::lr_transfer::LrTransferConfig>(
        "width",
        "learning-rate transfer (muTransfer): loss after T steps vs log2 learning rate, per width",
    ),
    Entry::of::<width::kernel_convergence::KernelConvergenceConfig>(
        "width",
        "empirical NTK and NNGP of finite networks against the analytic kernels, error vs width",
    ),
    Entry::of::<width::function_space::FunctionSpaceConfig>(
        "width",
        "training in function space: NTK and muP networks beside the infinite-width prediction",
    ),
    Entry::of::<depth::ensemble::EnsembleConfig>(
        "depth",
        "random networks at init: per-layer moments, kurtosis and NTK fluctuations vs finite-width theory",
    ),
    Entry::of::<depth::aspect::AspectConfig>(
        "depth",
        "output kurtosis and NTK fluctuations over depths and widths: the collapse onto L/n",
    ),
    Entry::of::<depth::criticality::CriticalityConfig>(
        "depth",
        "order to chaos: q*, c*, chi_1, depth scales and the phase diagram",
    ),
    Entry::of::<depth::residual::ResidualConfig>(
        "depth",
        "the readout's excess kurtosis against the skip weight, beside the vertex recursion",
    ),
    Entry::of::<depth::trained::TrainedConfig>(
        "depth",
        "networks trained at a fixed parameter budget: test loss vs L/n beside PDLT's r*",
    ),
    Entry::of::<collapse::CollapseConfig>(
        "collapse",
        "neural collapse: NC1-NC4 into the terminal phase, beside the features model's closed form",
    ),
    Entry::of::<connectivity::LmcConfig>(
        "connectivity",
        "the loss barrier between two networks, naive and after Git Re-Basin's weight matching",
    ),
    Entry::of::<connectivity::sweep::LmcSweepConfig>(
        "connectivity",
        "the loss barrier against width or spawn step, naive and matched, over pairs of seeds",
    ),
    Entry::of::<landscape::surface::SurfaceConfig>(
        "landscape",
        "the loss on a plane around a solution: filter-normalized random or PCA directions",
    ),
    Entry::of::<landscape::spectrum::SpectrumConfig>(
        "landscape",
        "the Hessian at a solution: top eigenvalues, trace and spectral density, per layer",
    ),
    Entry::of::<landscape::sharpness::SharpnessConfig>(
        "landscape",
        "the edge of stability: sharpness during full-batch gradient descent against 2/eta",
    ),
    Entry::of::<landscape::intrinsic::IntrinsicConfig>(
        "landscape",
        "intrinsic dimension: accuracy of training in random subspaces of growing dimension",
    ),
];

/// The experiment called `name`; an unknown name is an error listing every name.
pub fn find(name: &str) -> Result<&'static Entry> {
    EXPERIMENTS.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
        Error::config(
            "experiment",
            format!(
                "no experiment is called '{name}'; the experiments are {}",
                names.join(", ")
            ),
        )
    })
}

/// A page export or a config: the config of `name`'s run. A page's JSON export carries the
/// config that made it under `"run"` (`{"run": {"experiment": ..., "config": {...}}, ...}`);
/// anything else is the config itself.
pub fn config_in(name: &str, value: Value) -> Result<Value> {
    let Some(run) = value.get("run").filter(|r| r.get("experiment").is_some()) else {
        return Ok(value);
    };
    let made_by = run.get("experiment").and_then(Value::as_str).unwrap_or("?");
    if made_by != name {
        return Err(Error::config(
            "config",
            format!("this export is of a {made_by} run, not of {name}: run it as {made_by}"),
        ));
    }
    run.get("config")
        .cloned()
        .ok_or_else(|| Error::config("config", "the export's run has no config"))
}

/// A result's JSON as the page exports it: the result with the run that made it under `"run"`
/// (its experiment's name and config), which `config_in` reads back. Written as text, the run
/// first, so that no JSON value of the result is built (in the page, a `serde_json::Value`
/// serializer for every result type would cost 30 KB of wasm).
pub fn export_json<E: Experiment>(config: &E, result: &E::Result) -> Result<String> {
    let config = serde_json::to_string(config).map_err(|e| Error::Data(e.to_string()))?;
    Ok(with_run(E::NAME, &config, to_json(result)?))
}

/// `result` (a JSON object's text) with `"run": {"experiment": name, "config": config}` first.
fn with_run(name: &str, config: &str, result: String) -> String {
    let Some(fields) = result.strip_prefix('{') else {
        return result;
    };
    let comma = if fields.trim() == "}" { "" } else { "," };
    format!("{{\n  \"run\": {{\"experiment\": \"{name}\", \"config\": {config}}}{comma}{fields}")
}
