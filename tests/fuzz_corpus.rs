//! The fuzz corpora replayed on stable: every input libFuzzer kept for `fuzz/fuzz_targets/*`
//! (the seeds, the inputs that reached new code, and any that once crashed) goes through the
//! same harness again, so a regression in a parser fails `cargo test` without nightly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// Runs `target` on every file of `fuzz/corpus/<name>` and returns how many it ran.
fn replay(name: &str, target: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name);
    let mut runs = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        target(&std::fs::read(&path).expect("a corpus file"));
        runs += 1;
    }
    runs
}

#[test]
fn the_csv_reader_survives_its_corpus() {
    assert!(replay("csv", harness::csv) >= 10);
}

#[test]
fn the_model_loader_survives_its_corpus() {
    assert!(replay("safetensors", harness::safetensors) >= 10);
}

#[test]
fn the_permalink_decoder_survives_its_corpus() {
    assert!(replay("permalink", harness::permalink) >= 10);
}

#[test]
fn the_config_reader_survives_its_corpus() {
    assert!(replay("config", harness::config) >= 10);
}
