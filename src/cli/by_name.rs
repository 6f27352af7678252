//! Experiments by name, through the registry: `list`, `config NAME` and `run NAME --config
//! FILE`, which replays a config file (or a page's JSON export) with exactly the result of the
//! experiment's own subcommand.

use super::files::{create_dir, read_config, write};
use super::limits;
use super::run::{Output, gpu, run_with_bar, write_figures};
use clap::Args;
use std::path::PathBuf;
use theorylab::core::train::Backend;
use theorylab::error::{Error, Result};
use theorylab::experiments::registry::{self, EXPERIMENTS, Format};

/// `theorylab list`: every experiment, one a line: name, room, summary.
pub fn list() -> Result<()> {
    let width = EXPERIMENTS.iter().map(|e| e.name.len()).max().unwrap_or(0);
    let room = EXPERIMENTS.iter().map(|e| e.room.len()).max().unwrap_or(0);
    for e in EXPERIMENTS {
        println!("{:width$}  {:room$}  {}", e.name, e.room, e.summary);
    }
    Ok(())
}

#[derive(Args)]
pub struct ConfigArgs {
    /// The experiment (`theorylab list` names them).
    name: String,
    /// TOML instead of JSON.
    #[arg(long)]
    toml: bool,
}

/// `theorylab config NAME`: the default config.
pub fn config(a: ConfigArgs) -> Result<()> {
    let format = if a.toml { Format::Toml } else { Format::Json };
    println!("{}", registry::find(&a.name)?.default_text(format)?);
    Ok(())
}

#[derive(Args)]
pub struct RunArgs {
    /// The experiment (`theorylab list` names them).
    name: String,
    /// Its config: a JSON file (`.json`: a config, or a figure's JSON export from the page)
    /// or TOML; its keys lay over the defaults. Without it, the defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where it runs: cpu, or gpu where the experiment has a GPU path.
    #[arg(long, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[command(flatten)]
    output: Output,
}

/// `theorylab run NAME --config FILE`.
pub fn run(a: RunArgs) -> Result<()> {
    let entry = registry::find(&a.name)?;
    let config = match &a.config {
        Some(path) => registry::config_in(entry.name, read_config(path)?)?,
        None => serde_json::Value::Object(Default::default()),
    };
    limits::budget().check(&entry.price(config.clone())?)?;
    let mut session = match a.backend {
        Backend::Cpu => entry.start(config)?,
        Backend::Gpu => entry.start_on_gpu(config, gpu()?).ok_or_else(|| {
            Error::config("backend", format!("{} runs on the CPU only", entry.name))
        })??,
    };
    let json = run_with_bar(&mut session)??;
    if let Some(dir) = &a.output.out {
        create_dir(dir)?;
        write(&dir.join(format!("{}.json", entry.name)), json.as_bytes())?;
        write_figures(dir, &session.figures()?)?;
    }
    if a.output.json {
        println!("{json}");
    } else if a.output.out.is_none() {
        println!(
            "{} finished: --json prints its result, --out DIR writes it with its figures",
            entry.name
        );
    }
    Ok(())
}
