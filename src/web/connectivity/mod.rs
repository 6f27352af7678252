//! The Connectivity room: two networks and the straight path between them, naive beside
//! matched (Git Re-Basin), the spectra and permutations of the matching, and the barrier against
//! width or spawn step over several pairs; or the same analysis of two uploaded models.
//!
//! The config (a [`ConnectivityPage`]) lives in a signal and in the URL; each change (or
//! upload) starts a new session on the room shell ([`super::room`]): the pair first, then the
//! sweep, in slices between animation frames.

mod controls;
mod text;

use super::room::{
    Banners, Live, Part, SessionSignals, Sessions, card, config_from_url, drive, export_of,
    figures_of, keep_permalink, part, transport,
};
use super::{Compute, glue};
use crate::core::data::{TargetColumns, parse_csv};
use crate::core::ensemble::Ensemble;
use crate::core::loss::Loss;
use crate::core::model_file::{from_safetensors, to_safetensors};
use crate::core::stepper::Stepper;
use crate::error::{Error, Result};
use crate::experiments::connectivity::lmc::models_work;
use crate::experiments::connectivity::sweep::{
    LmcSweepConfig, LmcSweepResult, LmcSweepRun, SweepAxis,
};
use crate::experiments::connectivity::{
    ConnectivityPage, LmcConfig, LmcResult, LmcRun, PAGE_MAX_WORK,
};
use crate::gpu::{AnyEnsemble64, GpuContext};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/connectivity";

/// A file the user gave: its name and contents.
#[derive(Clone, Debug, PartialEq)]
pub struct Named<T> {
    name: String,
    contents: Arc<T>,
}

/// The user's own models and data: when all three are there, the pair is theirs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uploads {
    a: Option<Named<Vec<u8>>>,
    b: Option<Named<Vec<u8>>>,
    data: Option<Named<String>>,
}

impl Uploads {
    fn complete(&self) -> bool {
        self.a.is_some() && self.b.is_some() && self.data.is_some()
    }
}

/// The room's signals, shared by the controls and the session.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<ConnectivityPage>,
    uploads: RwSignal<Uploads>,
    signals: SessionSignals,
    sessions: Sessions,
    pair: RwSignal<Option<LmcResult>>,
    sweep: RwSignal<Option<LmcSweepResult>>,
    /// The matched B as a safetensors file, once matched.
    matched: RwSignal<Option<Arc<Vec<u8>>>>,
    notice: RwSignal<Option<String>>,
}

#[component]
pub fn Connectivity() -> impl IntoView {
    let (initial, notice) = config_from_url(PATH, ConnectivityPage::validate_page);
    let room = Room {
        config: RwSignal::new(initial),
        uploads: RwSignal::new(Uploads::default()),
        signals: SessionSignals::new(),
        sessions: Sessions::default(),
        pair: RwSignal::new(None),
        sweep: RwSignal::new(None),
        matched: RwSignal::new(None),
        notice: RwSignal::new(notice),
    };
    keep_permalink(PATH, room.config);
    let compute = expect_context::<Compute>();
    Effect::new(move |_| {
        room.signals.rerun.track();
        let config = room.config.get();
        let uploads = room.uploads.get();
        let Some(gpu) = compute.chosen() else {
            return; // still detecting the GPU
        };
        room.signals.error.set(None);
        room.signals.running.set(true);
        spawn_local(session(room.sessions.begin(), config, uploads, gpu, room));
    });
    let pair = figures_of::<LmcConfig>(room.pair, "training A and B…");
    let sweep = figures_of::<LmcSweepConfig>(room.sweep, "after the pair: the sweep…");
    let uploaded = move || room.uploads.with_untracked(Uploads::complete);
    let pair_json = export_of(room.pair, move || {
        (!uploaded()).then(|| room.config.get_untracked().pair)
    });
    let sweep_json = export_of(room.sweep, move || {
        Some(room.config.get_untracked().sweep())
    });
    let by_width = move || room.config.with(|c| c.axis == SweepAxis::Width);
    view! {
        <section class="room connectivity">
            <div class="layout">
                <controls::Controls config=room.config uploads=room.uploads error=room.signals.error/>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.signals.error/>
                    <h2>{move || pair_heading(room)}</h2>
                    {card("path", pair, pair_json, text::PATH)}
                    {card("spectra", pair, pair_json, text::SPECTRA)}
                    {card("permutations", pair, pair_json, text::PERMUTATIONS)}
                    <h2>"Many pairs"</h2>
                    <Show
                        when=by_width
                        fallback=move || card("barrier-vs-spawn", sweep, sweep_json, text::SPAWN)
                    >
                        {card("barrier-vs-width", sweep, sweep_json, text::WIDTH)}
                    </Show>
                </div>
            </div>
        </section>
    }
}

fn pair_heading(room: Room) -> String {
    room.pair.with(|r| match r {
        Some(r) if r.source != "trained" => format!("Your models: {}", r.source),
        _ => "Two trainings and the path between them".into(),
    })
}

/// The transport bar, and the matched model's download.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let backend = move || {
        match compute.active() {
            Some(Some(_)) => {
                "path points on WebGPU (f32), training and matching on the CPU (wasm, f64)"
            }
            _ => "CPU (wasm), f64",
        }
        .to_string()
    };
    let download = move |_| {
        if let Some(bytes) = room.matched.get_untracked() {
            glue::download_bytes("matched-b.safetensors", "application/octet-stream", &bytes);
        }
    };
    let save = view! {
        <button
            id="save-matched"
            prop:disabled=move || room.matched.with(Option::is_none)
            on:click=download
        >
            "Matched B (.safetensors)"
        </button>
    };
    transport(room.signals, backend, save)
}

/// The pair of the user's files: A and B read as safetensors with the page's activation, the
/// data CSV with one class column (cross-entropy) or as many target columns as the models have
/// outputs (MSE); each error names its file.
fn uploaded_pair<E: Ensemble>(
    device: E::Device,
    config: &LmcConfig,
    uploads: &Uploads,
) -> Result<LmcRun<E>> {
    let (Some(a), Some(b), Some(data)) = (&uploads.a, &uploads.b, &uploads.data) else {
        return Err(Error::Data("give model A, model B and a data file".into()));
    };
    fn named(name: &str) -> impl Fn(Error) -> Error + '_ {
        move |e| Error::Data(format!("{name}: {e}"))
    }
    let read = |m: &Named<Vec<u8>>| from_safetensors(&m.contents, config.activation);
    let model_a = read(a).map_err(named(&a.name))?;
    let model_b = read(b).map_err(named(&b.name))?;
    let columns = match config.loss {
        Loss::CrossEntropy => TargetColumns::Class,
        Loss::Mse => TargetColumns::Values(model_a.output_dim()),
    };
    let dataset = parse_csv(&data.contents, columns).map_err(named(&data.name))?;
    let work = models_work(&model_a, dataset.len(), config);
    if work > PAGE_MAX_WORK {
        return Err(Error::config(
            "data",
            format!(
                "{}: {} rows through these models cost about {work:.1e} multiply-adds, more than the {PAGE_MAX_WORK:.0e} (about 40 s) the page runs; the command line runs it (theorylab lmc --models)",
                data.name,
                dataset.len()
            ),
        ));
    }
    let source = format!("{} and {} on {}", a.name, b.name, data.name);
    LmcRun::from_models_on(
        device,
        model_a,
        model_b,
        &dataset,
        config.loss,
        config,
        &source,
    )
}

/// One session, in slices per frame, until stopped or superseded.
async fn session(
    live: Live,
    config: ConnectivityPage,
    uploads: Uploads,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) {
    room.pair.set(None);
    room.sweep.set(None);
    room.matched.set(None);
    let signals = room.signals;
    // The pair (of the user's files when all three are there), its matched model kept for
    // download once; then the sweep.
    let parts = config.validate_page().map(|()| {
        let (pair_config, sweep_config, device) =
            (config.pair.clone(), config.sweep(), gpu.clone());
        let pair = move || {
            if uploads.complete() {
                uploaded_pair(device, &pair_config, &uploads)
            } else {
                LmcRun::on(device, &pair_config)
            }
        };
        let show_pair = move |run: &LmcRun<AnyEnsemble64>| {
            room.pair.set(Some(run.result()));
            if room.matched.with_untracked(Option::is_none)
                && let Some(m) = run.matched_model()
            {
                match to_safetensors(m) {
                    Ok(bytes) => room.matched.set(Some(Arc::new(bytes))),
                    Err(e) => room.signals.error.set(Some(e.to_string())),
                }
            }
        };
        vec![
            part(Part::new(pair, show_pair)),
            part(Part::into(
                move || LmcSweepRun::<AnyEnsemble64>::on(gpu, &sweep_config),
                room.sweep,
            )),
        ]
    });
    drive(parts, signals, live, || None).await
}
