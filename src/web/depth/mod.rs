//! The Depth room: ensembles of random networks at initialization beside finite-width theory,
//! the collapse onto L/n, the skip weight, order to chaos and trained networks at a fixed
//! budget.
//!
//! The config (a [`DepthConfig`]) lives in a signal and in the URL. Each change starts a new
//! session that advances the experiments in slices between animation frames (the room shell,
//! [`super::room`]) and publishes their results; the figures are the experiments' own. The
//! ensembles are sampled exactly in law in O(n) per layer (`core::init_sampler`), on WebGPU
//! (`shaders/init_sampler.wgsl`, the same draws in f32) where the page has it, else on the CPU
//! backend at every width the page offers.

mod controls;
mod text;

use super::Compute;
use super::room::{
    Banners, Live, Part, SessionSignals, Sessions, card, config_from_url, drive, export_of,
    figures_of, keep_permalink, part, transport,
};
use crate::experiments::depth::DepthConfig;
use crate::experiments::depth::aspect::{Aspect, AspectConfig, AspectResult};
use crate::experiments::depth::criticality::{
    CriticalityConfig, CriticalityResult, CriticalityRun,
};
use crate::experiments::depth::ensemble::{Ensemble, EnsembleConfig, EnsembleResult};
use crate::experiments::depth::residual::{ResidualConfig, ResidualResult, ResidualRun};
use crate::experiments::depth::trained::{TrainedConfig, TrainedResult, TrainedRun};
use crate::gpu::GpuContext;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/depth";

/// The room's signals, shared by the controls and the session.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<DepthConfig>,
    signals: SessionSignals,
    sessions: Sessions,
    ensemble: RwSignal<Option<EnsembleResult>>,
    criticality: RwSignal<Option<CriticalityResult>>,
    aspect: RwSignal<Option<AspectResult>>,
    residual: RwSignal<Option<ResidualResult>>,
    trained: RwSignal<Option<TrainedResult>>,
    notice: RwSignal<Option<String>>,
}

#[component]
pub fn Depth() -> impl IntoView {
    let (initial, notice) = config_from_url(PATH, DepthConfig::validate);
    let room = Room {
        config: RwSignal::new(initial),
        signals: SessionSignals::new(),
        sessions: Sessions::default(),
        ensemble: RwSignal::new(None),
        criticality: RwSignal::new(None),
        aspect: RwSignal::new(None),
        residual: RwSignal::new(None),
        trained: RwSignal::new(None),
        notice: RwSignal::new(notice),
    };
    keep_permalink(PATH, room.config);
    let compute = expect_context::<Compute>();
    Effect::new(move |_| {
        room.signals.rerun.track();
        let config = room.config.get();
        let Some(gpu) = compute.chosen() else {
            return; // still detecting the GPU
        };
        room.signals.error.set(None);
        room.signals.running.set(true);
        spawn_local(session(room.sessions.begin(), config, gpu, room));
    });
    let ensemble = figures_of::<EnsembleConfig>(room.ensemble, "sampling networks…");
    let criticality = figures_of::<CriticalityConfig>(room.criticality, "computing the maps…");
    let aspect = figures_of::<AspectConfig>(room.aspect, "after the ensemble: the L/n grid…");
    let trained = figures_of::<TrainedConfig>(
        room.trained,
        "trained on request (tick “Train the networks” on the left), after the L/n grid…",
    );
    let residual =
        figures_of::<ResidualConfig>(room.residual, "after the L/n grid: the skip weights…");
    let (ensemble_json, criticality_json, aspect_json, residual_json, trained_json) = (
        export_of(room.ensemble, move || {
            Some(room.config.get_untracked().ensemble())
        }),
        export_of(room.criticality, move || {
            Some(room.config.get_untracked().criticality())
        }),
        export_of(room.aspect, move || {
            Some(room.config.get_untracked().aspect())
        }),
        export_of(room.residual, move || {
            Some(room.config.get_untracked().residual())
        }),
        export_of(room.trained, move || {
            Some(room.config.get_untracked().trained())
        }),
    );
    view! {
        <section class="room depth">
            <div class="layout">
                <controls::Controls config=room.config error=room.signals.error/>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.signals.error/>
                    <h2>"Nearly-Gaussian networks"</h2>
                    {card("readout-histogram", ensemble, ensemble_json, text::HISTOGRAM)}
                    {card("kurtosis-by-layer", ensemble, ensemble_json, text::KURTOSIS_LAYER)}
                    {card("skip-weight", residual, residual_json, text::SKIP)}
                    <h2>"Order and chaos"</h2>
                    <div class="pick" on:click=move |ev| pick_cell(&ev, room)>
                        {card("phase-diagram", criticality, criticality_json, text::PHASE)}
                        {card("gradient-ratio", criticality, criticality_json, text::GRADIENT)}
                    </div>
                    {card("kernel-flow", criticality, criticality_json, text::FLOW)}
                    <h2>"The depth-to-width ratio"</h2>
                    {card("kurtosis-collapse", aspect, aspect_json, text::COLLAPSE)}
                    {card("ntk-fluctuations", aspect, aspect_json, text::NTK)}
                    <h2>"Trained networks at a fixed budget"</h2>
                    {card("trained-aspect", trained, trained_json, text::TRAINED)}
                </div>
            </div>
        </section>
    }
}

/// A click on a cell of a map over the (C_W, C_b) plane (the grid is the figure's one wide
/// `<image>`; the colour bar is the narrow one) sets the two sliders to the cell's centre.
fn pick_cell(ev: &leptos::ev::MouseEvent, room: Room) {
    use wasm_bindgen::JsCast;
    let Some(target) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    let r = target.get_bounding_client_rect();
    if !target.tag_name().eq_ignore_ascii_case("image") || r.width() < 60.0 || r.height() <= 0.0 {
        return;
    }
    let Some(config) = room
        .criticality
        .with_untracked(|r| {
            // Both maps complete: each grid image then spans every row.
            let cells = r.as_ref()?.config.cells;
            r.as_ref()
                .filter(|r| {
                    r.diagram.len() == cells * cells && r.gradient_ratio.len() == cells * cells
                })
                .map(|r| r.config.clone())
        })
        .filter(CriticalityConfig::plane)
    else {
        return;
    };
    let fx = (f64::from(ev.client_x()) - r.left()) / r.width();
    let fy = (f64::from(ev.client_y()) - r.top()) / r.height();
    let (weight_var, bias_var) = config.cell_at(fx, 1.0 - fy);
    room.config.update(|c| {
        c.weight_var = super::controls::round_sig(weight_var);
        c.bias_var = super::controls::round_sig(bias_var);
    });
}

/// The transport bar: which backend runs what, as the ensemble reports it.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let backend = move || {
        // What the ensemble reports it ran on (a GPU is declined where f32 cannot hold the
        // architecture's numbers), else what the page offers.
        let ran = room
            .ensemble
            .with(|r| r.as_ref().map(|r| r.backend.clone()));
        let gpu = match ran {
            Some(b) => b.starts_with("gpu"),
            None => matches!(compute.active(), Some(Some(_))),
        };
        if gpu {
            "ensembles on WebGPU (f32); maps, gradient cells, flows and training on the CPU (wasm, f64)"
        } else {
            "CPU (wasm, f64), exact-in-law sampler"
        }
        .to_string()
    };
    transport(room.signals, backend, ())
}

/// One session, in slices per frame, until stopped or superseded, its experiments in this
/// order: the ensemble, the criticality maps and flows, the L/n grid, the skip weights, and the
/// trained networks when asked for; the ensembles on WebGPU (f32) when the page has it, else
/// on the CPU (f64).
async fn session(live: Live, config: DepthConfig, gpu: Option<Arc<GpuContext>>, room: Room) {
    room.ensemble.set(None);
    room.criticality.set(None);
    room.aspect.set(None);
    room.residual.set(None);
    room.trained.set(None);
    let parts = config.validate().map(|()| {
        let (ensemble, criticality) = (config.ensemble(), config.criticality());
        let (aspect, residual, trained) = (config.aspect(), config.residual(), config.trained());
        let (g, h) = (gpu.clone(), gpu.clone());
        let mut parts = vec![
            part(Part::into(
                move || Ensemble::on(&ensemble, g),
                room.ensemble,
            )),
            part(Part::into(
                move || CriticalityRun::new(&criticality),
                room.criticality,
            )),
            part(Part::into(move || Aspect::on(&aspect, h), room.aspect)),
            part(Part::into(
                move || ResidualRun::on(&residual, gpu),
                room.residual,
            )),
        ];
        if config.train {
            parts.push(part(Part::into(
                move || TrainedRun::new(&trained),
                room.trained,
            )));
        }
        parts
    });
    drive(parts, room.signals, live, || None).await
}
