//! The Collapse room: an MLP (or the unconstrained features model) trained past zero training
//! error, with NC1-NC4 live, the features' projection with a scrubber over training, the class
//! means' Gram matrix beside the simplex ETF, and class norms beside Dang et al.'s closed form.
//!
//! The config (a [`CollapseConfig`]) lives in a signal and in the URL; each change starts a new
//! session on the room shell ([`super::room`]) that trains in slices between animation frames.

mod controls;
mod own;
mod text;

use super::Compute;
use super::room::{
    Banners, Figures, Live, Part, SessionSignals, Sessions, card, config_from_url, drive,
    export_of, figures_of, keep_permalink, part, transport,
};
use crate::experiments::FigureData;
use crate::experiments::collapse::figures;
use crate::experiments::collapse::{CollapseConfig, CollapseData, CollapseResult, CollapseRun};
use crate::gpu::{AnyEnsemble64, GpuContext};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/collapse";

/// The room's signals, shared by the controls and the session.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<CollapseConfig>,
    signals: SessionSignals,
    sessions: Sessions,
    result: RwSignal<Option<CollapseResult>>,
    /// The scrubber's record, or none to follow the latest.
    frame: RwSignal<Option<usize>>,
    /// Whether the scrubber is playing the records back.
    playing: RwSignal<bool>,
    /// The 3-D view's turn about the vertical axis, in degrees (not in the permalink).
    yaw: RwSignal<f64>,
    /// Features made elsewhere, to measure.
    own: RwSignal<own::Uploads>,
    notice: RwSignal<Option<String>>,
}

#[component]
pub fn Collapse() -> impl IntoView {
    let (initial, notice) = config_from_url(PATH, CollapseConfig::validate_page);
    let room = Room {
        config: RwSignal::new(initial),
        signals: SessionSignals::new(),
        sessions: Sessions::default(),
        result: RwSignal::new(None),
        frame: RwSignal::new(None),
        playing: RwSignal::new(false),
        yaw: RwSignal::new(figures::DEFAULT_YAW.to_degrees()),
        own: RwSignal::new(own::Uploads::default()),
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
        room.frame.set(None);
        room.playing.set(false);
        spawn_local(session(room.sessions.begin(), config, gpu, room));
    });
    let figures = figures_of::<CollapseConfig>(room.result, "training…");
    let own_measured = own::measure(room.own);
    let json = export_of(room.result, move || Some(room.config.get_untracked()));
    view! {
        <section class="room collapse">
            <div class="layout">
                <controls::Controls config=room.config error=room.signals.error>
                    <own::Inputs uploads=room.own error=room.signals.error/>
                </controls::Controls>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.signals.error/>
                    <h2>"The terminal phase of training"</h2>
                    {card("nc1-nc2", figures, json, text::VARIABILITY)}
                    {card("nc3-nc4", figures, json, text::DUALITY)}
                    <Scrubber room=room/>
                    {card("features", scrubbed(room), json, text::FEATURES)}
                    {card("features-3d", scrubbed_3d(room), json, text::FEATURES_3D)}
                    <h2>"The geometry at the end"</h2>
                    {card("mean-gram", figures, json, text::GRAM)}
                    {card("norms", figures, json, text::NORMS)}
                    <h2>"Your features"</h2>
                    {card(
                        "own-features",
                        own::figures(own_measured),
                        own::json(own_measured),
                        view! { <own::Measures measured=own_measured/> <p>{text::OWN}</p> },
                    )}
                </div>
            </div>
        </section>
    }
}

/// The features figure at the scrubber's record.
fn scrubbed(room: Room) -> Figures {
    Memo::new(move |_| {
        let frame = room.frame.get();
        room.result.with(|r| {
            let r = r.as_ref().ok_or_else(|| "training…".to_string())?;
            let last = r.snapshots.len().saturating_sub(1);
            let index = frame.unwrap_or(last).min(last);
            Ok(vec![FigureData {
                stem: "features",
                panels: figures::features(r, index).map_err(|e| e.to_string())?,
                panel_size: (400, 400),
                csv: figures::features_csv(r, index),
            }])
        })
    })
}

/// The 3-D features figure at the scrubber's record, turned by the yaw slider.
fn scrubbed_3d(room: Room) -> Figures {
    Memo::new(move |_| {
        let frame = room.frame.get();
        let yaw = room.yaw.get().to_radians();
        room.result.with(|r| {
            let r = r.as_ref().ok_or_else(|| "training…".to_string())?;
            let last = r.snapshots.len().saturating_sub(1);
            let index = frame.unwrap_or(last).min(last);
            Ok(vec![FigureData {
                stem: "features-3d",
                panels: figures::features_3d(r, index, yaw).map_err(|e| e.to_string())?,
                panel_size: (460, 440),
                csv: figures::features_3d_csv(r, index),
            }])
        })
    })
}

/// Plays the records back from the first, about eight frames (130 ms) each, until the last,
/// a pause, a new session or a move of the scrubber.
async fn play(room: Room) {
    let records = room
        .result
        .with_untracked(|r| r.as_ref().map_or(0, |r| r.snapshots.len()));
    for i in 0..records {
        if !room.playing.get_untracked() {
            return;
        }
        room.frame.set((i + 1 < records).then_some(i));
        for _ in 0..8 {
            super::glue::next_frame().await;
        }
    }
    room.playing.set(false);
}

/// A slider over the recorded epochs (right end: follow the latest).
#[component]
fn Scrubber(room: Room) -> impl IntoView {
    let records = move || {
        room.result
            .with(|r| r.as_ref().map_or(0, |r| r.snapshots.len()))
    };
    let epoch_at = move |i: usize| {
        room.result.with(|r| {
            r.as_ref()
                .and_then(|r| r.snapshots.get(i).map(|s| s.epoch))
                .unwrap_or(0)
        })
    };
    let current = move || room.frame.get().unwrap_or(records().saturating_sub(1));
    let toggle = move |_| {
        let start = !room.playing.get_untracked();
        room.playing.set(start);
        if start {
            spawn_local(play(room));
        }
    };
    view! {
        <div class="control scrubber">
            <button id="play" on:click=toggle>
                {move || if room.playing.get() { "Pause" } else { "Play" }}
            </button>
            <label for="scrub">
                "Training so far: epoch " <output>{move || epoch_at(current())}</output>
            </label>
            <input
                type="range"
                id="scrub"
                min="0"
                max=move || records().saturating_sub(1)
                step="1"
                prop:value=current
                on:input=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                        let last = records().saturating_sub(1);
                        room.playing.set(false);
                        room.frame.set((i < last).then_some(i));
                    }
                }
            />
            <label for="turn">"3-D view: turn " <output>{move || format!("{:.0}°", room.yaw.get())}</output></label>
            <input
                type="range"
                id="turn"
                min="0"
                max="360"
                step="5"
                prop:value=move || room.yaw.get()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        room.yaw.set(v);
                    }
                }
            />
        </div>
    }
}

/// The transport bar: where the MLP trains.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let backend = move || {
        let mlp = room.config.with(|c| c.dataset != CollapseData::Ufm);
        match compute.active() {
            Some(Some(_)) if mlp => "MLP on WebGPU (f32), the measures on the CPU (wasm, f64)",
            _ => "CPU (wasm), f64",
        }
        .to_string()
    };
    transport(room.signals, backend, ())
}

/// One session, in slices per frame, until stopped or superseded: an MLP on WebGPU (f32) when
/// the page has it, else on the CPU (f64).
async fn session(live: Live, config: CollapseConfig, gpu: Option<Arc<GpuContext>>, room: Room) {
    room.result.set(None);
    let signals = room.signals;
    let parts = config.validate_page().map(|()| {
        let start = move || CollapseRun::<AnyEnsemble64>::on(gpu, &config);
        vec![part(Part::into(start, room.result))]
    });
    drive(parts, signals, live, || None).await
}
