//! The one path every experiment takes on the command line: run its session with a progress
//! bar, then print its JSON (`--json`) and write its files (`--out DIR`): the result JSON and
//! every figure as SVG, PNG (2x) and CSV, the same files the page's export buttons give.

use super::files::{create_dir, write};
use super::limits;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use theorylab::core::stepper::{Stepper, run};
use theorylab::core::train::Backend;
use theorylab::error::{Error, Result};
pub use theorylab::experiments::session::to_json;
use theorylab::experiments::{Experiment, FigureData};
use theorylab::gpu::GpuContext;

/// The wgpu device (Vulkan, Metal, DX12 or GL; a software one such as lavapipe counts).
pub fn gpu() -> Result<std::sync::Arc<GpuContext>> {
    Ok(std::sync::Arc::new(pollster::block_on(GpuContext::new())?))
}

/// Where a command's results go.
#[derive(Args, Clone, Debug)]
pub struct Output {
    /// Print the result JSON to stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the result JSON and every figure (SVG, PNG at 2x, CSV) into DIR.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs a stepper to the end with a progress bar on the terminal.
pub fn run_with_bar<S: Stepper>(stepper: &mut S) -> Result<S::Output> {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {elapsed} < {eta}")
    {
        bar.set_style(style);
    }
    let result = run(stepper, |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        if limits::stopped() {
            eprintln!(
                "stopped after {} of {} steps: the results so far follow",
                p.done, p.total
            );
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    bar.finish_and_clear();
    result
}

/// Runs `config`'s experiment and writes what `output` asks for; without `--json`, `summary`
/// prints a few lines about the result.
pub fn run_experiment<E: Experiment>(
    config: E,
    output: &Output,
    summary: impl FnOnce(&E::Result),
) -> Result<()> {
    limits::budget().check(&config.cost()?)?;
    let result = run_with_bar(&mut config.start()?)?;
    report::<E>(&result, output, summary)
}

/// [`run_experiment`] on the chosen backend: `Experiment::start` on the CPU, `on_gpu` with the
/// machine's GPU.
pub fn run_experiment_on<E: Experiment>(
    config: E,
    backend: Backend,
    on_gpu: impl FnOnce(&E, std::sync::Arc<GpuContext>) -> Result<E::Session>,
    output: &Output,
    summary: impl FnOnce(&E::Result),
) -> Result<()> {
    limits::budget().check(&config.cost()?)?;
    let result = match backend {
        Backend::Cpu => run_with_bar(&mut config.start()?)?,
        Backend::Gpu => run_with_bar(&mut on_gpu(&config, gpu()?)?)?,
    };
    report::<E>(&result, output, summary)
}

/// Writes what `output` asks for of a finished `E` (from [`run_experiment`] or a session made
/// another way, e.g. from model files).
pub fn report<E: Experiment>(
    result: &E::Result,
    output: &Output,
    summary: impl FnOnce(&E::Result),
) -> Result<()> {
    let json = to_json(result)?;
    if let Some(dir) = &output.out {
        create_dir(dir)?;
        write(&dir.join(format!("{}.json", E::NAME)), json.as_bytes())?;
        write_figures(dir, &E::figures(result)?)?;
    }
    if output.json {
        println!("{json}");
    } else {
        summary(result);
    }
    Ok(())
}

/// Writes `stem.csv`, `stem.svg` and `stem.png` of every figure.
pub fn write_figures(dir: &Path, figures: &[FigureData]) -> Result<()> {
    for figure in figures {
        let path = |ext: &str| dir.join(format!("{}.{ext}", figure.stem));
        // The data first: it is written even when the data cannot be drawn.
        write(&path("csv"), figure.csv.as_bytes())?;
        write(&path("svg"), figure.svg()?.as_bytes())?;
        write(&path("png"), &figure.png()?)?;
    }
    Ok(())
}

/// A comma-separated list of widths, as flags take it (`64,128,256`).
#[derive(Clone, Debug, PartialEq)]
pub struct Widths(pub Vec<usize>);

impl FromStr for Widths {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        text.split(',')
            .map(|w| {
                w.trim()
                    .parse::<usize>()
                    .map_err(|_| Error::config("widths", format!("'{w}' is not a whole number")))
            })
            .collect::<Result<_>>()
            .map(Widths)
    }
}

impl fmt::Display for Widths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        f.write_str(&texts.join(","))
    }
}
