//! The Landscape room's controls: the data, the network and its training (shared by the plane
//! and the Hessian), the plane, the Hessian's estimators, the sharpness runs, the subspace
//! dimensions, and the user's own model. Every control edits the config (or the uploads), which
//! restarts the session.

use super::super::controls::{range, seed_input, select};
use super::super::room::{choice, count_slider, log2_slider, lr_slider};
use super::text;
use super::{Named, Uploads};
use crate::experiments::connectivity::LmcData;
use crate::experiments::landscape::LandscapePage;
use crate::experiments::landscape::surface::DirectionKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::fmt::Display;
use std::str::FromStr;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Grid sizes offered (odd, so that the solution is the centre point).
const GRIDS: &[(&str, &str)] = &[
    ("21", "21 × 21"),
    ("31", "31 × 31"),
    ("41", "41 × 41"),
    ("51", "51 × 51"),
    ("61", "61 × 61"),
    ("71", "71 × 71"),
    ("81", "81 × 81"),
    ("91", "91 × 91"),
    ("101", "101 × 101"),
];

/// Mini-batch sizes offered for the mini-batch Hessian.
const MINIBATCHES: &[(&str, &str)] = &[
    ("0", "none"),
    ("32", "32"),
    ("64", "64"),
    ("128", "128"),
    ("256", "256"),
    ("512", "512"),
];

/// Which uploaded file an input holds.
#[derive(Clone, Copy)]
enum Slot {
    Model,
    Data,
}

/// Reads an uploaded file into its slot of `uploads` (the model as bytes, the data as text).
fn on_file(
    ev: leptos::ev::Event,
    slot: Slot,
    uploads: RwSignal<Uploads>,
    error: RwSignal<Option<String>>,
) {
    let Some(file) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|f| f.get(0))
    else {
        return;
    };
    let name = file.name();
    let limit = match slot {
        Slot::Data => crate::web::glue::MAX_CSV_BYTES,
        _ => crate::web::glue::MAX_MODEL_BYTES,
    };
    if let Err(e) = crate::web::glue::check_upload_size(&file, limit) {
        error.set(Some(e));
        return;
    }
    spawn_local(async move {
        match slot {
            Slot::Data => {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                match text.ok().and_then(|t| t.as_string()) {
                    Some(text) => uploads.update(|u| {
                        u.data = Some(Named {
                            name,
                            contents: Arc::new(text),
                        })
                    }),
                    None => error.set(Some(format!("{name}: the file could not be read as text"))),
                }
            }
            Slot::Model => match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                    uploads.update(|u| {
                        u.model = Some(Named {
                            name,
                            contents: Arc::new(bytes),
                        })
                    });
                }
                Err(_) => error.set(Some(format!("{name}: the file could not be read"))),
            },
        }
    });
}

/// A file input bound to a slot.
fn file_input(
    id: &'static str,
    label: &'static str,
    accept: &'static str,
    slot: Slot,
    uploads: RwSignal<Uploads>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <label class="file">
            {label}
            <input type="file" id=id accept=accept on:change=move |ev| on_file(ev, slot, uploads, error)/>
        </label>
    }
}

/// The numbers of a list such as `0.5, 1, 2` (commas or spaces), or the first word that is not
/// one.
fn parse_list<T: FromStr>(text: &str) -> Result<Vec<T>, String> {
    text.split([',', ' ', ';'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().map_err(|_| w.to_string()))
        .collect()
}

/// A labelled text box holding a list of numbers, written back as `a, b, c`; a word that is
/// not a number is reported in `error` (the config's own checks name a bad value).
fn list_box<T: FromStr + Display + 'static>(
    id: &'static str,
    label: &'static str,
    example: &'static str,
    get: impl Fn() -> Vec<T> + Copy + Send + Sync + 'static,
    set: impl Fn(Vec<T>) + Copy + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let shown = move || {
        get()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <div class="control">
            <label for=id>{label}</label>
            <input
                type="text"
                id=id
                prop:value=shown
                placeholder=example
                on:change=move |ev| {
                    match parse_list::<T>(&event_target_value(&ev)) {
                        Ok(values) => set(values),
                        Err(word) => error.set(Some(format!(
                            "{label}: '{word}' is not a number (a list such as {example})"
                        ))),
                    }
                }
            />
        </div>
    }
}

/// A `<select>` of whole numbers from a table of `(value, label)`.
fn number_select(
    id: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
    get: impl Fn() -> usize + Copy + Send + Sync + 'static,
    set: impl Fn(usize) + Copy + 'static,
) -> impl IntoView {
    select(
        id,
        label,
        options,
        move || get().to_string(),
        move |v| {
            if let Ok(n) = v.parse() {
                set(n)
            }
        },
    )
}

/// The room's controls.
#[component]
pub fn Controls(
    config: RwSignal<LandscapePage>,
    uploads: RwSignal<Uploads>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let gmm = move || config.with(|c| c.surface.problem.dataset == LmcData::Gmm);
    let filter = move || config.with(|c| c.surface.directions == DirectionKind::Filter);
    let own = move || uploads.with(Uploads::complete);
    let upload_status = move || {
        uploads.with(|u| {
            let model = u.model.as_ref().map_or("-".into(), |m| m.name.clone());
            let data = u.data.as_ref().map_or("-".into(), |d| d.name.clone());
            format!("model: {model}, data: {data}")
        })
    };
    view! {
        <aside class="controls">
            <h2>"Data"</h2>
            {choice(
                "dataset", "Data set", None,
                move || config.with(|c| c.surface.problem.dataset),
                move |d| config.update(|c| c.surface.problem.dataset = d),
            )}
            <Show when=gmm>
                {count_slider(
                    "classes", "Classes", 2, 10,
                    move || config.with(|c| c.surface.problem.classes),
                    move |n| config.update(|c| c.surface.problem.classes = n),
                )}
                {range(
                    "separation", "Separation of the means", 0.5, 5.0, 0.25,
                    move || config.with(|c| c.surface.problem.separation),
                    move |v| config.update(|c| c.surface.problem.separation = v),
                    |v| format!("{v:.2}"),
                )}
            </Show>
            <h2>"Network"</h2>
            {log2_slider(
                "width", "Width n", 3,
                move || 9,
                move || config.with(|c| (c.surface.problem.width.max(1) as f64).log2().round() as u32),
                move |k| config.update(|c| c.surface.problem.width = 1 << k),
            )}
            {count_slider(
                "depth", "Hidden layers", 1, 4,
                move || config.with(|c| c.surface.problem.depth),
                move |n| config.update(|c| c.surface.problem.depth = n),
            )}
            {choice(
                "activation", "Activation", None,
                move || config.with(|c| c.surface.problem.activation),
                move |a| config.update(|c| c.surface.problem.activation = a),
            )}
            {choice(
                "loss", "Loss", None,
                move || config.with(|c| c.surface.problem.loss),
                move |l| config.update(|c| c.surface.problem.loss = l),
            )}
            <h2>"Training (SGD with momentum)"</h2>
            {count_slider(
                "epochs", "Epochs", 2, 100,
                move || config.with(|c| c.surface.problem.epochs),
                move |n| config.update(|c| c.surface.problem.epochs = n),
            )}
            {lr_slider(
                -3.0, 0.0,
                move || config.with(|c| c.surface.problem.lr),
                move |v| config.update(|c| c.surface.problem.lr = v),
            )}
            {seed_input(
                move || config.with(|c| c.surface.problem.seed),
                move |s| config.update(|c| c.surface.problem.seed = s),
                error,
            )}
            <h2>"The plane"</h2>
            {number_select(
                "grid", "Grid", GRIDS,
                move || config.with(|c| c.surface.grid),
                move |n| config.update(|c| c.surface.grid = n),
            )}
            {range(
                "span", "Half-width of the plane", 0.25, 3.0, 0.25,
                move || config.with(|c| c.surface.span),
                move |v| config.update(|c| c.surface.span = v),
                |v| format!("{v:.2}"),
            )}
            {choice(
                "directions", "Directions", None,
                move || config.with(|c| c.surface.directions),
                move |d| config.update(|c| c.surface.directions = d),
            )}
            <Show when=filter>
                {choice(
                    "bias", "Biases", None,
                    move || config.with(|c| c.surface.bias),
                    move |b| config.update(|c| c.surface.bias = b),
                )}
            </Show>
            <h2>"The Hessian"</h2>
            {count_slider(
                "top-k", "Top eigenvalues k", 1, 20,
                move || config.with(|c| c.spectrum.top_k),
                move |n| config.update(|c| c.spectrum.top_k = n),
            )}
            {range(
                "iterations", "Lanczos steps", 10.0, 200.0, 10.0,
                move || config.with(|c| c.spectrum.iterations as f64),
                move |v| config.update(|c| c.spectrum.iterations = v as usize),
                |v| format!("{v}"),
            )}
            {range(
                "trace-probes", "Hutchinson probes (trace)", 0.0, 100.0, 10.0,
                move || config.with(|c| c.spectrum.trace_probes as f64),
                move |v| config.update(|c| c.spectrum.trace_probes = v as usize),
                |v| format!("{v}"),
            )}
            {count_slider(
                "density-probes", "SLQ probes (density)", 0, 10,
                move || config.with(|c| c.spectrum.density_probes),
                move |n| config.update(|c| c.spectrum.density_probes = n),
            )}
            <div class="control">
                <label>
                    <input
                        type="checkbox"
                        id="per-layer"
                        prop:checked=move || config.with(|c| c.spectrum.per_layer)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            config.update(|c| c.spectrum.per_layer = on);
                        }
                    />
                    " Each layer's block H_ll too"
                </label>
            </div>
            {number_select(
                "minibatch", "Mini-batch Hessian of", MINIBATCHES,
                move || config.with(|c| c.spectrum.minibatch),
                move |n| config.update(|c| c.spectrum.minibatch = n),
            )}
            <h2>"Edge of stability"</h2>
            {list_box(
                "lrs", "Learning rates η", "0.5, 1, 2",
                move || config.with(|c| c.sharpness.lrs.clone()),
                move |v| config.update(|c| c.sharpness.lrs = v),
                error,
            )}
            {range(
                "gd-steps", "Gradient-descent steps", 100.0, 3000.0, 100.0,
                move || config.with(|c| c.sharpness.steps as f64),
                move |v| config.update(|c| c.sharpness.steps = v as usize),
                |v| format!("{v}"),
            )}
            <h2>"Intrinsic dimension"</h2>
            {list_box(
                "dims", "Subspace dimensions d", "10, 20, 40, 80",
                move || config.with(|c| c.intrinsic.dims.clone()),
                move |v| config.update(|c| c.intrinsic.dims = v),
                error,
            )}
            <h2>"Your own model"</h2>
            <p class="hint">{text::UPLOAD}</p>
            {file_input("model-file", "Model (.safetensors)", ".safetensors", Slot::Model, uploads, error)}
            {file_input("data-file", "Data (.csv)", ".csv,text/csv", Slot::Data, uploads, error)}
            <p class="hint" id="upload-status">{upload_status}</p>
            <Show when=own>
                <button id="clear-uploads" on:click=move |_| uploads.set(Uploads::default())>
                    "Back to the trained network"
                </button>
            </Show>
        </aside>
    }
}
