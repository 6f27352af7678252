//! The command line under hostile input: every subcommand, every flag that takes a value,
//! given values no option accepts, and every file-reading flag given malformed files. Each run
//! must end within seconds under a 4 GB address-space cap with a non-zero exit and an error
//! message, never a panic, an allocation failure or a result.
//!
//! The flags are read from each subcommand's `--help`, so a new command or flag is covered
//! without editing this file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run may take: refusals are immediate; 20 s is the bar the issue set for a hang.
const LIMIT: Duration = Duration::from_secs(20);
/// The address-space cap (`ulimit -v`, in KiB): 4 GB, as a small machine or a CI runner has.
const MEMORY_CAP_KIB: u64 = 4_000_000;

/// Values that no numeric option accepts: not numbers, not finite, beyond f64 or u64, or so
/// large that every count and scale in the lab refuses them.
const HOSTILE_VALUES: &[&str] = &[
    "NaN",
    "inf",
    "-inf",
    "1e308",
    "-1e308",
    "18446744073709551616",
    "abc",
    "",
    "1,,2",
];

/// Whether a flag names a file the command reads (CSV, safetensors, a config).
fn reads_file(flag: &str, value_name: &str) -> bool {
    let file = ["FILE", "X.csv", "A,B"]
        .iter()
        .any(|p| value_name.contains(p));
    let csv_flag = ["--features", "--labels", "--classifier"].contains(&flag)
        || (flag == "--bias" && value_name == "BIAS");
    (file || csv_flag) && !flag.starts_with("--save") && flag != "--out"
}

/// Whether a flag takes a number or a name, the values [`HOSTILE_VALUES`] are tried on (not
/// an output path, and not `--memory-limit`, for which 1e308 bytes is a valid size).
fn takes_value(flag: &str, value_name: &str) -> bool {
    !reads_file(flag, value_name)
        && !value_name.contains("DIR")
        && value_name != "SIZE"
        && !flag.starts_with("--save")
}

/// The subcommands, read from `theorylab --help`.
fn subcommands() -> Vec<String> {
    let help = String::from_utf8(common::theorylab(&["--help"]).stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// `(flag, value name, required)` of every option of a subcommand that takes a value.
fn value_flags(command: &str) -> Vec<(String, String)> {
    let help = String::from_utf8(common::theorylab(&[command, "--help"]).stdout).unwrap();
    help.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("--")?;
            let (flag, value) = rest.split_once(" <")?;
            let value = value.split('>').next()?;
            Some((format!("--{flag}"), value.to_string()))
        })
        .collect()
}

/// Runs the binary under the memory cap with a time limit: `(exit code, stderr, elapsed)`.
fn run_capped(args: &[String]) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_CAP_KIB}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_theorylab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code(), stderr, start.elapsed());
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return (None, String::new(), start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What is wrong with a run that should have been refused, if anything.
fn judge(args: &[String]) -> Option<String> {
    let (code, stderr, elapsed) = run_capped(args);
    let problem = match code {
        None => format!("still running after {} s", elapsed.as_secs()),
        Some(0) => "exit 0: accepted".into(),
        Some(_) if stderr.contains("panicked") => format!("panic: {stderr}"),
        Some(_) if stderr.contains("memory allocation") => format!("allocation failure: {stderr}"),
        Some(_) if !stderr.contains("error") => format!("no error message: {stderr}"),
        Some(_) => return None,
    };
    Some(format!("theorylab {}: {problem}", args.join(" ")))
}

/// Files to hand to the commands: a few valid ones the required flags need, and the hostile
/// ones every file flag is tried with.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("theorylab-robustness-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = Files { dir };
        files.write("points.csv", b"0.1,0.2\n0.3,-0.4\n0.5,0.6\n");
        files.write(
            "labelled.csv",
            b"0.1,0.2,0\n0.3,-0.4,1\n0.5,0.6,0\n-0.2,0.1,1\n",
        );
        let model = files.path("model");
        let out = common::theorylab(&[
            "train",
            "--steps",
            "2",
            "--samples",
            "20",
            "--backend",
            "cpu",
            "--out",
            model.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "a model to evaluate: {out:?}");
        files
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    /// Malformed files of every kind a flag reads: ragged, empty, not UTF-8, non-finite and
    /// overflowing cells, a safetensors header that lies, a config with unknown or NaN keys.
    fn hostile(&self) -> Vec<String> {
        let mut header =
            br#"{"0.weight":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,8]}}"#
                .to_vec();
        let mut lying = (header.len() as u64).to_le_bytes().to_vec();
        lying.append(&mut header);
        lying.extend_from_slice(&[0; 8]);
        vec![
            self.write("ragged.csv", b"1,2,0\n3,4\n5,6,1\n"),
            self.write("empty.csv", b""),
            self.write("header-only.csv", b"x,y,label\n"),
            self.write("latin1.csv", b"1,2,0\n\xe9,4,1\n"),
            self.write("nan.csv", b"1,2,0\nNaN,4,1\n"),
            self.write("huge.csv", b"1e308,1e308,0\n1,1,1\n3,-1e308,0\n"),
            self.write("overflow.csv", b"1e999,2,0\n3,4,1\n"),
            self.write("bad-label.csv", b"1,2,0.5\n3,4,-1\n"),
            self.write("lying.safetensors", &lying),
            self.write(
                "garbage.safetensors",
                b"\xff\xff\xff\xff\xff\xff\xff\x7fnot a header",
            ),
            self.write(
                "truncated.safetensors",
                b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":",
            ),
            self.write("unknown.toml", b"widht = 64\n"),
            self.write("nan.toml", b"[data]\nseparation = nan\n"),
            self.write("inf.toml", b"lr = inf\n"),
            self.write("typed.json", br#"{"width": "wide"}"#),
            self.path("missing.csv").display().to_string(),
        ]
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The flags a subcommand cannot run without, filled with valid values (so that the hostile
/// value, not a missing flag, is what a run is refused for).
fn required(command: &str, files: &Files) -> Vec<String> {
    let points = files.path("points.csv").display().to_string();
    let labelled = files.path("labelled.csv").display().to_string();
    let model = files.path("model/model.safetensors").display().to_string();
    let args: Vec<String> = match command {
        "eval" => vec![
            "--model",
            &model,
            "--data",
            &labelled,
            "--activation",
            "relu",
            "--loss",
            "ce",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        "kernel" => vec!["--inputs".into(), points],
        "nc-metrics" => vec![
            "--features".into(),
            points.clone(),
            "--labels".into(),
            labelled,
        ],
        _ => Vec::new(),
    };
    args
}

/// Removes `flag` and its value from `args` (the hostile value replaces it).
fn without(args: &[String], flag: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if a == flag {
            skip = true;
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// At least `least` runs were made (the flags were found), and none was accepted.
fn assert_all_refused(failures: &[String], runs: usize, least: usize) {
    assert!(runs > least, "only {runs} runs: the flags were not found");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_numeric_flag_refuses_values_no_option_accepts() {
    let files = Files::new();
    let mut failures = Vec::new();
    let mut runs = 0;
    for command in subcommands() {
        let base = required(&command, &files);
        for (flag, value_name) in value_flags(&command) {
            if !takes_value(&flag, &value_name) {
                continue;
            }
            for value in HOSTILE_VALUES {
                let mut args = vec![command.clone()];
                args.extend(without(&base, &flag));
                args.extend([flag.clone(), value.to_string()]);
                runs += 1;
                failures.extend(judge(&args));
            }
        }
    }
    assert_all_refused(&failures, runs, 500);
}

#[test]
fn every_file_flag_refuses_malformed_files() {
    let files = Files::new();
    let hostile = files.hostile();
    let mut failures = Vec::new();
    let mut runs = 0;
    for command in subcommands() {
        let base = required(&command, &files);
        for (flag, value_name) in value_flags(&command) {
            if !reads_file(&flag, &value_name) {
                continue;
            }
            for file in &hostile {
                // An empty config is all defaults, and unlabelled points may hold any finite
                // numbers: these two are valid input there, not hostile.
                let valid = (flag == "--config" && file.ends_with("empty.csv"))
                    || (["--inputs", "--features"].contains(&flag.as_str())
                        && file.ends_with("bad-label.csv"));
                if valid {
                    continue;
                }
                let mut args = vec![command.clone()];
                args.extend(without(&base, &flag));
                let value = if value_name.contains("A,B") {
                    format!("{file},{file}")
                } else {
                    file.clone()
                };
                args.extend([flag.clone(), value]);
                runs += 1;
                failures.extend(judge(&args));
            }
        }
    }
    assert_all_refused(&failures, runs, 50);
}

#[test]
fn a_budget_refuses_a_config_by_naming_the_option_and_the_estimate() {
    let out = common::theorylab(&[
        "train",
        "--width",
        "4096",
        "--depth",
        "4",
        "--precision",
        "f64",
        "--memory-limit",
        "1G",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("invalid width"), "{stderr}");
    assert!(
        stderr.contains("GB in all, more than the 1.0 GB limit"),
        "{stderr}"
    );
}

#[test]
fn a_non_finite_number_in_a_result_is_found_with_its_path_and_an_absent_one_is_not() {
    use std::collections::BTreeMap;
    use theorylab::core::finite::first_non_finite;

    #[derive(serde::Serialize)]
    struct Curves {
        step: Vec<usize>,
        loss: Vec<f64>,
    }
    #[derive(serde::Serialize)]
    struct Result {
        curves: Curves,
        accuracy: Option<f64>,
        by_width: BTreeMap<String, (f32, f64)>,
    }
    let mut result = Result {
        curves: Curves {
            step: vec![0, 10, 20],
            loss: vec![1.0, 0.5, 0.25],
        },
        accuracy: None,
        by_width: BTreeMap::from([("64".to_string(), (1.0, 2.0))]),
    };
    assert_eq!(
        first_non_finite(&result),
        None,
        "None is absent, not a number"
    );
    result.curves.loss[2] = f64::NAN;
    let (path, value) = first_non_finite(&result).unwrap();
    assert_eq!(path, "curves.loss[2]");
    assert!(value.is_nan());
    result.curves.loss[2] = 0.1;
    result.by_width.insert("128".into(), (f32::INFINITY, 0.0));
    assert_eq!(
        first_non_finite(&result),
        Some(("by_width.128[0]".to_string(), f64::INFINITY))
    );
}

#[test]
fn ctrl_c_stops_a_long_run_between_slices_and_keeps_what_it_has() {
    let child = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args([
            "train",
            "--steps",
            "5000000",
            "--samples",
            "50",
            "--backend",
            "cpu",
            // A point every 10 steps: even a loaded machine records several in 3 s.
            "--record-every",
            "10",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("stopped after"), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let done = result["steps_done"].as_u64().unwrap();
    assert!(done > 0 && done < 5_000_000, "{done} steps");
    let steps = result["curves"]["step"].as_array().unwrap();
    assert!(steps.len() >= 2, "the curves so far are kept: {steps:?}");
}

/// A model file of `2 -> width -> 2` (zeros), written by hand in safetensors' layout.
fn wide_model(files: &Files, width: usize) -> String {
    let tensors = [
        ("0.weight", vec![width, 2]),
        ("0.bias", vec![width]),
        ("2.weight", vec![2, width]),
        ("2.bias", vec![2]),
    ];
    let mut header = serde_json::Map::new();
    let mut offset = 0;
    for (name, shape) in &tensors {
        let bytes = 4 * shape.iter().product::<usize>();
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let header = serde_json::to_vec(&header).unwrap();
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header);
    file.resize(file.len() + offset, 0);
    files.write("wide.safetensors", &file)
}

#[test]
fn the_reliability_sweeps_aborts_hangs_and_nan_results_are_refused_at_once() {
    let files = Files::new();
    let wide = wide_model(&files, 1_000_000);
    let trained = files.path("model/model.safetensors").display().to_string();
    let rows: String = (0..1000)
        .map(|i| format!("{}.0,1.0,{}\n", i % 7, i % 2))
        .collect();
    let data = files.write("thousand.csv", rows.as_bytes());
    let huge = files.write("huge-row.csv", b"1e308,1e308,0\n1,1,1\n");
    let points = files.write("huge-point.csv", b"1e308,0.5\n0.3,0.2\n");
    let nan_toml = files.write("separation.toml", b"[data]\nseparation = nan\n");
    let thousand_widths: String = (1..=1000)
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let cases: Vec<Vec<&str>> = vec![
        // Aborted by allocation failure.
        vec![
            "eval",
            "--model",
            &wide,
            "--data",
            &data,
            "--activation",
            "relu",
            "--loss",
            "ce",
        ],
        vec!["train", "--samples", "10000000"],
        vec![
            "train",
            "--width",
            "11585",
            "--depth",
            "2",
            "--precision",
            "f64",
        ],
        vec!["train", "--depth", "268435456", "--width", "1"],
        vec!["train", "--dataset", "gaussian_mixture", "--dim", "4000000"],
        vec![
            "fnspace", "--widths", "16384", "--steps", "2", "--seeds", "1",
        ],
        vec!["kernel", "--inputs", &points, "--activation", "tanh"],
        // Never ended.
        vec!["train", "--steps", "18446744073709551615"],
        vec!["train", "--steps", "4294967296"],
        vec!["kernel", "--inputs", &points, "--depth", "1000000"],
        vec!["fnspace", "--depth", "1000000"],
        vec!["coordcheck", "--widths", &thousand_widths],
        vec!["lrtransfer", "--widths", &thousand_widths],
        vec!["fnspace", "--widths", &thousand_widths],
        vec![
            "train",
            "--backend",
            "gpu",
            "--depth",
            "30000",
            "--width",
            "1",
        ],
        // Printed NaN or null with exit 0.
        vec![
            "eval",
            "--model",
            &trained,
            "--data",
            &huge,
            "--activation",
            "relu",
            "--loss",
            "ce",
        ],
        vec!["coordcheck", "--lr", "1e30"],
        vec!["kernel", "--inputs", &points, "--weight-var", "1e300"],
        vec!["fnspace", "--lr-fraction", "1e-320"],
        vec!["train", "--config", &nan_toml],
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|args| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let start = Instant::now();
            let problem = judge(&args);
            let slow = start.elapsed() > Duration::from_secs(5);
            match (problem, slow) {
                (Some(p), _) => Some(p),
                (None, true) => Some(format!(
                    "{}: refused only after {:?}",
                    args[0],
                    start.elapsed()
                )),
                (None, false) => None,
            }
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_budget_names_the_option_of_the_largest_part_and_counts_an_overflow_as_infinite() {
    use theorylab::core::budget::{Budget, Cost};
    let cost = Cost::new()
        .memory("width", "the weights", 3e9)
        .memory("samples", "the data", 1e9)
        .work("steps", "the steps", 1e12);
    assert!((cost.bytes() - 4e9).abs() < 1.0 && (cost.madds() - 1e12).abs() < 1.0);
    assert!(Budget::cli(5e9).check(&cost).is_ok());
    let refusal = Budget::cli(2e9).check(&cost).unwrap_err().to_string();
    assert!(refusal.starts_with("invalid width:"), "{refusal}");
    assert!(
        refusal.contains("the weights needs 3.0 GB; the data needs 1.0 GB"),
        "{refusal}"
    );
    assert!(
        refusal.contains("about 4.0 GB in all, more than the 2.0 GB limit"),
        "{refusal}"
    );
    let overflowed = Cost::new().memory("depth", "an overflowed product", f64::NAN);
    let refusal = Budget::cli(1e12)
        .check(&overflowed)
        .unwrap_err()
        .to_string();
    assert!(refusal.starts_with("invalid depth:"), "{refusal}");
    let work = Cost::new().work("epochs", "the epochs", 2e13);
    let refusal = Budget::cli(1e12).check(&work).unwrap_err().to_string();
    assert!(
        refusal.starts_with("invalid epochs:") && refusal.contains("2.0e13 multiply-adds"),
        "{refusal}"
    );
}
