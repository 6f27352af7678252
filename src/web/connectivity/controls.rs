//! The Connectivity room's controls: the data, the two networks and their training (seeds,
//! spawn step), the matching, the sweep, and the user's own models. Every control edits the
//! config (or the uploads), which restarts the session.

use super::super::controls::range;
use super::super::room::{choice, count_slider, log2_slider, lr_slider};
use super::{Named, Uploads};
use crate::core::activation::Activation;
use crate::experiments::connectivity::sweep::{SweepAxis, spawn_steps};
use crate::experiments::connectivity::{ConnectivityPage, LmcData, MAX_DEPTH};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Activations offered.
const ACTIVATIONS: &[Activation] = &[
    Activation::Relu,
    Activation::Tanh,
    Activation::Gelu,
    Activation::Linear,
];
/// The sweep's narrowest width, 2^4.
const SWEEP_MIN_LOG2: u32 = 4;

/// Which uploaded file an input holds.
#[derive(Clone, Copy)]
enum Slot {
    A,
    B,
    Data,
}

/// Reads an uploaded file into its slot of `uploads` (models as bytes, the data as text).
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
            Slot::A | Slot::B => {
                match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                    Ok(buffer) => {
                        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                        let model = Some(Named {
                            name,
                            contents: Arc::new(bytes),
                        });
                        uploads.update(|u| match slot {
                            Slot::A => u.a = model,
                            _ => u.b = model,
                        });
                    }
                    Err(_) => error.set(Some(format!("{name}: the file could not be read"))),
                }
            }
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

/// A whole-number box (a seed), or a message in `error`.
fn number_box(
    id: &'static str,
    label: &'static str,
    get: impl Fn() -> u64 + Copy + Send + Sync + 'static,
    set: impl Fn(u64) + Copy + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{label}</label>
            <input
                type="number"
                id=id
                min="0"
                prop:value=get
                on:change=move |ev| {
                    match event_target_value(&ev).parse::<u64>() {
                        Ok(s) => set(s),
                        Err(_) => error.set(Some(format!("{label}: a whole number ≥ 0"))),
                    }
                }
            />
        </div>
    }
}

/// The sweep's values after a change of axis or training length: widths 16 .. the largest
/// already swept, or the spawn steps worth sweeping for the pair's number of steps.
fn sweep_values(c: &mut ConnectivityPage, widest_log2: u32) {
    c.values = match c.axis {
        SweepAxis::Width => (SWEEP_MIN_LOG2..=widest_log2).map(|k| 1 << k).collect(),
        SweepAxis::Spawn => spawn_steps(c.pair.total_steps()),
    };
}

fn widest_log2(c: &ConnectivityPage) -> u32 {
    match c.axis {
        SweepAxis::Width => c.values.iter().max().map_or(7, |w| w.max(&1).ilog2()),
        SweepAxis::Spawn => 7,
    }
}

/// The room's controls.
#[component]
pub fn Controls(
    config: RwSignal<ConnectivityPage>,
    uploads: RwSignal<Uploads>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let gmm = move || config.with(|c| c.pair.dataset == LmcData::Gmm);
    let spawned = move || config.with(|c| c.pair.spawn.is_some());
    let total_steps = move || config.with(|c| c.pair.total_steps());
    let by_width = move || config.with(|c| c.axis == SweepAxis::Width);
    let own = move || uploads.with(Uploads::complete);
    let upload_status = move || {
        uploads.with(|u| {
            let name =
                |n: &Option<Named<Vec<u8>>>| n.as_ref().map_or("-".into(), |n| n.name.clone());
            let data = u.data.as_ref().map_or("-".into(), |d| d.name.clone());
            format!("A: {}, B: {}, data: {data}", name(&u.a), name(&u.b))
        })
    };
    view! {
        <aside class="controls">
            <h2>"Data"</h2>
            {choice(
                "dataset", "Data set", None,
                move || config.with(|c| c.pair.dataset),
                move |d| config.update(|c| c.pair.dataset = d),
            )}
            <Show when=gmm>
                {count_slider(
                    "classes", "Classes", 2, 10,
                    move || config.with(|c| c.pair.classes),
                    move |n| config.update(|c| c.pair.classes = n),
                )}
                {range(
                    "separation", "Separation of the means", 0.5, 5.0, 0.25,
                    move || config.with(|c| c.pair.separation),
                    move |v| config.update(|c| c.pair.separation = v),
                    |v| format!("{v:.2}"),
                )}
            </Show>
            <h2>"Networks"</h2>
            {log2_slider(
                "width", "Width n", 3,
                move || 9,
                move || config.with(|c| (c.pair.width.max(1) as f64).log2().round() as u32),
                move |k| config.update(|c| c.pair.width = 1 << k),
            )}
            {count_slider(
                "depth", "Hidden layers", 1, MAX_DEPTH.min(4),
                move || config.with(|c| c.pair.depth),
                move |n| config.update(|c| c.pair.depth = n),
            )}
            {choice(
                "activation", "Activation", Some(ACTIVATIONS),
                move || config.with(|c| c.pair.activation),
                move |a| config.update(|c| c.pair.activation = a),
            )}
            {choice(
                "loss", "Loss", None,
                move || config.with(|c| c.pair.loss),
                move |l| config.update(|c| c.pair.loss = l),
            )}
            <h2>"Training"</h2>
            {count_slider(
                "epochs", "Epochs", 1, 40,
                move || config.with(|c| c.pair.epochs),
                move |n| config.update(|c| {
                    c.pair.epochs = n;
                    if c.axis == SweepAxis::Spawn {
                        sweep_values(c, 7);
                    }
                }),
            )}
            {lr_slider(
                -3.0, 0.0,
                move || config.with(|c| c.pair.lr),
                move |v| config.update(|c| c.pair.lr = v),
            )}
            {number_box(
                "seed-a", "Seed of A",
                move || config.with(|c| c.pair.seeds[0]),
                move |s| config.update(|c| c.pair.seeds[0] = s),
                error,
            )}
            {number_box(
                "seed-b", "Seed of B",
                move || config.with(|c| c.pair.seeds[1]),
                move |s| config.update(|c| c.pair.seeds[1] = s),
                error,
            )}
            <div class="control">
                <label>
                    <input
                        type="checkbox"
                        id="spawn"
                        prop:checked=spawned
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            config.update(|c| c.pair.spawn = on.then(|| c.pair.total_steps() / 4));
                        }
                    />
                    " Spawn B from A after k steps"
                </label>
            </div>
            <Show when=spawned>
                {move || count_slider(
                    "spawn-step", "Spawn step k", 0, total_steps(),
                    move || config.with(|c| c.pair.spawn.unwrap_or(0)),
                    move |k| config.update(|c| c.pair.spawn = Some(k)),
                )}
            </Show>
            <h2>"Matching"</h2>
            {choice(
                "matching", "Match B to A by", None,
                move || config.with(|c| c.pair.matching),
                move |m| config.update(|c| c.pair.matching = m),
            )}
            <h2>"Sweep"</h2>
            {choice(
                "axis", "Barrier against", None,
                move || config.with(|c| c.axis),
                move |a| config.update(|c| {
                    c.axis = a;
                    sweep_values(c, 7);
                }),
            )}
            <Show when=by_width>
                {log2_slider(
                    "sweep-width", "Widest network swept", SWEEP_MIN_LOG2 + 1,
                    move || 8,
                    move || config.with(widest_log2),
                    move |k| config.update(|c| sweep_values(c, k)),
                )}
            </Show>
            {count_slider(
                "pairs", "Pairs of seeds per value", 1, 8,
                move || config.with(|c| c.pairs),
                move |n| config.update(|c| c.pairs = n),
            )}
            <h2>"Your own models"</h2>
            <p class="hint">
                "Two models of one architecture (torch.nn.Sequential of Linear layers, saved with safetensors) and a CSV (features, then the class, or the targets for MSE); the activation and loss above apply."
            </p>
            {file_input("model-a", "Model A (.safetensors)", ".safetensors", Slot::A, uploads, error)}
            {file_input("model-b", "Model B (.safetensors)", ".safetensors", Slot::B, uploads, error)}
            {file_input("data-file", "Data (.csv)", ".csv,text/csv", Slot::Data, uploads, error)}
            <p class="hint" id="upload-status">{upload_status}</p>
            <Show when=own>
                <button id="clear-uploads" on:click=move |_| uploads.set(Uploads::default())>
                    "Back to the trained pair"
                </button>
            </Show>
        </aside>
    }
}
