//! Experiments: config -> stepper -> result, one module per room. Each is written once against
//! the [`crate::core::train::Engine`] trait and runs on the CPU or the GPU backend.

pub mod coordcheck;
pub mod function_space;
pub mod kernel_convergence;
pub mod lr_transfer;
pub mod permalink;
pub mod playground;
pub mod training;
pub mod width;
