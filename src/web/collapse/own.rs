//! The Collapse room's upload: features, labels and (optionally) a classifier made elsewhere,
//! read as CSV and measured as the room measures its own runs (`theorylab nc-metrics` does the
//! same on the command line).

use super::super::glue::{chosen_file, read_csv_file};
use super::super::room::Figures;
use crate::core::collapse::NcMetrics;
use crate::experiments::FigureData;
use crate::experiments::collapse::figures;
use crate::experiments::collapse::own::{Named, OwnFeatures};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The files given so far: `(name, text)` each.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Uploads {
    features: Option<(String, String)>,
    labels: Option<(String, String)>,
    classifier: Option<(String, String)>,
    bias: Option<(String, String)>,
}

impl Uploads {
    fn any(&self) -> bool {
        self.features.is_some()
            || self.labels.is_some()
            || self.classifier.is_some()
            || self.bias.is_some()
    }
}

/// Which file an input holds.
#[derive(Clone, Copy)]
enum Slot {
    Features,
    Labels,
    Classifier,
    Bias,
}

fn named((name, text): &(String, String)) -> Named<'_> {
    Named { name, text }
}

/// The measures and figure of the uploads, once features and labels are there.
fn measured(uploads: &Uploads) -> Option<Result<(NcMetrics, FigureData), String>> {
    let (features, labels) = (uploads.features.as_ref()?, uploads.labels.as_ref()?);
    Some((|| {
        let own = OwnFeatures::read(
            named(features),
            named(labels),
            uploads.classifier.as_ref().map(named),
            uploads.bias.as_ref().map(named),
        )
        .map_err(|e| e.to_string())?;
        let (metrics, snapshot) = own.measure().map_err(|e| e.to_string())?;
        let sizes = own.class_sizes();
        let panels =
            figures::own_features(&snapshot, &sizes, &metrics).map_err(|e| e.to_string())?;
        let figure = FigureData {
            stem: "own-features",
            panels,
            panel_size: (340, 340),
            csv: figures::own_features_csv(&snapshot, &metrics),
        };
        Ok((metrics, figure))
    })())
}

/// The uploads' measures and figure, computed once per change of the files.
pub type Measured = Memo<Option<Result<(NcMetrics, FigureData), String>>>;

/// [`Measured`] of `uploads`.
pub fn measure(uploads: RwSignal<Uploads>) -> Measured {
    Memo::new(move |_| uploads.with(measured))
}

/// The uploads' figure (an error message until it can be drawn).
pub fn figures(measured: Measured) -> Figures {
    Memo::new(move |_| {
        measured.with(|m| match m {
            Some(Ok((_, figure))) => Ok(vec![figure.clone()]),
            Some(Err(e)) => Err(e.clone()),
            None => Err("give features and labels (CSV)".into()),
        })
    })
}

/// The uploads' measures as JSON (the export), as `theorylab nc-metrics --json` prints them.
pub fn json(measured: Measured) -> impl Fn() -> Option<String> + Copy + Send + Sync {
    move || {
        measured.with_untracked(|m| match m.as_ref()? {
            Ok((metrics, _)) => serde_json::to_string_pretty(metrics).ok(),
            Err(_) => None,
        })
    }
}

/// The uploads' measures as a table.
#[component]
pub fn Measures(measured: Measured) -> impl IntoView {
    let rows = move || {
        measured.with(|m| match m {
            Some(Ok((m, _))) => {
                let show =
                    |v: Option<f64>| v.map_or("undefined".to_string(), |v| format!("{v:.4e}"));
                let mut rows = vec![
                    ("NC1 = Tr(Σ_W Σ_B⁺)/C", show(m.nc1)),
                    ("NC2 equinorm, means", show(m.nc2_equinorm_means)),
                    ("NC2 equinorm, classifier", show(m.nc2_equinorm_classifier)),
                    ("NC2 equiangular", show(m.nc2_equiangular)),
                    ("NC2 cosines' std", show(m.nc2_cos_std)),
                    ("NC3 self-duality", show(m.nc3)),
                    ("NC4 disagreement", show(m.nc4)),
                ];
                rows.extend(m.notes.iter().map(|n| ("note", n.clone())));
                rows.into_iter()
                    .map(|(k, v)| view! { <tr><th>{k}</th><td>{v}</td></tr> })
                    .collect::<Vec<_>>()
            }
            _ => Vec::new(),
        })
    };
    view! { <table class="measures" id="own-measures">{rows}</table> }
}

/// The file inputs, the status and a button to clear them.
#[component]
pub fn Inputs(uploads: RwSignal<Uploads>, error: RwSignal<Option<String>>) -> impl IntoView {
    let input = move |id: &'static str, label: &'static str, slot: Slot| {
        let on_change = move |ev: leptos::ev::Event| {
            let Some(file) = chosen_file(&ev) else { return };
            spawn_local(async move {
                match read_csv_file(file).await {
                    Ok(file) => uploads.update(|u| {
                        let place = match slot {
                            Slot::Features => &mut u.features,
                            Slot::Labels => &mut u.labels,
                            Slot::Classifier => &mut u.classifier,
                            Slot::Bias => &mut u.bias,
                        };
                        *place = Some(file);
                    }),
                    Err(e) => error.set(Some(e)),
                }
            });
        };
        view! {
            <label class="file">
                {label}
                <input type="file" id=id accept=".csv,text/csv" on:change=on_change/>
            </label>
        }
    };
    let status = move || {
        uploads.with(|u| {
            let names: Vec<&str> = [&u.features, &u.labels, &u.classifier, &u.bias]
                .iter()
                .filter_map(|f| f.as_ref().map(|(n, _)| n.as_str()))
                .collect();
            if names.is_empty() {
                "Rows are samples: features N x d, labels N x 1 (0, 1, ...), W C x d, b C x 1."
                    .to_string()
            } else {
                format!("Read: {}", names.join(", "))
            }
        })
    };
    view! {
        {input("own-features-file", "Features H (.csv)", Slot::Features)}
        {input("own-labels-file", "Labels y (.csv)", Slot::Labels)}
        {input("own-classifier-file", "Classifier W (.csv, optional)", Slot::Classifier)}
        {input("own-bias-file", "Bias b (.csv, optional)", Slot::Bias)}
        <p class="hint" id="own-status">{status}</p>
        <Show when=move || uploads.with(Uploads::any)>
            <button id="clear-own" on:click=move |_| uploads.set(Uploads::default())>
                "Clear your features"
            </button>
        </Show>
    }
}
