//! The command line's pieces: one module per room, the generic run path, and file I/O.

pub mod by_name;
pub mod collapse;
pub mod connectivity;
pub mod depth;
pub mod files;
pub mod landscape;
pub mod limits;
pub mod playground;
pub mod run;
pub mod width;
