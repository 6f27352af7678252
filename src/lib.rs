//! theorylab: an interactive laboratory for deep-learning theory. `core` holds the pure
//! numerics, `experiments` the rooms' experiments (config -> session -> result), `plot` their
//! figures, `gpu` the WGSL compute backend, `web` the browser app (wasm32 only); the native
//! CLI is `src/main.rs` with `src/cli`.

pub mod core;
pub mod error;
pub mod experiments;
pub mod gpu;
pub mod plot;
#[cfg(target_arch = "wasm32")]
pub mod web;
