pub mod core;
pub mod error;
pub mod plot;
