//! The command line: bad input gets a clear error naming the problem (never a panic), and the
//! happy paths write what they promise.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::{fails_with, theorylab};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("theorylab-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_flags_are_named() {
    fails_with(&["train", "--width", "0"], "invalid width");
    fails_with(&["train", "--depth", "0"], "invalid depth");
    fails_with(&["train", "--width", "100000000"], "is not in 1..=16384");
    fails_with(
        &["train", "--samples", "1000000000000"],
        "is not in 2..=4194304",
    );
    fails_with(&["train", "--lr", "nan"], "invalid learning rate: NaN");
    fails_with(&["train", "--lr", "-1"], "invalid learning rate: -1");
    fails_with(&["train", "--momentum", "1.5"], "invalid momentum");
    fails_with(
        &["train", "--activation", "swish"],
        "unknown activation 'swish'",
    );
    fails_with(
        &["train", "--parametrization", "xyz"],
        "unknown parametrization 'xyz'",
    );
    fails_with(&["train", "--abc", "1,2;3"], "invalid abc");
    fails_with(
        &["train", "--optimizer", "lbfgs"],
        "unknown optimizer 'lbfgs'",
    );
    fails_with(&["train", "--dataset", "mnist"], "unknown data set 'mnist'");
    fails_with(&["train", "--test-fraction", "1"], "invalid test_fraction");
    fails_with(
        &["train", "--frobnicate"],
        "unexpected argument '--frobnicate'",
    );
    fails_with(
        &["train", "--dataset", "teacher_student", "--loss", "ce"],
        "cross-entropy needs class labels",
    );
}

#[test]
fn bad_files_are_named() {
    let dir = temp_dir("files");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    fails_with(
        &["train", "--data", "/no/such/file.csv"],
        "/no/such/file.csv",
    );
    fails_with(
        &["train", "--data", &write("ragged.csv", "1,2,0\n1,2\n")],
        "line 2",
    );
    fails_with(
        &["train", "--data", &write("text.csv", "1,2,0\n1,x,1\n")],
        "line 2: column 2: 'x'",
    );
    fails_with(
        &["train", "--data", &write("empty.csv", "")],
        "no data rows",
    );
    let config = write("bad.toml", "width = 8\nwidht = 3\n");
    fails_with(&["train", "--config", &config], "unknown field `widht`");
    let model = write("model.safetensors", "garbage");
    let data = write("ok.csv", "1,2,0\n");
    fails_with(
        &[
            "eval",
            "--model",
            &model,
            "--data",
            &data,
            "--activation",
            "relu",
            "--loss",
            "ce",
        ],
        "not a valid safetensors file",
    );
    // A model for 3 inputs on a CSV with 4 feature columns; an unknown activation.
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let torch_model = format!("{fixtures}/tanh_ce.safetensors");
    let four_features = format!("{fixtures}/gelu_mse.csv");
    let eval = |data: &str, activation: &str, loss: &str| {
        [
            "eval",
            "--model",
            &torch_model,
            "--data",
            data,
            "--activation",
            activation,
            "--loss",
            loss,
        ]
        .map(String::from)
    };
    let mut args = eval(&four_features, "tanh", "mse").to_vec();
    args.extend(["--target-cols".into(), "2".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(&args, "expected 3 features, found 4");
    let args = eval(&data, "sigmoid", "ce");
    fails_with(
        &args.each_ref().map(String::as_str),
        "unknown activation 'sigmoid'",
    );
}

#[test]
fn divergence_names_the_step_and_prints_no_curves() {
    let out = theorylab(&[
        "train",
        "--optimizer",
        "sgd",
        "--lr",
        "1e9",
        "--loss",
        "mse",
        "--steps",
        "100",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("diverged at step") && stderr.contains("smaller learning rate"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no result JSON after divergence");
}

#[test]
fn train_writes_figures_json_and_a_model_that_eval_reads_back() {
    let dir = temp_dir("train");
    let out = theorylab(&[
        "train",
        "--steps",
        "30",
        "--dataset",
        "xor",
        "--out",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["steps_done"], 30);
    assert_eq!(result["config"]["data"]["dataset"], "xor");
    for file in [
        "result.json",
        "curves.csv",
        "curves.svg",
        "curves.png",
        "model.safetensors",
    ] {
        assert!(dir.join(file).metadata().unwrap().len() > 0, "{file}");
    }
    let svg = std::fs::read_to_string(dir.join("curves.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("Training loss") && svg.contains("optimizer step")
    );
    assert!(
        std::fs::read(dir.join("curves.png"))
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );
}

#[test]
fn config_files_and_flags_combine() {
    let dir = temp_dir("config");
    let path = dir.join("run.toml");
    std::fs::write(&path, "width = 16\nsteps = 5\n[data]\ndataset = \"circles\"\n[optimizer]\nkind = \"adam\"\nlr = 0.01\n").unwrap();
    let out = theorylab(&[
        "train",
        "--config",
        path.to_str().unwrap(),
        "--steps",
        "7",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["config"]["width"], 16);
    assert_eq!(result["config"]["steps"], 7);
    assert_eq!(result["config"]["optimizer"]["kind"], "adam");
}

#[test]
fn more_bad_input_is_named() {
    fails_with(
        &[
            "train",
            "--optimizer",
            "sgd",
            "--lr",
            "3e5",
            "--steps",
            "300",
            "--backend",
            "cpu",
        ],
        "diverged at step",
    );
    fails_with(
        &["train", "--residual", "1", "--depth", "1"],
        "use depth 2 or more",
    );
    fails_with(
        &[
            "train",
            "--dataset",
            "gaussian_mixture",
            "--classes",
            "100000000000",
        ],
        "invalid classes",
    );
    fails_with(&["train", "--depth", "1000000000"], "is not in 1..=1024");
    fails_with(
        &["train", "--width", "16384", "--depth", "10"],
        "fit in memory",
    );
    fails_with(&["train", "--backend", "tpu"], "unknown backend 'tpu'");
    let dir = temp_dir("more");
    let huge = dir.join("huge.csv");
    std::fs::write(&huge, "1e300,2,0\n1,2,1\n3,4,0\n4,5,1\n5,6,0\n").unwrap();
    fails_with(
        &[
            "train",
            "--data",
            huge.to_str().unwrap(),
            "--backend",
            "cpu",
        ],
        "does not fit in f32",
    );
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let model = format!("{fixtures}/tanh_ce.safetensors");
    let data = format!("{fixtures}/tanh_ce.csv");
    fails_with(
        &[
            "eval",
            "--model",
            &model,
            "--data",
            &data,
            "--activation",
            "tanh",
            "--loss",
            "ce",
            "--target-cols",
            "3",
        ],
        "only applies to --loss mse",
    );
}

/// The parity check: the GPU run follows the CPU run's loss curve to 1e-3 relative
/// (both f32 from the same initial network and batches; measured ~1e-6 on lavapipe).
#[test]
fn gpu_training_follows_the_cpu_loss_curve() {
    let curve = |backend: &str| -> Option<(serde_json::Value, Vec<f64>)> {
        let out = theorylab(&[
            "train",
            "--backend",
            backend,
            "--seed",
            "3",
            "--steps",
            "50",
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && stderr.contains("no GPU adapter") {
            eprintln!("NO GPU ADAPTER: {stderr}");
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must have a GPU adapter: {stderr}"
            );
            return None;
        }
        assert!(out.status.success(), "{backend}: {stderr}");
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let losses = serde_json::from_value(result["curves"]["train_loss"].clone()).unwrap();
        Some((result, losses))
    };
    let (cpu, cpu_loss) = curve("cpu").unwrap();
    let Some((gpu, gpu_loss)) = curve("gpu") else {
        return;
    };
    assert_eq!(cpu["backend"], "cpu");
    assert_eq!(gpu["backend"], "gpu");
    assert!(gpu["adapter"].as_str().is_some_and(|a| !a.is_empty()));
    assert_eq!(cpu_loss.len(), gpu_loss.len());
    for (step, (c, g)) in cpu_loss.iter().zip(&gpu_loss).enumerate() {
        assert!(
            (c - g).abs() <= 1e-3 * c.abs(),
            "record {step}: cpu {c} vs gpu {g}"
        );
    }
}

#[test]
fn a_saved_model_evaluates_on_new_data() {
    let dir = temp_dir("roundtrip");
    let out = theorylab(&[
        "train",
        "--dataset",
        "xor",
        "--steps",
        "200",
        "--backend",
        "cpu",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = dir.join("points.csv");
    std::fs::write(&csv, "0.8,0.7,1\n-0.8,0.6,0\n-0.7,-0.9,1\n0.9,-0.8,0\n").unwrap();
    let model = dir.join("model.safetensors");
    let out = theorylab(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        csv.to_str().unwrap(),
        "--activation",
        "relu",
        "--loss",
        "ce",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["outputs"].as_array().unwrap().len(), 4);
    // Four clear xor corners: a trained model gets them right.
    assert_eq!(result["accuracy"], 1.0, "{result}");
}

#[test]
fn the_width_rooms_new_commands_name_bad_input() {
    fails_with(&["fnspace", "--lr-fraction", "1.5"], "lr fraction");
    fails_with(&["fnspace", "--widths", "64,0"], "width 0");
    fails_with(
        &["fnspace", "--widths", "64,x"],
        "'x' is not a whole number",
    );
    fails_with(&["fnspace", "--train-points", "0"], "train points");
    fails_with(&["fnspace", "--activation", "swish"], "swish");
    fails_with(&["fnspace", "--weight-var", "nan"], "weight");
    fails_with(&["abc", "--abc", "1,2"], "three layer types");
    fails_with(&["abc", "--abc", "1,2,x;0,0,0;0,0,0"], "three numbers");
    fails_with(&["abc", "--depth", "0"], "depth");
    fails_with(&["abc", "--optimizer", "lion"], "lion");
    fails_with(
        &["abc", "--parametrization", "xyz"],
        "unknown parametrization",
    );
    // The happy path: muP is feature learning, SP at a fixed rate is unstable and says why.
    let mup = theorylab(&["abc", "--json"]);
    assert!(mup.status.success());
    let json: serde_json::Value = serde_json::from_slice(&mup.stdout).unwrap();
    assert_eq!(json["verdict"]["regime"], "feature_learning");
    let sp = String::from_utf8(theorylab(&["abc", "--parametrization", "sp"]).stdout).unwrap();
    assert!(sp.starts_with("unstable (r = -1"), "{sp}");
}
