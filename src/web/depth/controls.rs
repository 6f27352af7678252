//! The Depth room's controls: the architecture, the initialization and the ensemble size.
//! Every control edits the config, which restarts the session.

use super::super::controls::{range, round_sig, seed_input};
use super::super::room::{choice, count_slider, log2_slider};
use crate::core::data::DatasetName;
use crate::experiments::depth::{
    DepthConfig, PAGE_MAX_DEPTH, PAGE_MAX_SAMPLES_LOG2, PAGE_MAX_WIDTH_LOG2,
};
use leptos::prelude::*;

/// The room's controls.
#[component]
pub fn Controls(config: RwSignal<DepthConfig>, error: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <aside class="controls">
            <h2>"Architecture"</h2>
            {count_slider(
                "depth", "Hidden layers L", 1, PAGE_MAX_DEPTH,
                move || config.with(|c| c.depth),
                move |n| config.update(|c| c.depth = n),
            )}
            {log2_slider(
                "width", "Width n", 2,
                move || PAGE_MAX_WIDTH_LOG2,
                move || config.with(|c| c.width_log2),
                move |k| config.update(|c| c.width_log2 = k),
            )}
            {choice(
                "activation", "Activation", None,
                move || config.with(|c| c.activation),
                move |a| config.update(|c| c.activation = a),
            )}
            {range(
                "residual", "Skip weight γ", 0.0, 0.95, 0.05,
                move || config.with(|c| c.residual),
                move |v| config.update(|c| c.residual = round_sig(v)),
                |v| format!("{v:.2}"),
            )}
            <h2>"Initialization"</h2>
            {range(
                "weight-var", "Weight variance C_W = σ_w²", 0.1, 4.0, 0.05,
                move || config.with(|c| c.weight_var),
                move |v| config.update(|c| c.weight_var = round_sig(v)),
                |v| format!("{v:.2}"),
            )}
            {range(
                "bias-var", "Bias variance C_b = σ_b²", 0.0, 0.5, 0.01,
                move || config.with(|c| c.bias_var),
                move |v| config.update(|c| c.bias_var = round_sig(v)),
                |v| format!("{v:.2}"),
            )}
            <h2>"Ensemble"</h2>
            {log2_slider(
                "samples", "Networks", 6,
                move || PAGE_MAX_SAMPLES_LOG2,
                move || config.with(|c| c.samples_log2),
                move |k| config.update(|c| c.samples_log2 = k),
            )}
            {seed_input(
                move || config.with(|c| c.seed),
                move |s| config.update(|c| c.seed = s),
                error,
            )}
            <h2>"Trained at a fixed budget"</h2>
            {choice(
                "task", "Task", Some(&[DatasetName::Digits, DatasetName::TeacherStudent]),
                move || config.with(|c| c.task),
                move |t| config.update(|c| c.task = t),
            )}
            <div class="control">
                <label>
                    <input
                        type="checkbox"
                        id="train"
                        prop:checked=move || config.with(|c| c.train)
                        on:change=move |ev| config.update(|c| c.train = event_target_checked(&ev))
                    />
                    " Train the networks (tens of seconds)"
                </label>
            </div>
        </aside>
    }
}
