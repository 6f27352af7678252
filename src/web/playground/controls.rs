//! The Playground's controls: the data (or an uploaded CSV), the network, its training. Every
//! control edits the config, which restarts the run.

use super::super::Compute;
use super::super::controls::{range, seed_input, select};
use super::super::room::{choice, count_slider, log2_slider, lr_slider};
use crate::core::data::{Dataset, DatasetName, TargetColumns, parse_csv};
use crate::core::parametrization::Parametrization;
use crate::core::train::TrainConfig;
use crate::error::Error;
use crate::experiments::playground::{GRID, Plane};
use crate::experiments::sweep::page_max_width_log2;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// The data sets of the plane.
const DATASETS: &[DatasetName] = &[
    DatasetName::Spiral,
    DatasetName::Circles,
    DatasetName::Xor,
    DatasetName::GaussianMixture,
    DatasetName::Csv,
];
/// The presets (free exponents live in the Width room's abc map).
const PRESETS: &[Parametrization] = &[
    Parametrization::Sp,
    Parametrization::Ntk,
    Parametrization::Mup,
    Parametrization::MeanField,
];

/// Reads an uploaded CSV of points; on success it becomes the data set.
fn on_file(
    ev: leptos::ev::Event,
    config: RwSignal<TrainConfig>,
    upload: RwSignal<Option<Arc<Dataset>>>,
    error: RwSignal<Option<String>>,
) {
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
    if let Err(e) = crate::web::glue::check_upload_size(&file, crate::web::glue::MAX_CSV_BYTES) {
        error.set(Some(e));
        return;
    }
    spawn_local(async move {
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        let parsed = match text.ok().and_then(|t| t.as_string()) {
            Some(text) => parse_csv(&text, TargetColumns::Class).and_then(|d| {
                super::check_upload(&d)?;
                Plane::around(&[&d], GRID).map(|_| d)
            }),
            None => Err(Error::Data("the file could not be read as text".into())),
        };
        match parsed {
            Ok(data) => {
                upload.set(Some(Arc::new(data)));
                config.update(|c| c.data.dataset = DatasetName::Csv);
            }
            Err(e) => error.set(Some(format!("{name}: {e}"))),
        }
    });
}

/// Every control of the room.
#[component]
pub fn Controls(
    config: RwSignal<TrainConfig>,
    upload: RwSignal<Option<Arc<Dataset>>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let compute = expect_context::<Compute>();
    let max_width_log2 = move || page_max_width_log2(compute.active().flatten().is_some());
    view! {
        <aside class="controls">
            <h2>"Data"</h2>
            {choice(
                "dataset", "Data set", Some(DATASETS),
                move || config.with(|c| c.data.dataset),
                move |name| config.update(|c| {
                    c.data.dataset = name;
                    if name == DatasetName::GaussianMixture {
                        c.data.dim = 2;
                        c.data.classes = 2;
                    }
                }),
            )}
            <label class="file">
                "Upload points (x1, x2, class)"
                <input
                    type="file"
                    id="csv-file"
                    accept=".csv,text/csv"
                    on:change=move |ev| on_file(ev, config, upload, error)
                />
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
            {log2_slider(
                "width", "Width", 0, max_width_log2,
                move || config.with(|c| c.width.max(1).ilog2()),
                move |k| config.update(|c| c.width = 1 << k),
            )}
            {count_slider(
                "depth", "Hidden layers", 1, 8,
                move || config.with(|c| c.depth),
                move |n| config.update(|c| c.depth = n),
            )}
            {choice(
                "activation", "Activation", None,
                move || config.with(|c| c.activation),
                move |a| config.update(|c| c.activation = a),
            )}
            {choice(
                "parametrization", "Parametrization", Some(PRESETS),
                move || config.with(|c| c.parametrization),
                move |p| config.update(|c| c.parametrization = p),
            )}
            <h2>"Training"</h2>
            {choice(
                "optimizer", "Optimizer", None,
                move || config.with(|c| c.optimizer.kind),
                move |k| config.update(|c| c.optimizer.kind = k),
            )}
            {lr_slider(
                -4.0, 1.0,
                move || config.with(|c| c.optimizer.lr),
                move |lr| config.update(|c| c.optimizer.lr = lr),
            )}
            {select(
                "batch-size", "Batch size",
                &[("0", "full batch"), ("8", "8"), ("16", "16"), ("32", "32"), ("64", "64"), ("128", "128")],
                move || config.with(|c| c.batch_size.to_string()),
                move |v| if let Ok(n) = v.parse() { config.update(|c| c.batch_size = n) },
            )}
            {choice(
                "loss", "Loss", None,
                move || config.with(|c| c.loss),
                move |l| config.update(|c| c.loss = l),
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
                error,
            )}
        </aside>
    }
}
