//! The Width room's controls: the networks, their training, the kernels, and the abc exponents.
//! Every control edits the config, which restarts the sweep (except the abc map's sliders).

use super::super::controls::{range, round_sig, seed_input};
use super::super::room::{choice, choice_or, count_slider, log2_slider, lr_slider};
use crate::core::abc::AbcRules;
use crate::core::abc_regime::classify;
use crate::core::parametrization::Parametrization;
use crate::core::vocabulary::Choice;
use crate::experiments::sweep::page_max_width_log2;
use crate::experiments::width::WidthConfig;
use leptos::prelude::*;

/// The sweep's controls; `gpu`: whether WebGPU runs the coordinate check (wider networks).
#[component]
pub fn Controls(
    config: RwSignal<WidthConfig>,
    gpu: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <aside class="controls">
            <h2>"Networks"</h2>
            {log2_slider(
                "max-width", "Widths up to", 6,
                move || page_max_width_log2(gpu.get()),
                move || config.with(|c| c.max_width_log2),
                move |k| config.update(|c| c.max_width_log2 = k),
            )}
            {count_slider(
                "depth", "Hidden layers", 1, 6,
                move || config.with(|c| c.depth),
                move |n| config.update(|c| c.depth = n),
            )}
            {choice(
                "activation", "Activation", None,
                move || config.with(|c| c.activation),
                move |a| config.update(|c| c.activation = a),
            )}
            {count_slider(
                "seeds", "Seeds per width", 1, 8,
                move || config.with(|c| c.seeds),
                move |n| config.update(|c| c.seeds = n),
            )}
            <h2>"Training (coordinate check)"</h2>
            {choice_or(
                "parametrization", "Parametrization", None,
                move || config.with(|c| c.parametrization),
                move |p| config.update(|c| c.parametrization = p),
                Some("abc sliders (below)"),
                move || config.update(|c| c.parametrization = Parametrization::Custom(c.abc)),
            )}
            {choice(
                "optimizer", "Optimizer", None,
                move || config.with(|c| c.optimizer),
                move |k| config.update(|c| c.optimizer = k),
            )}
            {lr_slider(
                -4.0, 0.5,
                move || config.with(|c| c.lr),
                move |lr| config.update(|c| c.lr = lr),
            )}
            {count_slider(
                "steps", "Steps T", 2, 20,
                move || config.with(|c| c.steps),
                move |n| config.update(|c| c.steps = n),
            )}
            <h2>"Kernels (NTK parametrization)"</h2>
            {range(
                "weight-var", "Weight variance σ_w²", 0.5, 4.0, 0.1,
                move || config.with(|c| c.weight_var),
                move |v| config.update(|c| c.weight_var = round_sig(v)),
                |v| format!("{v:.1}"),
            )}
            {range(
                "bias-var", "Bias variance σ_b²", 0.0, 1.0, 0.05,
                move || config.with(|c| c.bias_var),
                move |v| config.update(|c| c.bias_var = round_sig(v)),
                |v| format!("{v:.2}"),
            )}
            {seed_input(
                move || config.with(|c| c.seed),
                move |s| config.update(|c| c.seed = s),
                error,
            )}
        </aside>
    }
}

/// Changes the abc exponents, and the trained networks' too when they use the sliders.
fn set_abc(config: &mut WidthConfig, change: impl FnOnce(&mut AbcRules)) {
    change(&mut config.abc);
    if let Parametrization::Custom(_) = config.parametrization {
        config.parametrization = Parametrization::Custom(config.abc);
    }
}

/// One exponent slider of the abc map.
fn exponent(
    config: RwSignal<WidthConfig>,
    id: &'static str,
    label: &'static str,
    get: fn(&AbcRules) -> f64,
    set: fn(&mut AbcRules, f64),
) -> impl IntoView {
    range(
        id,
        label,
        -1.5,
        2.0,
        0.25,
        move || config.with(|c| get(&c.abc)),
        move |v| config.update(|c| set_abc(c, |abc| set(abc, v))),
        |v| format!("{v}"),
    )
}

/// The abc exponents of the map (and of the trained networks under "abc sliders").
#[component]
pub fn AbcControls(config: RwSignal<WidthConfig>) -> impl IntoView {
    let verdict = move || config.with(|c| classify(&c.abc, c.depth, c.optimizer));
    let load = move |p: Parametrization| {
        config.update(|c| {
            let rules = p.rules(c.optimizer);
            set_abc(c, |abc| *abc = rules);
        })
    };
    view! {
        <div class="abc-controls">
            <div class="presets">
                "Load: "
                <button id="abc-sp" on:click=move |_| load(Parametrization::Sp)>"SP"</button>
                <button id="abc-ntk" on:click=move |_| load(Parametrization::Ntk)>"NTK"</button>
                <button id="abc-mup" on:click=move |_| load(Parametrization::Mup)>"muP"</button>
                <button id="abc-mf" on:click=move |_| load(Parametrization::MeanField)>"mean field"</button>
            </div>
            <h3>"Input layer"</h3>
            {exponent(config, "abc-input-a", "a₁", |r| r.input.a, |r, v| r.input.a = v)}
            {exponent(config, "abc-input-b", "b₁", |r| r.input.b, |r, v| r.input.b = v)}
            {exponent(config, "abc-input-c", "c₁", |r| r.input.c, |r, v| r.input.c = v)}
            <h3>"Hidden layers"</h3>
            {exponent(config, "abc-hidden-a", "a", |r| r.hidden.a, |r, v| r.hidden.a = v)}
            {exponent(config, "abc-hidden-b", "b", |r| r.hidden.b, |r, v| r.hidden.b = v)}
            {exponent(config, "abc-hidden-c", "c", |r| r.hidden.c, |r, v| r.hidden.c = v)}
            <h3>"Output layer"</h3>
            {exponent(config, "abc-output-a", "a_L+1", |r| r.output.a, |r, v| r.output.a = v)}
            {exponent(config, "abc-output-b", "b_L+1", |r| r.output.b, |r, v| r.output.b = v)}
            {exponent(config, "abc-output-c", "c_L+1", |r| r.output.c, |r, v| r.output.c = v)}
            <p id="abc-verdict" role="status">
                {move || {
                    let v = verdict();
                    format!(
                        "{} · r = {}, α = {}, u = {} ({} and {} hidden layers)",
                        v.regime.name(),
                        v.r,
                        v.alpha,
                        v.u,
                        config.with(|c| c.optimizer.name()),
                        config.with(|c| c.depth),
                    )
                }}
            </p>
            <ul class="violations">
                {move || verdict().violations.into_iter().map(|v| view! { <li>{v}</li> }).collect_view()}
            </ul>
        </div>
    }
}
