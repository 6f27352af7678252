pub mod core;
pub mod error;
pub mod experiments;
pub mod gpu;
pub mod plot;
#[cfg(target_arch = "wasm32")]
pub mod web;
