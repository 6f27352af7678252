//! The few browser calls the app needs, from `www/glue.js`, and the page's location.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/www/glue.js")]
extern "C" {
    /// Milliseconds since the page loaded.
    pub fn now() -> f64;
    #[wasm_bindgen(js_name = fetchBytes)]
    fn fetch_bytes_promise(url: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = nextFrame)]
    fn next_frame_promise() -> js_sys::Promise;
    /// Downloads text as a file.
    #[wasm_bindgen(js_name = downloadText)]
    pub fn download_text(name: &str, mime: &str, text: &str);
    /// Downloads bytes as a file.
    #[wasm_bindgen(js_name = downloadBytes)]
    pub fn download_bytes(name: &str, mime: &str, bytes: &[u8]);
    #[wasm_bindgen(js_name = adapterDescription)]
    fn adapter_description_promise() -> js_sys::Promise;
    #[wasm_bindgen(js_name = onHashChange)]
    fn on_hash_change_js(f: &Closure<dyn FnMut()>);
    #[wasm_bindgen(js_name = downloadSvgAsPng)]
    fn download_svg_as_png_promise(name: &str, svg: &str, scale: f64) -> js_sys::Promise;
}

/// Resolves at the next animation frame: the page paints and handles input in between.
pub async fn next_frame() {
    // The promise never rejects.
    let _ = wasm_bindgen_futures::JsFuture::from(next_frame_promise()).await;
}

/// The WebGPU adapter's vendor, architecture and description as the browser reports them
/// (wgpu cannot see them), or "" if there is none.
pub async fn adapter_description() -> String {
    wasm_bindgen_futures::JsFuture::from(adapter_description_promise())
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Rasterizes an SVG at `scale` x its size and downloads it as PNG.
pub async fn download_svg_as_png(name: &str, svg: &str, scale: f64) -> Result<(), String> {
    wasm_bindgen_futures::JsFuture::from(download_svg_as_png_promise(name, svg, scale))
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The URL fragment without `#`, e.g. `/playground?width=128`.
pub fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| h.trim_start_matches('#').to_string())
        .unwrap_or_default()
}

/// Replaces the URL fragment without adding a history entry or reloading.
pub fn set_hash(fragment: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

/// The room named by the fragment's path (`/playground` when there is none).
pub fn room_path() -> String {
    let hash = hash();
    match hash.split('?').next().unwrap_or("") {
        "" | "/" => "/playground".into(),
        path => path.to_string(),
    }
}

/// Runs `f` on every change of the URL fragment, for the page's lifetime.
pub fn on_hash_change(f: impl FnMut() + 'static) {
    let closure = Closure::<dyn FnMut()>::new(f);
    on_hash_change_js(&closure);
    closure.forget(); // the listener lives as long as the page
}

/// Largest CSV the page reads: 4 MB (about 200,000 short rows), parsed in one piece in well
/// under a second; a larger file would hold the tab while it is parsed. The command line reads
/// larger ones, priced against its own budget.
pub const MAX_CSV_BYTES: f64 = 4e6;

/// Largest model file the page reads: 64 MB (16 million f32 weights); the room then prices
/// the work of evaluating it before it runs.
pub const MAX_MODEL_BYTES: f64 = 64e6;

/// Refuses a file above `limit` bytes before any of it is read, naming the file.
pub fn check_upload_size(file: &web_sys::File, limit: f64) -> Result<(), String> {
    let size = file.size();
    if size > limit {
        return Err(format!(
            "{}: {:.1} MB is more than the {:.0} MB this page reads at once; the command line reads it (theorylab ... --data / --model)",
            file.name(),
            size / 1e6,
            limit / 1e6
        ));
    }
    Ok(())
}

/// The file an `<input type="file">` change event chose, if any.
pub fn chosen_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|f| f.get(0))
}

/// A CSV file's name and text: refused above [`MAX_CSV_BYTES`] before it is read, and an error
/// naming it if it is not text.
pub async fn read_csv_file(file: web_sys::File) -> Result<(String, String), String> {
    check_upload_size(&file, MAX_CSV_BYTES)?;
    let name = file.name();
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
    match text.ok().and_then(|t| t.as_string()) {
        Some(text) => Ok((name, text)),
        None => Err(format!("{name}: the file could not be read as text")),
    }
}

/// The bytes of the file at `url` beside the page, or why not.
pub async fn fetch_bytes(url: &str) -> std::result::Result<Vec<u8>, String> {
    match wasm_bindgen_futures::JsFuture::from(fetch_bytes_promise(url)).await {
        Ok(bytes) => Ok(js_sys::Uint8Array::new(&bytes).to_vec()),
        Err(e) => Err(e
            .dyn_ref::<js_sys::Error>()
            .map_or_else(|| format!("{e:?}"), |e| String::from(e.message()))),
    }
}
