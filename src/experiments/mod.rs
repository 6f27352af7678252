//! Experiments: config -> session -> result -> figures, one folder per room (`width/`,
//! `depth/`, ...: configs, sessions, results and `figures.rs`), every experiment by name in
//! [`registry`], a running one of any type in [`session`], the papers in [`papers`], what
//! sweeps share in [`sweep`] and permalinks in [`permalink`].
//!
//! # The room contract
//! Every experiment a room runs implements [`Experiment`] on its config: a serde config with
//! `Default` (what a permalink, a TOML file and the CLI's flag defaults all read), a session
//! that advances in bounded slices ([`Stepper`]), a serde result (the same JSON from the CLI
//! and the page), and its figures, each drawn from the result with its data as CSV. It is a
//! trait rather than a convention so that the one generic path in the CLI (progress bar,
//! `--json`, `--out` with every figure) and the native tests can run any experiment, and the
//! compiler checks that a new one has every part. A room ([`RoomInfo`]) is the list of
//! experiments one page shows; `docs/adding-a-room.md` says how to add one.

pub mod collapse;
pub mod connectivity;
pub mod depth;
pub mod landscape;
pub mod papers;
pub mod permalink;
pub mod playground;
pub mod registry;
pub mod session;
pub mod sweep;
pub mod width;

use crate::core::budget::Cost;
use crate::core::stepper::Stepper;
use crate::error::Result;
use crate::gpu::GpuContext;
pub use crate::plot::FigureData;
use serde::Serialize;
use serde::de::DeserializeOwned;
use session::Started;
use std::sync::Arc;

/// An experiment, implemented by its config.
pub trait Experiment: Serialize + DeserializeOwned + Default + Clone {
    /// Its CLI subcommand, and the stem of its result file (`coordcheck.json`).
    const NAME: &'static str;
    /// What it reports (read back by the registry to draw a saved result's figures).
    type Result: Serialize + DeserializeOwned;
    /// The running experiment.
    type Session: Stepper<Output = Self::Result>;

    /// Validates the config (naming the bad field), then prices it: the peak memory and the
    /// work of the run, from the config alone, without allocating anything large.
    fn cost(&self) -> Result<Cost>;

    /// Validates the config (naming the bad field) and starts the session.
    fn start(&self) -> Result<Self::Session>;

    /// Every figure of a result, in the order the page shows them.
    fn figures(result: &Self::Result) -> Result<Vec<FigureData>>;

    /// Validates the config and starts the session on `gpu`, where the experiment has a GPU
    /// path; `None` where it runs on the CPU only.
    fn start_on_gpu(&self, gpu: Arc<GpuContext>) -> Option<Started> {
        let _ = gpu;
        None
    }
}

/// A room as the nav bar, the About panel and `theorylab --help` name it.
#[derive(Clone, Copy, Debug)]
pub struct RoomInfo {
    /// URL path (`#/width`).
    pub path: &'static str,
    /// Its name in the nav bar.
    pub title: &'static str,
    /// What it shows, in one line.
    pub summary: &'static str,
    /// Its CLI subcommands.
    pub commands: &'static [&'static str],
    /// The papers it draws on, by key into [`papers::PAPERS`].
    pub papers: &'static [&'static str],
}

/// Every room, in the order the nav bar lists them.
pub const ROOMS: &[RoomInfo] = &[
    RoomInfo {
        path: "playground",
        title: "Playground",
        summary: "TensorFlow Playground on our core: train a network on points of the plane",
        commands: &["train", "eval"],
        papers: &["smilkov2016", "yang2021"],
    },
    RoomInfo {
        path: "width",
        title: "Width",
        summary: "kernel regime vs feature learning: NTK, muP and the infinite-width limit",
        commands: &[
            "kernel",
            "convergence",
            "coordcheck",
            "lrtransfer",
            "fnspace",
            "abc",
        ],
        papers: &[
            "yang2021",
            "jacot2018",
            "yang2022",
            "mup",
            "novak2020",
            "lee2018",
            "lee2019",
        ],
    },
    RoomInfo {
        path: "depth",
        title: "Depth",
        summary: "nearly-Gaussian networks at init: the depth-to-width ratio L/n, criticality, order to chaos, the best aspect ratio at a fixed budget",
        commands: &[
            "depthwidth",
            "aspect",
            "criticality",
            "residual",
            "trained-aspect",
        ],
        papers: &["roberts2022", "hanin2020", "poole2016", "schoenholz2017"],
    },
    RoomInfo {
        path: "collapse",
        title: "Collapse",
        summary: "neural collapse in the terminal phase: NC1-NC4, the simplex ETF, minority collapse",
        commands: &["collapse", "nc-metrics"],
        papers: &["papyan2020", "zhu2021", "dang2023"],
    },
    RoomInfo {
        path: "connectivity",
        title: "Connectivity",
        summary: "linear mode connectivity: loss barriers, Git Re-Basin permutations, width and spawn time",
        commands: &["lmc", "lmc-sweep"],
        papers: &["ainsworth2023", "frankle2020", "ito2024", "entezari2022"],
    },
    RoomInfo {
        path: "landscape",
        title: "Landscape",
        summary: "loss landscapes: filter-normalized and PCA planes, Hessian spectra, the edge of stability, intrinsic dimension",
        commands: &["landscape", "hessian", "sharpness", "intrinsic-dim"],
        papers: &[
            "li2018landscape",
            "yao2020",
            "ghorbani2019",
            "cohen2021",
            "li2018intrinsic",
            "pearlmutter1994",
        ],
    },
];
