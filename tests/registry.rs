//! Experiments by name: the registry lists each experiment once, its default config reads back
//! from JSON and TOML, a config file run by name gives exactly the bytes of the experiment's own
//! subcommand, and a page's JSON export replays the run that made it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::{fails_with, theorylab};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::ops::ControlFlow;
use theorylab::core::stepper::run;
use theorylab::experiments::registry::{self, EXPERIMENTS, Format, config_of, export_json};
use theorylab::experiments::width::coordcheck::CoordCheckConfig;
use theorylab::experiments::{Experiment, ROOMS};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("theorylab-registry-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(args: &[&str]) -> String {
    let out = theorylab(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_experiment_has_one_name_and_a_room() {
    let mut names = HashSet::new();
    for e in EXPERIMENTS {
        assert!(names.insert(e.name), "{} is listed twice", e.name);
        assert!(
            ROOMS
                .iter()
                .any(|r| r.path == e.room && r.commands.contains(&e.name)),
            "{}: its room {} does not list it",
            e.name,
            e.room
        );
    }
    for room in ROOMS {
        assert!(
            EXPERIMENTS.iter().any(|e| e.room == room.path),
            "the {} room has no experiment by name",
            room.title
        );
    }
    let listed = stdout(&["list"]);
    assert_eq!(listed.lines().count(), EXPERIMENTS.len());
    for (line, e) in listed.lines().zip(EXPERIMENTS) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&words[..2], &[e.name, e.room], "{line}");
    }
}

#[test]
fn default_configs_read_back_from_json_and_toml() {
    for e in EXPERIMENTS {
        let default = e.default_config().unwrap();
        let from_json: Value =
            serde_json::from_str(&e.default_text(Format::Json).unwrap()).unwrap();
        let from_toml: Value = toml::from_str(&e.default_text(Format::Toml).unwrap()).unwrap();
        assert_eq!(
            e.resolve(from_json).unwrap(),
            default,
            "{} from JSON",
            e.name
        );
        assert_eq!(
            e.resolve(from_toml).unwrap(),
            default,
            "{} from TOML",
            e.name
        );
        // An empty table means the defaults; every default config is priced.
        assert_eq!(e.resolve(json!({})).unwrap(), default, "{}", e.name);
        e.price(json!({})).unwrap();
    }
}

#[test]
fn bad_configs_are_named() {
    let coordcheck = registry::find("coordcheck").unwrap();
    let message = |config: Value| coordcheck.price(config).err().unwrap().to_string();
    assert!(message(json!([])).contains("not a list"));
    assert!(message(json!(3)).contains("not a number"));
    assert!(message(json!({ "widthz": [64] })).contains("unknown field `widthz`"));
    assert!(message(json!({ "widths": [0] })).contains("width"));
    assert!(message(json!({ "lr": "fast" })).contains("lr"));
    let unknown = registry::find("coordchek").err().unwrap().to_string();
    assert!(unknown.contains("coordcheck, lrtransfer"), "{unknown}");
    fails_with(&["run", "nope"], "no experiment is called 'nope'");
    fails_with(&["config", "nope"], "no experiment is called 'nope'");
}

/// Small configs, one per experiment, as a page or a file would give them.
fn small_configs() -> Vec<(&'static str, Value)> {
    let problem = json!({ "width": 16, "epochs": 2, "samples": 200 });
    vec![
        ("train", json!({ "steps": 30, "width": 16 })),
        (
            "coordcheck",
            json!({ "widths": [32, 64], "steps": 2, "seeds": 1 }),
        ),
        (
            "lrtransfer",
            json!({ "widths": [16, 32], "log2_lr_min": -6, "log2_lr_max": -5, "steps": 3 }),
        ),
        ("convergence", json!({ "widths": [16, 32], "seeds": 1 })),
        (
            "fnspace",
            json!({ "widths": [16], "seeds": 1, "steps": 5, "test_points": 8, "train_points": 4 }),
        ),
        (
            "depthwidth",
            json!({ "depth": 3, "width": 8, "samples": 200 }),
        ),
        (
            "aspect",
            json!({ "depths": [1, 2], "widths": [8, 16], "samples": 100 }),
        ),
        ("criticality", json!({ "cells": 4 })),
        (
            "residual",
            json!({ "gammas": [0.0, 0.5], "depth": 3, "width": 8, "samples": 100 }),
        ),
        (
            "trained-aspect",
            json!({ "params": 2000, "depths": [1, 2], "seeds": 2, "steps": 20 }),
        ),
        ("collapse", json!({ "epochs": 3 })),
        ("lmc", json!({ "width": 16, "epochs": 2 })),
        (
            "lmc-sweep",
            json!({ "base": { "width": 16, "epochs": 2 }, "values": [8, 16], "pairs": 1 }),
        ),
        ("landscape", json!({ "problem": problem, "grid": 5 })),
        (
            "hessian",
            json!({ "problem": problem, "iterations": 8, "top_k": 2 }),
        ),
        (
            "sharpness",
            json!({ "problem": { "width": 16 }, "samples": 64, "lrs": [0.5], "steps": 10, "every": 5, "iterations": 6 }),
        ),
        (
            "intrinsic-dim",
            json!({ "problem": { "width": 8, "epochs": 2 }, "dims": [4, 8] }),
        ),
    ]
}

#[test]
fn every_experiment_runs_by_name_and_draws_its_figures() {
    let configs = small_configs();
    for e in EXPERIMENTS {
        let config = configs
            .iter()
            .find(|(name, _)| *name == e.name)
            .unwrap_or_else(|| panic!("no small config for {}", e.name));
        let mut session = e
            .start(config.1.clone())
            .unwrap_or_else(|err| panic!("{}: {err}", e.name));
        let json = run(&mut session, |_| ControlFlow::Continue(()))
            .unwrap()
            .unwrap();
        // The saved result draws the same figures as the session that made it.
        assert_eq!(
            e.figures(&json).unwrap(),
            session.figures().unwrap(),
            "{}",
            e.name
        );
    }
}

#[test]
fn a_config_file_run_by_name_prints_the_subcommands_bytes() {
    let dir = temp_dir("replay");
    // Flags of each subcommand, and the same settings as a config file.
    let cases: [(&[&str], Value); 6] = [
        (
            &[
                "coordcheck",
                "--widths",
                "32,64",
                "--steps",
                "2",
                "--seeds",
                "1",
                "--parametrization",
                "ntk",
            ],
            json!({ "widths": [32, 64], "steps": 2, "seeds": 1, "parametrization": "ntk" }),
        ),
        (
            &[
                "depthwidth",
                "--depth",
                "3",
                "--width",
                "8",
                "--samples",
                "200",
                "--activation",
                "tanh",
            ],
            json!({ "depth": 3, "width": 8, "samples": 200, "activation": "tanh" }),
        ),
        (
            &["criticality", "--activation", "erf"],
            json!({ "activation": "erf" }),
        ),
        (&["collapse", "--epochs", "3"], json!({ "epochs": 3 })),
        (
            &["lmc", "--width", "16", "--epochs", "2"],
            json!({ "width": 16, "epochs": 2 }),
        ),
        (
            &["landscape", "--width", "16", "--epochs", "2", "--grid", "5"],
            json!({ "problem": { "width": 16, "epochs": 2 }, "grid": 5 }),
        ),
    ];
    for (flags, config) in cases {
        let name = flags[0];
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, config.to_string()).unwrap();
        let by_name = stdout(&["run", name, "--config", path.to_str().unwrap(), "--json"]);
        let own = stdout(&[flags, &["--json"]].concat());
        assert_eq!(
            by_name, own,
            "{name}: run by name differs from its subcommand"
        );
    }
    // TOML, as `config --toml` writes it, runs the defaults.
    let toml = stdout(&["config", "criticality", "--toml"]);
    let path = dir.join("criticality.toml");
    std::fs::write(&path, toml).unwrap();
    assert_eq!(
        stdout(&[
            "run",
            "criticality",
            "--config",
            path.to_str().unwrap(),
            "--json"
        ]),
        stdout(&["criticality", "--json"])
    );
}

#[test]
fn a_page_export_replays_the_run_that_made_it() {
    let config = CoordCheckConfig {
        widths: vec![32, 64],
        steps: 2,
        seeds: 1,
        ..CoordCheckConfig::default()
    };
    let result = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    let export: Value = serde_json::from_str(&export_json(&config, &result).unwrap()).unwrap();
    // The export is the result with the run beside it: every field of the result is there.
    assert_eq!(export["widths"], json!([32, 64]));
    let replayed = registry::config_in("coordcheck", export.clone()).unwrap();
    assert_eq!(config_of::<CoordCheckConfig>(replayed).unwrap(), config);
    let wrong = registry::config_in("lmc", export)
        .err()
        .unwrap()
        .to_string();
    assert!(
        wrong.contains("this export is of a coordcheck run"),
        "{wrong}"
    );

    let dir = temp_dir("export");
    let path = dir.join("coordinate-check.json");
    std::fs::write(&path, export_json(&config, &result).unwrap()).unwrap();
    let replayed: Value = serde_json::from_str(&stdout(&[
        "run",
        "coordcheck",
        "--config",
        path.to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    assert_eq!(replayed, serde_json::to_value(&result).unwrap());
}

#[test]
fn run_by_name_writes_the_result_and_every_figure() {
    let dir = temp_dir("out");
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{ "cells": 4 }"#).unwrap();
    stdout(&[
        "run",
        "criticality",
        "--config",
        config.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    let written = std::fs::read_to_string(dir.join("criticality.json")).unwrap();
    for figure in registry::find("criticality")
        .unwrap()
        .figures(&written)
        .unwrap()
    {
        for ext in ["svg", "png", "csv"] {
            let path = dir.join(format!("{}.{ext}", figure.stem));
            assert!(
                std::fs::metadata(&path).unwrap().len() > 0,
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn every_room_cites_papers_from_the_one_table() {
    use theorylab::experiments::papers::{PAPERS, paper};
    let mut keys = HashSet::new();
    for p in PAPERS {
        assert!(keys.insert(p.key), "{} is in the table twice", p.key);
        assert!(p.link.starts_with("https://"), "{}: {}", p.key, p.link);
        assert!(p.year().is_some(), "{}: no year in '{}'", p.key, p.venue);
        assert!(
            ROOMS.iter().any(|r| r.papers.contains(&p.key)),
            "no room cites {}",
            p.key
        );
    }
    for room in ROOMS {
        assert!(!room.papers.is_empty(), "{} cites nothing", room.title);
        for key in room.papers {
            assert!(
                paper(key).is_some(),
                "{} cites unknown paper {key}",
                room.title
            );
        }
    }
    assert_eq!(
        paper("ainsworth2023").unwrap().short(),
        "Ainsworth et al. 2023"
    );
    assert_eq!(paper("yang2021").unwrap().short(), "Yang & Hu 2021");
    assert_eq!(
        paper("pearlmutter1994").unwrap().short(),
        "Pearlmutter 1994"
    );
}
