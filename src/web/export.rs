//! A figure on the page with its export buttons: SVG, PNG (rasterized at 2x), and its data as
//! CSV and JSON.

use super::glue;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Scale of PNG exports relative to the SVG's size (crisp on print and high-DPI screens).
const PNG_SCALE: f64 = 2.0;

/// The figure `svg` (an SVG document, or an error message to show instead) with buttons that
/// download `stem.svg`, `stem.png`, `stem.csv` (the figure's data, so only once there is a
/// figure) and `stem.json` (the whole result, available before the figure is); `csv` and `json`
/// give them when a button asks.
pub fn figure(
    stem: &'static str,
    svg: Memo<Result<String, String>>,
    csv: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    json: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ok = move || svg.with(|s| s.is_ok());
    let save_svg = move |_| {
        if let Ok(s) = svg.get_untracked() {
            glue::download_text(&format!("{stem}.svg"), "image/svg+xml", &s);
        }
    };
    let save_png = move |_| {
        if let Ok(s) = svg.get_untracked() {
            spawn_local(async move {
                if let Err(e) =
                    glue::download_svg_as_png(&format!("{stem}.png"), &s, PNG_SCALE).await
                {
                    web_sys::console::error_1(&format!("PNG export of {stem}: {e}").into());
                }
            });
        }
    };
    let save_csv = move |_| {
        if let Some(csv) = csv() {
            glue::download_text(&format!("{stem}.csv"), "text/csv", &csv);
        }
    };
    let save_json = move |_| {
        if let Some(json) = json() {
            glue::download_text(&format!("{stem}.json"), "application/json", &json);
        }
    };
    view! {
        <figure class="figure" data-figure=stem>
            <div
                class="svg"
                inner_html=move || match svg.get() {
                    Ok(s) => s,
                    Err(e) => format!("<p class=\"figure-message\">{}</p>", escape(&e)),
                }
            ></div>
            <figcaption class="exports">
                <button on:click=save_svg prop:disabled=move || !ok() data-export="svg">"SVG"</button>
                <button on:click=save_png prop:disabled=move || !ok() data-export="png">"PNG"</button>
                <button on:click=save_csv prop:disabled=move || !ok() data-export="csv">"CSV"</button>
                <button on:click=save_json data-export="json">"JSON"</button>
            </figcaption>
        </figure>
    }
}

/// Text safe inside HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
