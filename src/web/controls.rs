//! Labelled form controls shared by the rooms: selects and sliders bound to a config.

use leptos::prelude::*;

/// `x` rounded to 3 significant digits (so that URLs stay short and readable).
pub fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * p).round() / p
}

/// A labelled `<select>`.
pub fn select(
    id: &'static str,
    label: &'static str,
    options: &'static [(&'static str, &'static str)],
    get: impl Fn() -> String + Copy + Send + Sync + 'static,
    set: impl Fn(String) + Copy + 'static,
) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{label}</label>
            <select id=id prop:value=get on:change=move |ev| set(event_target_value(&ev))>
                {options
                    .iter()
                    .map(|&(value, text)| {
                        view! { <option value=value selected=move || get() == value>{text}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A labelled range slider showing its value.
#[allow(clippy::too_many_arguments)]
pub fn range(
    id: &'static str,
    label: &'static str,
    min: f64,
    max: f64,
    step: f64,
    get: impl Fn() -> f64 + Copy + Send + Sync + 'static,
    set: impl Fn(f64) + Copy + 'static,
    show: fn(f64) -> String,
) -> impl IntoView {
    view! {
        <div class="control">
            <label for=id>{label} " " <output>{move || show(get())}</output></label>
            <input
                type="range"
                id=id
                min=min
                max=max
                step=step
                prop:value=get
                on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        set(v)
                    }
                }
            />
        </div>
    }
}

/// The seed box: a whole number >= 0, or a message in `error`.
pub fn seed_input(
    get: impl Fn() -> u64 + Copy + Send + Sync + 'static,
    set: impl Fn(u64) + Copy + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    view! {
        <div class="control">
            <label for="seed">"Seed"</label>
            <input
                type="number"
                id="seed"
                min="0"
                prop:value=get
                on:change=move |ev| {
                    match event_target_value(&ev).parse::<u64>() {
                        Ok(s) => set(s),
                        Err(_) => error.set(Some("seed: a whole number ≥ 0".into())),
                    }
                }
            />
        </div>
    }
}
