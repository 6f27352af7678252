//! theorylab: an interactive laboratory for deep-learning theory. `core` holds the pure
//! numerics, `plot` the figure library (it knows no experiment), `gpu` the WGSL compute
//! backend, `experiments` one folder per room (config -> session -> result -> figures) and the
//! registry of experiments by name, `web` the browser app (wasm32 only); the native CLI is
//! `src/main.rs` with `src/cli`.

pub mod core;
pub mod error;
pub mod experiments;
pub mod gpu;
pub mod plot;
#[cfg(target_arch = "wasm32")]
pub mod web;
