//! The in-browser benchmark's entry point (`bench/browser.mjs` calls it through
//! `window.theorylab.bench_train_step`).

use super::glue::now;
use crate::core::train::TrainConfig;
use crate::experiments::playground::training::Training;
use crate::gpu::GpuContext;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Milliseconds per optimizer step of `config` (TrainConfig JSON) on WebGPU (`gpu`) or the
/// wasm CPU backend, averaged over steps 2..=steps after one warm-up step (the first step
/// also records the curves at step 0 and, on the GPU, compiles and allocates). The last step
/// reads the loss back, so GPU work is finished when the clock stops.
#[wasm_bindgen]
pub async fn bench_train_step(config: String, gpu: bool) -> Result<f64, JsValue> {
    let js = |e: crate::error::Error| JsValue::from_str(&e.to_string());
    let config: TrainConfig =
        serde_json::from_str(&config).map_err(|e| JsValue::from_str(&e.to_string()))?;
    if config.steps < 2 {
        return Err(JsValue::from_str("steps: at least 2 (one is warm-up)"));
    }
    let (train, test) = config.make_data().map_err(js)?;
    let mut training = if gpu {
        #[allow(clippy::arc_with_non_send_sync)] // single-threaded page, shared API
        let ctx = Arc::new(GpuContext::new().await.map_err(js)?);
        Training::gpu(ctx, &config, &train, test.as_ref()).await
    } else {
        Training::new(&config, &train, test.as_ref())
    }
    .map_err(js)?;
    training.advance().await.map_err(js)?;
    let start = now();
    while !training.advance().await.map_err(js)?.finished() {}
    Ok((now() - start) / (config.steps - 1) as f64)
}
