//! The Playground room: TensorFlow Playground on our core, plus parametrization and width.
//!
//! The config (a [`TrainConfig`]) lives in a signal and in the URL. Each change starts a new
//! session: an async loop that owns the run, advances it in slices of a few milliseconds per
//! animation frame, and publishes plain figures to signals, so the page never freezes.

use super::controls::{ACTIVATIONS, by_name, name_of, range, round_sig, seed_input, select};
use super::export::figure;
use super::{Compute, glue};
use crate::core::data::{Dataset, DatasetName, TargetColumns, parse_csv};
use crate::core::loss::Loss;
use crate::core::stepper::Stepper;
use crate::core::train::{TrainConfig, TrainResult};
use crate::core::vocabulary::Choice;
use crate::error::{Error, Result};
use crate::experiments::permalink;
use crate::experiments::playground::training::Training;
use crate::experiments::playground::{
    DecisionMap, GRID, Plane, UNIT_GRID, UNIT_LAYERS, UNITS, decision_map, unit_maps,
};
use crate::gpu::GpuContext;
use crate::plot::{self, Figure};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// While training, redraw the units' maps every this many redraws (and whenever idle).
const UNITS_EVERY: usize = 4;
/// Milliseconds of training per animation frame (the frame's budget is 16 ms; drawing takes
/// the rest).
const SLICE_MS: f64 = 6.0;
/// Redraw the figures at most this often while training.
const REDRAW_MS: f64 = 250.0;
/// Widest network per backend (a CPU step at width 1024 already takes a while in wasm).
const MAX_WIDTH_GPU: usize = 4096;
const MAX_WIDTH_CPU: usize = 1024;
/// The URL path of this room.
pub const PATH: &str = "/playground";

/// The decision map as drawn: its plane, its figure and its values.
#[derive(Clone, Debug, PartialEq)]
struct Decision {
    plane: Plane,
    figure: Figure,
    map: DecisionMap,
}

/// The hidden units' maps as drawn: their plane and one row of panels per layer.
#[derive(Clone, Debug, PartialEq)]
struct Units {
    plane: Plane,
    layers: Vec<Vec<Figure>>,
}

/// The room's signals, shared by the controls and the session loop.
#[derive(Clone, Copy)]
struct Room {
    config: RwSignal<TrainConfig>,
    upload: RwSignal<Option<Arc<Dataset>>>,
    playing: RwSignal<bool>,
    step_requests: RwSignal<usize>,
    model_request: RwSignal<bool>,
    session: StoredValue<u64>,
    result: RwSignal<Option<TrainResult>>,
    decision: RwSignal<Option<Decision>>,
    units: RwSignal<Option<Units>>,
    error: RwSignal<Option<String>>,
    notice: RwSignal<Option<String>>,
}

/// The config in the URL when the page loads, or the defaults with a notice saying why not.
fn config_from_url() -> (TrainConfig, Option<String>) {
    let hash = glue::hash();
    if hash.is_empty() {
        return (TrainConfig::default(), None);
    }
    let (path, query) = hash.split_once('?').unwrap_or((hash.as_str(), ""));
    let decoded = if !matches!(path, "" | "/" | PATH) {
        Err(Error::config("room", format!("there is no room '{path}'")))
    } else {
        permalink::decode::<TrainConfig>(query).and_then(|c| check(&c).map(|()| c))
    };
    match decoded {
        Ok(config) => (config, None),
        Err(e) => (
            TrainConfig::default(),
            Some(format!(
                "This link's settings could not be used ({e}); showing the defaults."
            )),
        ),
    }
}

/// What the Playground can draw: 2-D data, widths the backends can take.
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
    if config.width > MAX_WIDTH_GPU {
        return Err(Error::config(
            "width",
            format!("{} is above the room's {MAX_WIDTH_GPU}", config.width),
        ));
    }
    Ok(())
}

#[component]
pub fn Playground() -> impl IntoView {
    let compute = expect_context::<Compute>();
    let (initial, notice) = config_from_url();
    let room = Room {
        config: RwSignal::new(initial),
        upload: RwSignal::new(None),
        playing: RwSignal::new(false),
        step_requests: RwSignal::new(0),
        model_request: RwSignal::new(false),
        session: StoredValue::new(0),
        result: RwSignal::new(None),
        decision: RwSignal::new(None),
        units: RwSignal::new(None),
        error: RwSignal::new(None),
        notice: RwSignal::new(notice),
    };

    // Every change of config, data or backend: a new URL and a new session.
    Effect::new(move |_| {
        let config = room.config.get();
        let upload = room.upload.get();
        let Some(gpu) = compute.active() else {
            return; // still detecting the GPU
        };
        if let Ok(query) = permalink::encode(&config) {
            glue::set_hash(&format!("{PATH}?{query}"));
        }
        room.session.update_value(|s| *s += 1);
        let id = room.session.get_value();
        room.playing.set(false);
        room.error.set(None);
        spawn_local(session(id, config, upload, gpu, room));
    });

    let progress = move || {
        room.result.with(|r| {
            r.as_ref()
                .map_or((0, 0), |r| (r.steps_done, r.config.steps))
        })
    };

    let decision_svg = Memo::new(move |_| {
        room.decision.with(|d| match d {
            Some(d) => {
                plot::to_svg(std::slice::from_ref(&d.figure), 560, 460).map_err(|e| e.to_string())
            }
            None => Err("preparing…".into()),
        })
    });
    let curves_svg = Memo::new(move |_| {
        room.result.with(|r| match r {
            Some(r) if r.curves.step.is_empty() => {
                Err("Press Play: the loss and accuracy curves appear as the network trains.".into())
            }
            Some(r) => plot::training::curves(r)
                .and_then(|panels| plot::to_svg(&panels, 900, 330))
                .map_err(|e| e.to_string()),
            None => Err("preparing…".into()),
        })
    });
    let unit_svg = move |layer: usize| {
        // This layer's panels alone, so that a change in another layer does not redraw it.
        let panels = Memo::new(move |_| {
            room.units
                .with(|u| u.as_ref().and_then(|u| u.layers.get(layer).cloned()))
        });
        Memo::new(move |_| {
            panels.with(|p| match p {
                Some(panels) if !panels.is_empty() => {
                    plot::to_svg(panels, 190 * panels.len() as u32, 190).map_err(|e| e.to_string())
                }
                _ => Err(String::new()),
            })
        })
    };

    let decision_data = move || {
        room.decision
            .with_untracked(|d| d.as_ref().map(|d| decision_exports(&d.plane, &d.map)))
    };
    let curves_data = move || {
        room.result.with_untracked(|r| {
            let r = r.as_ref()?;
            Some((
                plot::training::curves_csv(r),
                serde_json::to_string_pretty(r).ok()?,
            ))
        })
    };
    let unit_data = move |layer: usize| {
        move || {
            room.units.with_untracked(|u| {
                let u = u.as_ref()?;
                Some(unit_exports(&u.plane, u.layers.get(layer)?))
            })
        }
    };

    view! {
        <section class="room playground">
            <Show when=move || room.notice.get().is_some()>
                <p class="notice" role="status">
                    {move || room.notice.get().unwrap_or_default()}
                    <button on:click=move |_| room.notice.set(None)>"×"</button>
                </p>
            </Show>
            <div class="layout">
                <Controls room=room/>
                <div class="figures">
                    <div class="transport">
                        <button
                            id="play"
                            on:click=move |_| room.playing.update(|p| *p = !*p)
                        >
                            {move || if room.playing.get() { "Pause" } else { "Play" }}
                        </button>
                        <button id="step" on:click=move |_| room.step_requests.update(|n| *n += 1)>
                            "Step"
                        </button>
                        <button id="reset" on:click=move |_| room.config.update(|_| {})>
                            "Reset"
                        </button>
                        <button id="stop" on:click=move |_| {
                            room.playing.set(false);
                            room.step_requests.set(0);
                        }>"Stop"</button>
                        <progress
                            id="progress"
                            max=move || progress().1.max(1)
                            value=move || progress().0
                        ></progress>
                        <span id="step-count">
                            {move || format!("step {} / {}", progress().0, progress().1)}
                        </span>
                        <span id="loss">
                            {move || room.result.with(|r| r.as_ref().and_then(|r| {
                                let c = &r.curves;
                                let test = c.test_loss.last().map(|t| format!(" · test {t:.4}")).unwrap_or_default();
                                c.train_loss.last().map(|l| format!("train loss {l:.4}{test}"))
                            }).unwrap_or_default())}
                        </span>
                        <button id="save-model" on:click=move |_| room.model_request.set(true)>
                            "Model (.safetensors)"
                        </button>
                    </div>
                    <Show when=move || room.error.get().is_some()>
                        <p class="error" role="alert">{move || room.error.get().unwrap_or_default()}</p>
                    </Show>
                    <div class="row">
                        {figure("decision-map", decision_svg, decision_data)}
                        <div class="explain">
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
                        </div>
                    </div>
                    {figure("curves", curves_svg, curves_data)}
                    <div class="units">
                        {(0..UNIT_LAYERS)
                            .map(|l| {
                                let svg = unit_svg(l);
                                view! {
                                    <Show when=move || svg.with(|s| s.is_ok())>
                                        {figure(
                                            if l == 0 { "units-layer-1" } else { "units-layer-2" },
                                            svg,
                                            unit_data(l),
                                        )}
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

/// The decision map's data: CSV rows `x1,x2,value` and a JSON object with the grid.
fn decision_exports(plane: &Plane, map: &DecisionMap) -> (String, String) {
    let json = serde_json::json!({
        "x_range": [plane.x.0, plane.x.1],
        "y_range": [plane.y.0, plane.y.1],
        "cells_per_side": plane.n,
        "layout": "row-major: values[iy * n + ix]",
        "label": map.label,
        "values": map.values,
    });
    (
        plot::playground::decision_map_csv(plane, map),
        json.to_string(),
    )
}

/// The unit maps' data: CSV rows `unit,x1,x2,h` and JSON `{title: values}`.
fn unit_exports(plane: &Plane, panels: &[Figure]) -> (String, String) {
    let mut json = serde_json::Map::new();
    for panel in panels {
        if let Figure::Heatmap(h) = panel {
            json.insert(h.title.clone(), serde_json::json!(h.values));
        }
    }
    (
        plot::playground::unit_maps_csv(plane, panels),
        serde_json::Value::Object(json).to_string(),
    )
}

/// One run: draws the data and the network, then trains in slices while `playing` (or for
/// requested single steps) until the session is superseded.
async fn session(
    id: u64,
    config: TrainConfig,
    upload: Option<Arc<Dataset>>,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) {
    let live = move || room.session.try_get_value() == Some(id);
    let (mut training, train, test, plane) = match setup(&config, upload, gpu, room).await {
        Ok(parts) => parts,
        Err(e) => {
            if live() {
                room.error.set(Some(e.to_string()));
                room.result.set(None);
                room.decision.set(None);
                room.units.set(None);
            }
            return;
        }
    };
    if !live() {
        return;
    }
    let mut draws = 0usize;
    let mut redraw = async |training: &mut Training, units: bool| {
        draws += 1;
        let units = units || draws.is_multiple_of(UNITS_EVERY);
        if let Err(e) = draw(
            training,
            &plane,
            &train,
            test.as_ref(),
            config.loss,
            units,
            room,
        )
        .await
        {
            room.error.set(Some(e.to_string()));
        }
    };
    redraw(&mut training, true).await;
    let mut last_draw = glue::now();
    loop {
        if !live() {
            return;
        }
        let requested = room.step_requests.get_untracked();
        if room.playing.get_untracked() || requested > 0 {
            let start = glue::now();
            loop {
                match training.advance().await {
                    Ok(progress) if progress.finished() => {
                        room.playing.set(false);
                        room.step_requests.set(0);
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        room.error.set(Some(e.to_string()));
                        room.playing.set(false);
                        room.step_requests.set(0);
                        break;
                    }
                }
                if requested > 0 && !room.playing.get_untracked() {
                    room.step_requests.update(|n| *n = n.saturating_sub(1));
                    break;
                }
                if glue::now() - start > SLICE_MS {
                    break;
                }
            }
            let idle = !room.playing.get_untracked() && room.step_requests.get_untracked() == 0;
            if idle || glue::now() - last_draw > REDRAW_MS {
                redraw(&mut training, idle).await;
                last_draw = glue::now();
            }
        }
        if room.model_request.get_untracked() {
            room.model_request.set(false);
            match training.model_file().await {
                Ok(bytes) => {
                    glue::download_bytes("model.safetensors", "application/octet-stream", &bytes)
                }
                Err(e) => room.error.set(Some(e.to_string())),
            }
        }
        glue::next_frame().await;
    }
}

/// The data, the plane, and the run on the chosen backend (the CPU if the GPU refuses, with a
/// notice saying why).
async fn setup(
    config: &TrainConfig,
    upload: Option<Arc<Dataset>>,
    gpu: Option<Arc<GpuContext>>,
    room: Room,
) -> Result<(Training, Dataset, Option<Dataset>, Plane)> {
    check(config)?;
    let (train, test) = match (config.data.dataset, upload) {
        (DatasetName::Csv, Some(data)) => config.split(&data)?,
        (DatasetName::Csv, None) => {
            return Err(Error::Data(
                "choose a CSV file of points (x1, x2, class) to train on".into(),
            ));
        }
        _ => config.make_data()?,
    };
    let plane = Plane::around(&[&train], GRID)?;
    let training = match gpu {
        Some(ctx) => match Training::gpu(ctx, config, &train, test.as_ref()).await {
            Ok(t) => t,
            Err(Error::Gpu(why)) => {
                room.notice.set(Some(format!(
                    "WebGPU refused this run ({why}); it runs on the CPU."
                )));
                cpu_training(config, &train, test.as_ref())?
            }
            Err(e) => return Err(e),
        },
        None => cpu_training(config, &train, test.as_ref())?,
    };
    Ok((training, train, test, plane))
}

fn cpu_training(config: &TrainConfig, train: &Dataset, test: Option<&Dataset>) -> Result<Training> {
    if config.width > MAX_WIDTH_CPU {
        return Err(Error::config(
            "width",
            format!(
                "{} is above the {MAX_WIDTH_CPU} the CPU backend trains at a usable speed here; \
                 narrow the network or use WebGPU",
                config.width
            ),
        ));
    }
    Training::new(config, train, test)
}

/// Draws the run as it is now: the curves, then the decision map, then (if `units`) the
/// hidden units' maps, one per animation frame so that no single task does all the drawing.
#[allow(clippy::too_many_arguments)]
async fn draw(
    training: &mut Training,
    plane: &Plane,
    train: &Dataset,
    test: Option<&Dataset>,
    loss: Loss,
    units: bool,
    room: Room,
) -> Result<()> {
    // Each figure in a frame of its own, none in a frame that trained.
    let network = training.network().await?;
    glue::next_frame().await;
    room.result.set(Some(training.result()));
    glue::next_frame().await;
    let map = decision_map(&network, plane, loss)?;
    glue::next_frame().await; // computing the map and drawing it: one frame each
    room.decision.set(Some(Decision {
        plane: *plane,
        figure: plot::playground::decision_map(plane, &map, train, test),
        map,
    }));
    if units {
        let unit_plane = Plane {
            n: UNIT_GRID,
            ..*plane
        };
        let maps = unit_maps(&network, &unit_plane, UNIT_LAYERS, UNITS)?;
        let layers = plot::playground::unit_maps(&unit_plane, &maps);
        // One layer per frame: each layer's figure is redrawn when its row changes.
        for l in 0..layers.len() {
            glue::next_frame().await;
            room.units.update(|u| match u {
                Some(u) if u.plane == unit_plane && u.layers.len() == layers.len() => {
                    u.layers[l] = layers[l].clone();
                }
                _ => {
                    *u = Some(Units {
                        plane: unit_plane,
                        layers: (0..layers.len())
                            .map(|i| {
                                if i == l {
                                    layers[i].clone()
                                } else {
                                    Vec::new()
                                }
                            })
                            .collect(),
                    })
                }
            });
        }
    }
    Ok(())
}

/// The controls: every one edits the config, which restarts the run.
#[component]
fn Controls(room: Room) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let config = room.config;
    let max_width_log2 = move || {
        let max = if compute.active().flatten().is_some() {
            MAX_WIDTH_GPU
        } else {
            MAX_WIDTH_CPU
        };
        max.ilog2()
    };

    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        spawn_local(async move {
            let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
            let parsed = match text.ok().and_then(|t| t.as_string()) {
                Some(text) => parse_csv(&text, TargetColumns::Class)
                    .and_then(|d| Plane::around(&[&d], GRID).map(|_| d)),
                None => Err(Error::Data("the file could not be read as text".into())),
            };
            match parsed {
                Ok(data) => {
                    room.upload.set(Some(Arc::new(data)));
                    config.update(|c| c.data.dataset = DatasetName::Csv);
                }
                Err(e) => room.error.set(Some(format!("{name}: {e}"))),
            }
        });
    };

    view! {
        <aside class="controls">
            <h2>"Data"</h2>
            {select(
                "dataset",
                "Data set",
                &[
                    ("spiral", "Spiral"),
                    ("circles", "Circle"),
                    ("xor", "Exclusive or"),
                    ("gaussian_mixture", "Gaussians"),
                    ("csv", "Your CSV…"),
                ],
                move || config.with(|c| c.data.dataset.name().to_string()),
                move |v| {
                    let Ok(name) = DatasetName::parse_name(&v) else { return };
                    config.update(|c| {
                        c.data.dataset = name;
                        if name == DatasetName::GaussianMixture {
                            c.data.dim = 2;
                            c.data.classes = 2;
                        }
                    })
                },
            )}
            <label class="file">
                "Upload points (x1, x2, class)"
                <input type="file" id="csv-file" accept=".csv,text/csv" on:change=on_file/>
            </label>
            {range(
                "noise", "Noise", 0.0, 0.5, 0.01,
                move || config.with(|c| c.data.noise),
                move |v| config.update(|c| c.data.noise = v),
                |v| format!("{v:.2}"),
            )}
            {range(
                "test-fraction", "Test fraction", 0.0, 0.5, 0.05,
                move || config.with(|c| c.data.test_fraction),
                move |v| config.update(|c| c.data.test_fraction = v),
                |v| format!("{:.0}%", v * 100.0),
            )}
            {select(
                "samples", "Points",
                &[("100", "100"), ("200", "200"), ("400", "400"), ("800", "800"), ("1600", "1600")],
                move || config.with(|c| c.data.samples.to_string()),
                move |v| if let Ok(n) = v.parse() { config.update(|c| c.data.samples = n) },
            )}
            <h2>"Network"</h2>
            <div class="control">
                <label for="width">
                    "Width " <output>{move || config.with(|c| c.width)}</output>
                </label>
                <input
                    type="range"
                    id="width"
                    min="0"
                    max=max_width_log2
                    step="1"
                    prop:value=move || config.with(|c| c.width.max(1).ilog2())
                    on:change=move |ev| {
                        if let Ok(k) = event_target_value(&ev).parse::<u32>() {
                            config.update(|c| c.width = 1usize << k.min(12));
                        }
                    }
                />
            </div>
            {range(
                "depth", "Hidden layers", 1.0, 8.0, 1.0,
                move || config.with(|c| c.depth as f64),
                move |v| config.update(|c| c.depth = v as usize),
                |v| format!("{v}"),
            )}
            {select(
                "activation", "Activation",
                ACTIVATIONS,
                move || config.with(|c| name_of(&c.activation)),
                move |v| if let Some(a) = by_name(&v) { config.update(|c| c.activation = a) },
            )}
            {select(
                "parametrization", "Parametrization",
                &[("sp", "standard (SP)"), ("ntk", "NTK"), ("mup", "muP"), ("mean_field", "mean field")],
                move || config.with(|c| name_of(&c.parametrization)),
                move |v| if let Some(p) = by_name(&v) { config.update(|c| c.parametrization = p) },
            )}
            <h2>"Training"</h2>
            {select(
                "optimizer", "Optimizer",
                &[("sgd", "SGD"), ("adam", "Adam")],
                move || config.with(|c| name_of(&c.optimizer.kind)),
                move |v| if let Some(k) = by_name(&v) { config.update(|c| c.optimizer.kind = k) },
            )}
            {range(
                "lr", "Learning rate (log10)", -4.0, 1.0, 0.25,
                move || config.with(|c| c.optimizer.lr.log10()),
                move |v| config.update(|c| c.optimizer.lr = round_sig(10f64.powf(v))),
                |v| format!("{:.3e}", 10f64.powf(v)),
            )}
            {select(
                "batch-size", "Batch size",
                &[("0", "full batch"), ("8", "8"), ("16", "16"), ("32", "32"), ("64", "64"), ("128", "128")],
                move || config.with(|c| c.batch_size.to_string()),
                move |v| if let Ok(n) = v.parse() { config.update(|c| c.batch_size = n) },
            )}
            {select(
                "loss", "Loss",
                &[("cross_entropy", "cross-entropy"), ("mse", "mean squared error")],
                move || config.with(|c| name_of(&c.loss)),
                move |v| if let Some(l) = by_name(&v) { config.update(|c| c.loss = l) },
            )}
            {select(
                "steps", "Steps",
                &[("100", "100"), ("300", "300"), ("1000", "1000"), ("3000", "3000"), ("10000", "10000")],
                move || config.with(|c| c.steps.to_string()),
                move |v| if let Ok(n) = v.parse() { config.update(|c| c.steps = n) },
            )}
            {seed_input(
                move || config.with(|c| c.seed),
                move |s| config.update(|c| c.seed = s),
                room.error,
            )}
        </aside>
    }
}
