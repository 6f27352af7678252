//! Model files: our safetensors round trip, and files written by PyTorch's
//! `safetensors.torch.save_file(model.state_dict())` for `torch.nn.Sequential` MLPs.
//! The fixtures and their reference outputs come from `tests/fixtures/make_torch_fixture.py`
//! (PyTorch 2.15, float32 weights, reference computed in float64).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::{assert_close, gaussian_matrix};
use std::process::Command;
use theorylab::core::activation::Activation;
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::model_file::{from_safetensors, to_safetensors};
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};

fn mup_net() -> Mlp<f64> {
    let config = MlpConfig {
        input_dim: 4,
        hidden: vec![9, 7],
        output_dim: 3,
        activation: Activation::Gelu,
        bias: true,
        residual: None,
        rules: Parametrization::Mup.rules(OptimizerKind::Adam),
        sigma_w: 1.0,
        sigma_b: 0.3,
    };
    Mlp::init(&config, &mut Rng::new(1, Stream::Init)).unwrap()
}

#[test]
fn round_trip_preserves_the_function() {
    let net = mup_net();
    let loaded = from_safetensors(&to_safetensors(&net).unwrap(), Activation::Gelu).unwrap();
    let x = gaussian_matrix(4, 10, 2);
    // f64 file: the multipliers are folded into the weights, one rounding per weight.
    let (a, b) = (net.predict(&x).unwrap(), loaded.predict(&x).unwrap());
    assert!((&a - &b).amax() < 1e-12 * a.amax().max(1.0), "{a} vs {b}");
    // f32 file of the f32 network: the same function to f32 precision.
    let net32: Mlp<f32> = net.cast();
    let loaded32 = from_safetensors(&to_safetensors(&net32).unwrap(), Activation::Gelu).unwrap();
    let c = loaded32.predict(&x).unwrap();
    assert!((&a - &c).amax() < 1e-5 * a.amax().max(1.0));
}

#[test]
fn residual_networks_are_refused_with_a_reason() {
    let config = MlpConfig {
        residual: Some(0.5),
        hidden: vec![5, 5, 5],
        input_dim: 2,
        output_dim: 1,
        activation: Activation::Relu,
        bias: true,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.0,
        sigma_b: 0.0,
    };
    let net = Mlp::<f64>::init(&config, &mut Rng::new(1, Stream::Init)).unwrap();
    let message = to_safetensors(&net).unwrap_err().to_string();
    assert!(message.contains("residual"), "{message}");
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `theorylab eval` on PyTorch's file equals PyTorch's float64 evaluation of the same
/// float32 weights: the only differences are f64 rounding, ~1e-15 relative.
#[test]
fn eval_matches_pytorch_on_its_own_files() {
    for (name, activation, loss, extra) in [
        ("tanh_ce", "tanh", "ce", vec![]),
        ("gelu_mse", "gelu", "mse", vec!["--target-cols", "2"]),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_theorylab"))
            .args(["eval", "--model", &fixture(&format!("{name}.safetensors"))])
            .args([
                "--data",
                &fixture(&format!("{name}.csv")),
                "--activation",
                activation,
            ])
            .args(["--loss", loss, "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let ours: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let reference: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        assert_close(
            &format!("{name} loss"),
            ours["loss"].as_f64().unwrap(),
            reference["loss"].as_f64().unwrap(),
            1e-12,
            0.0,
        );
        assert_eq!(ours["accuracy"], reference["accuracy"], "{name} accuracy");
        let rows = |v: &serde_json::Value| -> Vec<Vec<f64>> {
            serde_json::from_value(v["outputs"].clone()).unwrap()
        };
        for (r, (a, b)) in rows(&ours).iter().zip(rows(&reference)).enumerate() {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert_close(&format!("{name} output row {r}"), *x, y, 1e-12, 1e-14);
            }
        }
    }
}

fn torch_file() -> Vec<u8> {
    std::fs::read(fixture("tanh_ce.safetensors")).unwrap()
}

/// Rewrites the fixture with one tensor changed, through the safetensors crate.
fn edited(edit: impl Fn(&mut Vec<(String, Vec<usize>, Vec<u8>)>)) -> Vec<u8> {
    let bytes = torch_file();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec(), view.data().to_vec()))
        .collect();
    edit(&mut tensors);
    let views = tensors.iter().map(|(name, shape, data)| {
        (
            name.clone(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .unwrap(),
        )
    });
    safetensors::serialize(views, None).unwrap()
}

#[test]
fn malformed_model_files_name_the_problem() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not a model".to_vec(), "not a valid safetensors file"),
        (
            edited(|t| t.retain(|(n, _, _)| n != "2.weight")),
            "2.weight",
        ),
        (
            edited(|t| {
                let w = t.iter_mut().find(|(n, _, _)| n == "2.weight").unwrap();
                w.1 = vec![5, 4];
                w.2 = vec![0; 5 * 4 * 4];
            }),
            "2.weight",
        ),
        (
            edited(|t| {
                let b = t.iter_mut().find(|(n, _, _)| n == "0.bias").unwrap();
                b.1 = vec![4];
                b.2 = vec![0; 16];
            }),
            "0.bias",
        ),
        (
            edited(|t| t.push(("1.weight".into(), vec![1], vec![0; 4]))),
            "unexpected key '1.weight'",
        ),
    ];
    for (bytes, needle) in cases {
        let message = from_safetensors(&bytes, Activation::Tanh)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(needle),
            "expected '{needle}' in: {message}"
        );
    }
}
