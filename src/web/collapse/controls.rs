//! The Collapse room's controls: the data, the loss and decays, the network and the training.
//! Every control edits the config, which restarts the session.

use super::super::controls::{range, round_sig, seed_input};
use super::super::room::{choice, count_slider, log2_slider, lr_slider};
use crate::core::activation::Activation;
use crate::experiments::collapse::{
    CollapseConfig, CollapseData, DEFAULT_MLP_EPOCHS, MAX_CLASSES, MAX_DEPTH,
};
use leptos::prelude::*;

/// Activations offered (linear: a deep linear network).
const ACTIVATIONS: &[Activation] = &[
    Activation::Relu,
    Activation::Tanh,
    Activation::Gelu,
    Activation::Linear,
];

/// A decay on a log10 slider from 1e-5 to 1e-1.
fn decay(
    id: &'static str,
    label: &'static str,
    get: impl Fn() -> f64 + Copy + Send + Sync + 'static,
    set: impl Fn(f64) + Copy + 'static,
) -> impl IntoView {
    range(
        id,
        label,
        -5.0,
        -1.0,
        0.25,
        move || get().max(1e-5).log10(),
        move |v| set(round_sig(10f64.powf(v))),
        |v| format!("{:.2e}", 10f64.powf(v)),
    )
}

/// The room's controls.
#[component]
pub fn Controls(
    config: RwSignal<CollapseConfig>,
    error: RwSignal<Option<String>>,
    /// The upload of features made elsewhere, at the end.
    children: Children,
) -> impl IntoView {
    let ufm = move || config.with(|c| c.dataset == CollapseData::Ufm);
    view! {
        <aside class="controls">
            <h2>"Data"</h2>
            {choice(
                "dataset", "Features from", None,
                move || config.with(|c| c.dataset),
                move |d| config.update(|c| {
                    c.dataset = d;
                    // The features model runs to stationarity natively; the page gives it a
                    // budget of gradient steps.
                    c.epochs = (d == CollapseData::Ufm).then_some(1 << 13);
                }),
            )}
            {count_slider(
                "classes", "Classes C", 2, MAX_CLASSES,
                move || config.with(|c| c.classes),
                move |n| config.update(|c| {
                    c.classes = n;
                    c.class_sizes.clear();
                }),
            )}
            {range(
                "samples", "Samples per majority class", 10.0, 170.0, 10.0,
                move || config.with(|c| c.samples_per_class as f64),
                move |v| config.update(|c| {
                    c.samples_per_class = v as usize;
                    c.class_sizes.clear();
                }),
                |v| format!("{v}"),
            )}
            {range(
                "imbalance", "Majority / minority ratio R", 1.0, 20.0, 0.5,
                move || config.with(|c| c.imbalance),
                move |v| config.update(|c| {
                    c.imbalance = v;
                    c.class_sizes.clear();
                }),
                |v| format!("{v:.1}"),
            )}
            <h2>"Loss"</h2>
            {choice(
                "loss", "Loss", None,
                move || config.with(|c| c.loss),
                move |l| config.update(|c| c.loss = l),
            )}
            {decay(
                "weight-decay", "Weight decay λ_W",
                move || config.with(|c| c.weight_decay),
                move |v| config.update(|c| c.weight_decay = v),
            )}
            <Show when=ufm>
                {decay(
                    "feature-decay", "Feature decay λ_H",
                    move || config.with(|c| c.feature_decay),
                    move |v| config.update(|c| c.feature_decay = v),
                )}
            </Show>
            <div class="control">
                <label>
                    <input
                        type="checkbox"
                        id="bias"
                        prop:checked=move || config.with(|c| c.bias)
                        on:change=move |ev| config.update(|c| c.bias = event_target_checked(&ev))
                    />
                    " Biases"
                </label>
            </div>
            <h2>"Network"</h2>
            {log2_slider(
                "width", "Width n (feature dimension d)", 2,
                move || 8,
                move || config.with(|c| (c.width.max(1) as f64).log2().round() as u32),
                move |k| config.update(|c| c.width = 1 << k),
            )}
            <Show when=move || !ufm()>
                {count_slider(
                    "depth", "Hidden layers", 1, MAX_DEPTH,
                    move || config.with(|c| c.depth),
                    move |n| config.update(|c| {
                        c.depth = n;
                        c.linear_layers = c.linear_layers.min(n);
                    }),
                )}
                {choice(
                    "activation", "Activation", Some(ACTIVATIONS),
                    move || config.with(|c| c.activation),
                    move |a| config.update(|c| c.activation = a),
                )}
            </Show>
            {count_slider(
                "linear-layers", "Linear layers at the end (MLP: its last ones; features model: a deep linear head)", 0, MAX_DEPTH,
                move || config.with(|c| c.linear_layers),
                move |k| config.update(|c| {
                    c.linear_layers = if c.dataset == CollapseData::Ufm { k } else { k.min(c.depth) };
                }),
            )}
            <h2>"Training"</h2>
            {log2_slider(
                "epochs", "Epochs (features model: gradient steps)", 4,
                move || 16,
                move || config.with(|c| {
                    (c.epochs.unwrap_or(DEFAULT_MLP_EPOCHS) as f64).log2().round() as u32
                }),
                move |k| config.update(|c| c.epochs = Some(1 << k)),
            )}
            {lr_slider(
                -3.0, 0.0,
                move || config.with(|c| c.lr),
                move |v| config.update(|c| c.lr = v),
            )}
            {seed_input(
                move || config.with(|c| c.seed),
                move |s| config.update(|c| c.seed = s),
                error,
            )}
            <h2>"Your features"</h2>
            {children()}
        </aside>
    }
}
