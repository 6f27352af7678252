pub mod core;
pub mod error;
