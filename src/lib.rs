pub mod core;
pub mod error;
pub mod experiments;
pub mod gpu;
pub mod plot;
