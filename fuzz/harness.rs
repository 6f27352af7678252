//! What each fuzz target does with its input, shared by the libFuzzer targets
//! (`fuzz/fuzz_targets/`) and the corpus replay on stable (`tests/fuzz_corpus.rs`). Every
//! function must return (an error is fine) without a panic, an abort or a large allocation.

#![allow(dead_code)] // each fuzz target uses one of these functions

use theorylab::core::activation::Activation;
use theorylab::core::data::{TargetColumns, parse_csv, parse_points};
use theorylab::core::model_file::from_safetensors;
use theorylab::core::train::TrainConfig;
use theorylab::experiments::collapse::CollapseConfig;
use theorylab::experiments::connectivity::ConnectivityPage;
use theorylab::experiments::depth::DepthConfig;
use theorylab::experiments::landscape::LandscapePage;
use theorylab::experiments::permalink::decode;
use theorylab::experiments::width::WidthConfig;

/// A CSV upload or `--data` file, read every way a room reads one.
pub fn csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_csv(text, TargetColumns::Class);
    let _ = parse_csv(text, TargetColumns::Values(1));
    let _ = parse_csv(text, TargetColumns::Values(3));
    let _ = parse_points(text);
}

/// A model file (`--model`, the Connectivity and Landscape uploads); a model that loads is
/// priced, as every reader does before evaluating it.
pub fn safetensors(data: &[u8]) {
    if let Ok(mlp) = from_safetensors(data, Activation::Tanh) {
        let _ = mlp.cost(1, 100, 8).bytes();
    }
}

/// A permalink's query string, decoded as every room's config and checked as its page does.
pub fn permalink(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = decode::<TrainConfig>(query)
        && c.validate().is_ok()
    {
        let (rows, input, outputs) = c.data.shape();
        let _ = c.cost(rows, input, outputs).bytes();
    }
    if let Ok(c) = decode::<WidthConfig>(query) {
        let _ = c.validate();
    }
    if let Ok(c) = decode::<DepthConfig>(query) {
        let _ = c.validate();
    }
    if let Ok(c) = decode::<CollapseConfig>(query) {
        let _ = c.validate_page();
    }
    if let Ok(c) = decode::<ConnectivityPage>(query) {
        let _ = c.validate_page();
    }
    if let Ok(c) = decode::<LandscapePage>(query) {
        let _ = c.validate_page();
    }
}

/// A `--config` file, as TOML and as JSON, validated and priced as `train` does.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let configs = [
        toml::from_str::<TrainConfig>(text).ok(),
        serde_json::from_str::<TrainConfig>(text).ok(),
    ];
    for c in configs.into_iter().flatten() {
        if c.validate().is_ok() {
            let (rows, input, outputs) = c.data.shape();
            let _ = c.cost(rows, input, outputs).bytes();
        }
    }
}
