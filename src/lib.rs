pub mod core;
pub mod error;
pub mod gpu;
pub mod plot;
