//! The in-browser benchmark's entry point (`bench/browser.mjs` calls it through
//! `window.theorylab.bench_train_step`).

use super::glue::now;
use crate::core::train::TrainConfig;
use crate::experiments::playground::training::Training;
use crate::gpu::GpuContext;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Milliseconds per optimizer step of `config` (TrainConfig JSON) after one warm-up step (the
/// first step also records the curves at step 0 and, on the GPU, compiles and allocates). On
/// the wasm CPU backend: each of steps 2..=steps timed alone. On WebGPU (`gpu`) one number, the
/// mean over those steps: a step only submits work, and the last one reads the loss back, so
/// only the whole run's time is the GPU's (timing each step would add a readback to each).
#[wasm_bindgen]
pub async fn bench_train_step(config: String, gpu: bool) -> Result<Vec<f64>, JsValue> {
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
    let mut times = Vec::with_capacity(config.steps - 1);
    loop {
        let t0 = now();
        let finished = training.advance().await.map_err(js)?.finished();
        times.push(now() - t0);
        if finished {
            break;
        }
    }
    if gpu {
        return Ok(vec![(now() - start) / times.len() as f64]);
    }
    Ok(times)
}
