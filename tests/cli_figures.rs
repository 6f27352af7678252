//! The command line makes every figure the page shows, through one path: `--out DIR` writes the
//! result JSON and, per figure, its SVG, PNG (2x) and CSV; the CSV holds the result's numbers;
//! every flag's default is the experiment config's `Default`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use std::path::{Path, PathBuf};
use std::process::Command;
use theorylab::experiments::width::coordcheck::{CoordCheckConfig, CoordCheckResult};
use theorylab::experiments::width::function_space::FunctionSpaceConfig;
use theorylab::experiments::width::lr_transfer::LrTransferConfig;

fn theorylab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("theorylab-figures-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn assert_figures(dir: &Path, stems: &[&str]) {
    for stem in stems {
        for ext in ["svg", "png", "csv"] {
            let path = dir.join(format!("{stem}.{ext}"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(!bytes.is_empty(), "{path:?} is empty");
        }
        let png = std::fs::read(dir.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png");
    }
}

#[test]
fn coordcheck_writes_every_figure_with_the_numbers_of_its_json() {
    let dir = out_dir("coordcheck");
    let d = dir.to_str().unwrap();
    theorylab(&[
        "coordcheck",
        "--widths",
        "32,64",
        "--steps",
        "3",
        "--seeds",
        "1",
        "--out",
        d,
    ]);
    assert_figures(&dir, &["coordinate-check", "coordinate-change", "movement"]);
    let json = std::fs::read_to_string(dir.join("coordcheck.json")).unwrap();
    let result: CoordCheckResult = serde_json::from_str(&json).unwrap();
    let csv = std::fs::read_to_string(dir.join("coordinate-check.csv")).unwrap();
    let mut rows = csv.lines();
    assert_eq!(rows.next(), Some("width,step,layer,act_size,delta_size"));
    let mut count = 0;
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        let w = result
            .widths
            .iter()
            .position(|n| n.to_string() == cells[0])
            .unwrap();
        let t: usize = cells[1].parse().unwrap();
        let l = result.layers.iter().position(|n| n == cells[2]).unwrap();
        // Both files print the same f64 with shortest round-trip digits; serde_json's default
        // float parser (without its `float_roundtrip` feature) may land one ulp off.
        let same = |text: &str, x: f64| {
            let y: f64 = text.parse().unwrap();
            assert!((y - x).abs() <= f64::EPSILON * x.abs(), "{y} vs {x}");
        };
        same(cells[3], result.act_size[w][t - 1][l]);
        same(cells[4], result.delta_size[w][t - 1][l]);
        count += 1;
    }
    assert_eq!(count, 2 * 3 * result.layers.len());
}

/// The finite-width error figure the page shows had no command before `convergence`.
#[test]
fn kernel_convergence_is_made_headless() {
    let dir = out_dir("convergence");
    let d = dir.to_str().unwrap();
    let summary = theorylab(&[
        "convergence",
        "--widths",
        "16,64",
        "--seeds",
        "2",
        "--out",
        d,
    ]);
    assert!(
        summary.contains("width 16:") && summary.contains("width 64:"),
        "{summary}"
    );
    assert_figures(&dir, &["kernels", "kernel-error"]);
    let csv = std::fs::read_to_string(dir.join("kernel-error.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2);
    assert!(dir.join("convergence.json").exists());
}

/// A training run on points of the plane also writes the Playground page's maps.
#[test]
fn train_writes_the_playground_maps() {
    let dir = out_dir("train");
    let d = dir.to_str().unwrap();
    theorylab(&["train", "--steps", "5", "--backend", "cpu", "--out", d]);
    assert_figures(
        &dir,
        &["curves", "decision-map", "units-layer-1", "units-layer-2"],
    );
    // 48 x 48 cells of the decision map, one row each.
    let csv = std::fs::read_to_string(dir.join("decision-map.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 48 * 48);
}

/// `--help` shows the configs' defaults (one copy of each: the config's `Default`).
#[test]
fn flag_defaults_are_the_configs_defaults() {
    let help = theorylab(&["coordcheck", "--help"]);
    let widths = |w: &[usize]| w.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let c = CoordCheckConfig::default();
    assert!(
        help.contains(&format!("[default: {}]", widths(&c.widths))),
        "{help}"
    );
    assert!(help.contains(&format!("[default: {}]", c.lr)), "{help}");
    let help = theorylab(&["fnspace", "--help"]);
    let f = FunctionSpaceConfig::default();
    assert!(
        help.contains(&format!("[default: {}]", widths(&f.widths))),
        "{help}"
    );
    let help = theorylab(&["lrtransfer", "--help"]);
    let l = LrTransferConfig::default();
    assert!(
        help.contains(&format!("[default: {}]", l.log2_lr_max)),
        "{help}"
    );
    assert!(
        help.contains(&format!("[default: {}]", widths(&l.widths))),
        "{help}"
    );
}
