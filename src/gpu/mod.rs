//! The GPU backend: WGSL compute shaders (in `shaders/`) run through wgpu, WebGPU in the browser
//! and Vulkan natively. Everything here mirrors a CPU reference in `src/core` and is tested
//! against it (`tests/gpu.rs`). f32 only.
//!
//! Layered like wgpu's own examples: [`GpuContext`] (adapter, device, pipelines, built once) ->
//! [`GpuEnsemble`] (parameters and optimizer state of many networks, resident on the device)
//! -> its operations (forward, gradients, training step, evaluation), which read back only what
//! is asked for, with `map_async` (never a blocking poll in the browser).

mod context;
mod either;
mod engine;
mod ensemble;
mod init_sampler;
mod kernels;

pub use context::GpuContext;
pub use either::{AnyEnsemble, AnyEnsemble64};
pub use engine::GpuEngine;
pub use ensemble::GpuEnsemble;
pub use init_sampler::GpuInitSampler;
pub use kernels::{MatmulKernel, SHADERS};
