//! The Playground room: TensorFlow Playground on our core, plus parametrization and width.
//!
//! The config (a [`TrainConfig`]) lives in a signal and in the URL. Each change starts a new
//! session (the room shell, [`super::room`]) that owns the run, trains in slices between
//! animation frames while playing, and publishes the figures to signals.

mod controls;
mod session;

use super::Compute;
use super::room::{
    Banners, Figures, Sessions, card, config_from_url, export_of, keep_permalink, progress_bar,
};
use crate::core::budget::Budget;
use crate::core::data::{Dataset, DatasetName};
use crate::core::train::{Split, TrainConfig, TrainResult};
use crate::core::vocabulary::Choice;
use crate::error::{Error, Result};
use crate::experiments::FigureData;
use crate::experiments::playground::{DecisionMap, Plane, curves_figure};
use crate::experiments::sweep::page_max_width_log2;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// The URL path of this room.
pub const PATH: &str = "/playground";
/// While training, redraw the units' maps every this many redraws (and whenever idle).
const UNITS_EVERY: usize = 4;

/// The decision map as drawn: its plane and values (the JSON export), and its figure.
#[derive(Clone, Debug, PartialEq)]
struct Decision {
    plane: Plane,
    map: DecisionMap,
    figure: FigureData,
}

/// The room's signals, shared by the controls and the session loop.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<TrainConfig>,
    upload: RwSignal<Option<Arc<Dataset>>>,
    playing: RwSignal<bool>,
    step_requests: RwSignal<usize>,
    model_request: RwSignal<bool>,
    sessions: Sessions,
    result: RwSignal<Option<TrainResult>>,
    decision: RwSignal<Option<Decision>>,
    /// One figure per hidden layer drawn, each redrawn on its own.
    units: [RwSignal<Option<FigureData>>; 2],
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
}

/// What the Playground can draw: 2-D data, widths WebGPU can take (the session checks the
/// CPU backend's narrower cap).
fn check(config: &TrainConfig) -> Result<()> {
    config.validate()?;
    let d = &config.data;
    match d.dataset {
        DatasetName::Spiral | DatasetName::Circles | DatasetName::Xor | DatasetName::Csv => {}
        DatasetName::GaussianMixture if d.dim == 2 => {}
        other => {
            return Err(Error::config(
                "dataset",
                format!(
                    "the Playground draws 2-D points; '{}' is not one",
                    other.name()
                ),
            ));
        }
    }
    let max = 1 << page_max_width_log2(true);
    if config.width > max {
        return Err(Error::config(
            "width",
            format!("{} is above the room's {max}", config.width),
        ));
    }
    if d.dataset != DatasetName::Csv && d.samples > PAGE_MAX_SAMPLES {
        return Err(Error::config(
            "data.samples",
            format!(
                "{} is above the {PAGE_MAX_SAMPLES} points the page evaluates between frames; the command line takes more (theorylab train --samples)",
                d.samples
            ),
        ));
    }
    // The tab holds the whole run: its memory is priced. The steps run live, as long as the
    // user lets them, so their work is not.
    let (rows, input, outputs) = d.shape();
    Budget::page(f64::INFINITY).check(&config.cost(rows, input, outputs).without_work())
}

/// What the page trains on from an uploaded CSV: at most [`PAGE_MAX_SAMPLES`] rows, every value
/// within f32 (the page computes in f32). Checked when the file is read, so that the error names
/// the file and the data set in use stays.
pub(super) fn check_upload(data: &Dataset) -> Result<()> {
    if data.len() > PAGE_MAX_SAMPLES {
        return Err(Error::Data(format!(
            "{} rows are more than the {PAGE_MAX_SAMPLES} points the page evaluates between frames; the command line takes more (theorylab train --data)",
            data.len()
        )));
    }
    Split::<f32>::new(data).map(|_| ())
}

/// Most points of a built-in data set on the page: every recorded step evaluates them all and
/// draws them, within a frame or two on the CPU backend.
const PAGE_MAX_SAMPLES: usize = 20_000;

/// A figure signal as a card's list, `waiting` until there is one.
fn shown(
    figure: Option<FigureData>,
    waiting: &str,
) -> std::result::Result<Vec<FigureData>, String> {
    figure.map(|f| vec![f]).ok_or_else(|| waiting.to_string())
}

#[component]
pub fn Playground() -> impl IntoView {
    let compute = expect_context::<Compute>();
    let (initial, notice) = config_from_url(PATH, check);
    let room = Room {
        config: RwSignal::new(initial),
        upload: RwSignal::new(None),
        playing: RwSignal::new(false),
        step_requests: RwSignal::new(0),
        model_request: RwSignal::new(false),
        sessions: Sessions::default(),
        result: RwSignal::new(None),
        decision: RwSignal::new(None),
        units: [RwSignal::new(None), RwSignal::new(None)],
        error: RwSignal::new(None),
        notice: RwSignal::new(notice),
    };
    keep_permalink(PATH, room.config);
    // Every change of config, data or backend: a new session.
    Effect::new(move |_| {
        let config = room.config.get();
        let upload = room.upload.get();
        let Some(gpu) = compute.chosen() else {
            return; // still detecting the GPU
        };
        room.playing.set(false);
        room.error.set(None);
        spawn_local(session::session(
            room.sessions.begin(),
            config,
            upload,
            gpu,
            room,
        ));
    });

    let decision: Figures = Memo::new(move |_| {
        room.decision
            .with(|d| shown(d.as_ref().map(|d| d.figure.clone()), "preparing…"))
    });
    let decision_json = move || {
        room.decision.with_untracked(|d| {
            let d = d.as_ref()?;
            let json = serde_json::json!({
                "x_range": [d.plane.x.0, d.plane.x.1],
                "y_range": [d.plane.y.0, d.plane.y.1],
                "cells_per_side": d.plane.n,
                "layout": "row-major: values[iy * n + ix]",
                "label": d.map.label,
                "values": d.map.values,
            });
            Some(json.to_string())
        })
    };
    let curves: Figures = Memo::new(move |_| {
        room.result.with(|r| match r {
            Some(r) if r.curves.step.is_empty() => {
                Err("Press Play: the loss and accuracy curves appear as the network trains.".into())
            }
            Some(r) => curves_figure(r).map(|f| vec![f]).map_err(|e| e.to_string()),
            None => Err("preparing…".into()),
        })
    });
    let units = room
        .units
        .map(|layer| -> Figures { Memo::new(move |_| layer.with(|f| shown(f.clone(), ""))) });
    let units_json = move |layer: usize| {
        move || {
            room.units[layer].with_untracked(|f| {
                let mut json = serde_json::Map::new();
                for panel in &f.as_ref()?.panels {
                    if let crate::plot::Figure::Heatmap(h) = panel {
                        json.insert(h.title.clone(), serde_json::json!(h.values));
                    }
                }
                Some(serde_json::Value::Object(json).to_string())
            })
        }
    };

    view! {
        <section class="room playground">
            <div class="layout">
                <controls::Controls config=room.config upload=room.upload error=room.error/>
                <div class="figures">
                    <Transport room=room/>
                    <Banners notice=room.notice error=room.error/>
                    {card("decision-map", decision, decision_json, view! {
                        <h3>"What you see"</h3>
                        <p>
                            "The colour is the network's verdict at each point of the plane "
                            "(for two classes, the softmax probability of class 1); the marks "
                            "are the training points and the held-out test points. Below, "
                            "each small map is one hidden unit's output h = φ(z) over the "
                            "same plane: the features the network has built."
                        </p>
                        <p>
                            "Switch the parametrization and widen the network: under NTK the "
                            "units barely move from their random start as the width grows "
                            "(the kernel regime), under muP they keep learning features "
                            "(Yang & Hu 2021)."
                        </p>
                    })}
                    {card("curves", curves, export_of(room.result, move || {
                        room.upload.with_untracked(Option::is_none).then(|| room.config.get_untracked())
                    }), "")}
                    <div class="units">
                        {["units-layer-1", "units-layer-2"]
                            .into_iter()
                            .enumerate()
                            .map(|(l, stem)| {
                                let figures = units[l];
                                view! {
                                    <Show when=move || figures.with(|f| f.is_ok())>
                                        {card(stem, figures, units_json(l), "")}
                                    </Show>
                                }
                            })
                            .collect_view()}
                    </div>
                </div>
            </div>
        </section>
    }
}

/// Play / pause, a single step, reset, stop, the progress, the losses, the model download.
#[component]
fn Transport(room: Room) -> impl IntoView {
    let progress = move || {
        room.result.with(|r| {
            r.as_ref()
                .map_or((0, 0), |r| (r.steps_done, r.config.steps))
        })
    };
    let losses = move || {
        room.result.with(|r| {
            let c = &r.as_ref()?.curves;
            let test = c.test_loss.last().map(|t| format!(" · test {t:.4}"));
            let train = c.train_loss.last()?;
            Some(format!("train loss {train:.4}{}", test.unwrap_or_default()))
        })
    };
    view! {
        <div class="transport">
            <button id="play" on:click=move |_| room.playing.update(|p| *p = !*p)>
                {move || if room.playing.get() { "Pause" } else { "Play" }}
            </button>
            <button id="step" on:click=move |_| room.step_requests.update(|n| *n += 1)>"Step"</button>
            <button id="reset" on:click=move |_| room.config.update(|_| {})>"Reset"</button>
            <button id="stop" on:click=move |_| {
                room.playing.set(false);
                room.step_requests.set(0);
            }>"Stop"</button>
            {progress_bar(progress)}
            <span id="step-count">{move || format!("step {} / {}", progress().0, progress().1)}</span>
            <span id="loss">{move || losses().unwrap_or_default()}</span>
            <button id="save-model" on:click=move |_| room.model_request.set(true)>
                "Model (.safetensors)"
            </button>
        </div>
    }
}
