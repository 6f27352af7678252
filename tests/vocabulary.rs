//! One vocabulary: every user-facing choice reads the same names (aliases included) from CLI
//! flags (`FromStr`), JSON and TOML configs (serde) and permalinks, writes its canonical name,
//! and a bad name gets an error that lists every name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use std::fmt::Debug;
use std::process::Command;
use std::str::FromStr;
use theorylab::core::activation::Activation;
use theorylab::core::data::DatasetName;
use theorylab::core::loss::Loss;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::train::{Backend, Precision, TrainConfig};
use theorylab::core::vocabulary::Choice;
use theorylab::experiments::permalink;

/// Every spelling a user may type for each value: the canonical name, each alias, and the
/// upper-case and hyphenated forms of both.
fn spellings<T: Choice>() -> Vec<(String, T)> {
    let mut out = Vec::new();
    for entry in T::TABLE {
        for name in std::iter::once(&entry.name).chain(entry.aliases) {
            for text in [
                name.to_string(),
                name.to_uppercase(),
                name.replace('_', "-"),
            ] {
                out.push((text, entry.value));
            }
        }
    }
    out
}

fn reads_every_spelling<T>()
where
    T: Choice + Debug + FromStr<Err = theorylab::error::Error> + serde::de::DeserializeOwned,
    T: serde::Serialize,
{
    for (text, value) in spellings::<T>() {
        assert_eq!(text.parse::<T>().unwrap(), value, "flag {text}");
        let json: T = serde_json::from_value(serde_json::Value::String(text.clone())).unwrap();
        assert_eq!(json, value, "JSON {text}");
        let toml: std::collections::BTreeMap<String, T> =
            toml::from_str(&format!("x = \"{text}\"")).unwrap();
        assert_eq!(toml["x"], value, "TOML {text}");
    }
    for entry in T::TABLE {
        let written = serde_json::to_value(entry.value).unwrap();
        assert_eq!(written, serde_json::Value::String(entry.name.into()));
        assert_eq!(entry.value.name(), entry.name);
    }
    let message = "no-such-choice".parse::<T>().unwrap_err().to_string();
    assert!(message.contains(&format!("unknown {} 'no-such-choice'", T::WHAT)));
    for entry in T::TABLE {
        assert!(
            message.contains(entry.name),
            "{message} lacks {}",
            entry.name
        );
        for alias in entry.aliases {
            assert!(message.contains(alias), "{message} lacks {alias}");
        }
    }
    let serde_message = serde_json::from_str::<T>("\"no-such-choice\"")
        .unwrap_err()
        .to_string();
    assert!(serde_message.contains(T::TABLE[0].name), "{serde_message}");
}

#[test]
fn every_choice_reads_the_same_names_everywhere() {
    reads_every_spelling::<Activation>();
    reads_every_spelling::<OptimizerKind>();
    reads_every_spelling::<Parametrization>();
    reads_every_spelling::<Loss>();
    reads_every_spelling::<DatasetName>();
    reads_every_spelling::<Precision>();
    reads_every_spelling::<Backend>();
}

/// The words the CLI accepted before the vocabulary was shared (`cross-entropy`, `mean-field`)
/// now work in a URL and in a TOML file too.
#[test]
fn a_permalink_and_a_config_file_take_the_cli_words() {
    let words = [
        ("loss", "cross-entropy"),
        ("parametrization", "mean-field"),
        ("data.dataset", "gaussian-mixture"),
        ("optimizer.kind", "SGD"),
        ("precision", "f64"),
        ("activation", "GeLU"),
    ];
    let query: Vec<String> = words.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let from_url: TrainConfig = permalink::decode(&query.join("&")).unwrap();
    let toml_text = "loss = \"cross-entropy\"\nparametrization = \"mean-field\"\n\
        activation = \"GeLU\"\nprecision = \"f64\"\n[data]\ndataset = \"gaussian-mixture\"\n\
        [optimizer]\nkind = \"SGD\"\n";
    let from_toml: TrainConfig = toml::from_str(toml_text).unwrap();
    assert_eq!(from_url, from_toml);
    assert_eq!(from_url.loss, Loss::CrossEntropy);
    assert_eq!(from_url.parametrization, Parametrization::MeanField);
    assert_eq!(from_url.data.dataset, DatasetName::GaussianMixture);
    assert_eq!(from_url.optimizer.kind, OptimizerKind::Sgd);
    // And the permalink writes the canonical names back.
    let written = permalink::encode(&from_url).unwrap();
    assert!(written.contains("parametrization=mean_field"), "{written}");
    assert!(
        written.contains("data.dataset=gaussian_mixture"),
        "{written}"
    );
}

/// Free exponents keep their JSON form `{"custom": rules}` and survive a permalink.
#[test]
fn free_exponents_round_trip() {
    let custom = Parametrization::parse_abc("-0.5,0.5,0;0,0.5,0.25;0.5,0.5,0").unwrap();
    let json = serde_json::to_value(custom).unwrap();
    assert!(json.get("custom").is_some(), "{json}");
    assert_eq!(
        serde_json::from_value::<Parametrization>(json).unwrap(),
        custom
    );
    let config = TrainConfig {
        parametrization: custom,
        ..TrainConfig::default()
    };
    let query = permalink::encode(&config).unwrap();
    assert_eq!(permalink::decode::<TrainConfig>(&query).unwrap(), config);
}

/// The binary takes the same words as the library.
#[test]
fn the_cli_takes_aliases() {
    let out = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args([
            "abc",
            "--parametrization",
            "mean-field",
            "--optimizer",
            "ADAM",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args(["coordcheck", "--optimizer", "lbfgs"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("unknown optimizer 'lbfgs' (expected one of sgd, adam)"),
        "{stderr}"
    );
}
