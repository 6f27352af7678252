//! Losses follow PyTorch's definitions, data sets have the shapes they promise, and training
//! actually learns.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::assert_close;
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use theorylab::core::activation::Activation;
use theorylab::core::data::{DatasetName, TargetColumns, Targets, digits, parse_csv};
use theorylab::core::loss::{Loss, Target, accuracy};
use theorylab::core::optim::{OptimizerConfig, OptimizerKind};
use theorylab::core::parametrization::Parametrization;
use theorylab::core::stepper::{Stepper, run};
use theorylab::core::train::TrainConfig;
use theorylab::core::vocabulary::Choice;
use theorylab::experiments::playground::training::Training;

#[test]
fn mse_is_the_mean_over_all_output_entries() {
    let output = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let targets = DMatrix::from_row_slice(2, 3, &[0.0, 2.0, 1.0, 4.0, 8.0, 6.0]);
    // squared errors 1, 0, 4, 0, 9, 0 -> mean 14/6 (nn.MSELoss()).
    let loss = Loss::Mse.value(&output, Target::Values(&targets)).unwrap();
    assert_close("mse", loss, 14.0 / 6.0, 1e-15, 0.0);
    // Class labels become one-hot targets.
    let labels = [1, 0, 1];
    let one_hot = DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let by_labels = Loss::Mse.value(&output, Target::Classes(&labels)).unwrap();
    let by_values = Loss::Mse.value(&output, Target::Values(&one_hot)).unwrap();
    assert_eq!(by_labels, by_values);
}

#[test]
fn cross_entropy_is_the_mean_negative_log_softmax() {
    // Equal logits over k classes: -log(1/k) = ln k for every sample.
    let k = 7;
    let output = DMatrix::from_element(k, 4, 3.5);
    let loss = Loss::CrossEntropy
        .value(&output, Target::Classes(&[0, 3, 6, 2]))
        .unwrap();
    assert_close("uniform logits", loss, (k as f64).ln(), 1e-15, 0.0);
    // One sample, logits (0, ln 3): p = (1/4, 3/4); label 1 -> -ln(3/4).
    let output = DMatrix::from_column_slice(2, 1, &[0.0, 3f64.ln()]);
    let (loss, grad) = Loss::CrossEntropy
        .value_and_gradient(&output, Target::Classes(&[1]))
        .unwrap();
    assert_close("two logits", loss, -(0.75f64).ln(), 1e-15, 0.0);
    // Gradient softmax - one_hot = (1/4, -1/4).
    assert_close("d/dz0", grad[0], 0.25, 1e-15, 0.0);
    assert_close("d/dz1", grad[1], -0.25, 1e-15, 0.0);
    // Huge logits do not overflow (log-sum-exp).
    let output = DMatrix::from_column_slice(2, 1, &[1000.0, 0.0]);
    assert_close(
        "stable",
        Loss::CrossEntropy
            .value(&output, Target::Classes(&[0]))
            .unwrap(),
        0.0,
        0.0,
        1e-300,
    );
}

#[test]
fn accuracy_counts_argmax_hits() {
    let output = DMatrix::from_row_slice(
        3,
        4,
        &[
            0.1, 0.9, 0.3, -1.0, 0.5, 0.0, 0.2, -2.0, 0.2, 0.05, 0.8, -0.5,
        ],
    );
    // argmax per column: 1, 0, 2, 2
    assert_eq!(accuracy(&output, &[1, 0, 2, 0]), 0.75);
}

#[test]
fn activations_match_closed_forms() {
    // Values from Python's math module: math.erf(0.5), 1.0 * 0.5 * (1 + math.erf(1 / sqrt(2))),
    // math.tanh(-0.8).
    assert_close(
        "erf",
        Activation::Erf.apply(0.5),
        0.520_499_877_813_046_5,
        1e-15,
        0.0,
    );
    assert_close(
        "gelu",
        Activation::Gelu.apply(1.0),
        0.841_344_746_068_542_9,
        1e-15,
        0.0,
    );
    assert_close(
        "tanh",
        Activation::Tanh.apply(-0.8),
        -0.664_036_770_267_848_9,
        1e-15,
        0.0,
    );
    assert_eq!(Activation::Relu.apply(-3.0), 0.0);
    assert_eq!(Activation::Relu.derivative(0.0), 0.0);
    assert_eq!(Activation::Linear.apply(-3.0), -3.0);
}

#[test]
fn data_sets_have_promised_shapes_and_balance() {
    for dataset in DatasetName::all() {
        if dataset == DatasetName::Csv {
            continue;
        }
        let mut config = TrainConfig::default();
        config.data.dataset = dataset;
        config.data.samples = 300;
        let data = config.data.generate(0).unwrap();
        match dataset {
            DatasetName::Digits => {
                assert_eq!(
                    (data.input_dim(), data.len(), data.output_dim()),
                    (64, 1797, 10)
                );
                assert!(data.features.max() <= 1.0 && data.features.min() >= 0.0);
            }
            DatasetName::TeacherStudent | DatasetName::Sphere => {
                assert_eq!(
                    (data.input_dim(), data.len(), data.output_dim()),
                    (8, 300, 1)
                );
            }
            DatasetName::GaussianMixture => {
                assert_eq!(
                    (data.input_dim(), data.len(), data.output_dim()),
                    (8, 300, 3)
                );
            }
            _ => assert_eq!(
                (data.input_dim(), data.len(), data.output_dim()),
                (2, 300, 2)
            ),
        }
        if let Targets::Classes {
            labels,
            num_classes,
        } = &data.targets
        {
            let counts: Vec<usize> = (0..*num_classes)
                .map(|c| labels.iter().filter(|&&l| l == c).count())
                .collect();
            assert!(counts.iter().all(|&c| c > 0), "{dataset:?}: {counts:?}");
        }
    }
    let sphere = {
        let mut config = TrainConfig::default();
        config.data.dataset = DatasetName::Sphere;
        config.data.generate(3).unwrap()
    };
    for column in sphere.features.column_iter() {
        assert_close("point on the unit sphere", column.norm(), 1.0, 1e-14, 0.0);
    }
}

#[test]
fn digits_match_the_shipped_file() {
    let data = digits().unwrap();
    let Targets::Classes { labels, .. } = &data.targets else {
        panic!("digits are classes")
    };
    // First row of optdigits.csv: 0,0,5,13,9,1,0,0,... label 0; class counts of the
    // scikit-learn split are 178, 182, 177, 183, 181, 182, 181, 179, 174, 180.
    assert_eq!(labels[0], 0);
    assert_close(
        "pixel 2 of image 0",
        data.features[(2, 0)],
        5.0 / 16.0,
        0.0,
        0.0,
    );
    let counts: Vec<usize> = (0..10)
        .map(|c| labels.iter().filter(|&&l| l == c).count())
        .collect();
    assert_eq!(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
}

#[test]
fn csv_parsing_reads_headers_comments_and_targets() {
    let text = "x1,x2,y\n# comment\n1,2,0\n\n3.5,-4,2\n";
    let data = parse_csv(text, TargetColumns::Class).unwrap();
    assert_eq!(
        data.features,
        DMatrix::from_column_slice(2, 2, &[1.0, 2.0, 3.5, -4.0])
    );
    assert_eq!(
        data.targets,
        Targets::Classes {
            labels: vec![0, 2],
            num_classes: 3
        }
    );
    let data = parse_csv("1,2,3,4\n5,6,7,8\n", TargetColumns::Values(2)).unwrap();
    assert_eq!(data.input_dim(), 2);
    assert_eq!(
        data.targets,
        Targets::Values(DMatrix::from_column_slice(2, 2, &[3.0, 4.0, 7.0, 8.0]))
    );
}

#[test]
fn csv_errors_name_the_line() {
    let cases = [
        ("1,2,0\n1,2\n", TargetColumns::Class, "line 2", "ragged"),
        (
            "1,2,0\n1,abc,1\n",
            TargetColumns::Class,
            "line 2",
            "'abc' is not a finite number",
        ),
        (
            "1,2,0\n1,NaN,1\n",
            TargetColumns::Class,
            "line 2",
            "not a finite number",
        ),
        (
            "1,2,0.5\n",
            TargetColumns::Class,
            "line 1",
            "not a non-negative integer",
        ),
        (
            "1,2,-1\n",
            TargetColumns::Class,
            "line 1",
            "not a non-negative integer",
        ),
        ("", TargetColumns::Class, "no data rows", ""),
        ("a,b\n", TargetColumns::Class, "no data rows", ""),
        ("1\n2\n", TargetColumns::Class, "at least one feature", ""),
        (
            "1,2\n",
            TargetColumns::Values(2),
            "at least one feature",
            "",
        ),
    ];
    for (text, targets, first, second) in cases {
        let message = parse_csv(text, targets).unwrap_err().to_string();
        assert!(
            message.contains(first) && message.contains(second),
            "{text:?}: {message}"
        );
    }
}

fn train(config: &TrainConfig) -> theorylab::core::train::TrainResult {
    let (train, test) = config.make_data().unwrap();
    let mut training = Training::new(config, &train, test.as_ref()).unwrap();
    run(&mut training, |_| ControlFlow::Continue(())).unwrap()
}

/// Every parametrization learns the circles data with Adam at lr 0.1: the training loss
/// falls below a third of its initial value and accuracy ends above 90% (the classes are
/// separable with margin 0.2 at noise 0.05, so a failure here is a bug, not bad luck).
#[test]
fn every_parametrization_learns_circles() {
    for (name, parametrization) in Parametrization::TABLE.iter().map(|e| (e.name, e.value)) {
        let mut config = TrainConfig {
            parametrization,
            steps: 300,
            width: 128,
            ..TrainConfig::default()
        };
        config.data.dataset = DatasetName::Circles;
        config.optimizer.kind = OptimizerKind::Adam;
        config.optimizer.lr = 0.1;
        let result = train(&config);
        let loss = &result.curves.train_loss;
        assert!(
            loss[loss.len() - 1] < loss[0] / 3.0,
            "{name}: loss {} -> {}",
            loss[0],
            loss[loss.len() - 1]
        );
        let accuracy = result.curves.test_accuracy.last().copied().unwrap();
        assert!(accuracy > 0.9, "{name}: test accuracy {accuracy}");
    }
}

#[test]
fn mini_batch_sgd_learns_digits_and_regression_is_fit() {
    let mut config = TrainConfig {
        steps: 300,
        batch_size: 64,
        width: 128,
        ..TrainConfig::default()
    };
    config.data.dataset = DatasetName::Digits;
    config.optimizer = OptimizerConfig {
        kind: OptimizerKind::Sgd,
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    };
    let result = train(&config);
    let accuracy = result.curves.test_accuracy.last().copied().unwrap();
    assert!(accuracy > 0.9, "digits test accuracy {accuracy}");

    let mut config = TrainConfig {
        steps: 400,
        loss: Loss::Mse,
        ..TrainConfig::default()
    };
    config.data.dataset = DatasetName::TeacherStudent;
    config.optimizer.kind = OptimizerKind::Adam;
    config.optimizer.lr = 0.01;
    let result = train(&config);
    assert!(
        result.curves.train_accuracy.is_empty(),
        "regression has no accuracy"
    );
    let loss = &result.curves.train_loss;
    assert!(
        loss[loss.len() - 1] < loss[0] / 5.0,
        "teacher-student loss {} -> {}",
        loss[0],
        loss[loss.len() - 1]
    );
}

#[test]
fn a_stepper_can_be_stopped_and_reports_what_it_has() {
    let config = TrainConfig {
        steps: 100,
        record_every: 10,
        ..TrainConfig::default()
    };
    let (train, test) = config.make_data().unwrap();
    let mut training = Training::new(&config, &train, test.as_ref()).unwrap();
    let result = run(&mut training, |p| {
        if p.done >= 25 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(result.steps_done, 25);
    assert_eq!(result.curves.step, vec![0, 10, 20]);
    let progress = pollster::block_on(training.step()).unwrap();
    assert_eq!((progress.done, progress.total), (26, 100));
}

#[test]
fn divergence_is_an_error_that_names_the_step() {
    let mut config = TrainConfig {
        steps: 200,
        ..TrainConfig::default()
    };
    config.optimizer = OptimizerConfig {
        kind: OptimizerKind::Sgd,
        lr: 1e8,
        ..Default::default()
    };
    config.loss = Loss::Mse;
    let (train, test) = config.make_data().unwrap();
    let mut training = Training::new(&config, &train, test.as_ref()).unwrap();
    let message = run(&mut training, |_| ControlFlow::Continue(()))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("diverged at step") && message.contains("smaller learning rate"),
        "{message}"
    );
}

/// muP and mean-field differ by the symmetry (a, b, c) -> (a + 1/2, b - 1/2, c - 1) of TP4
/// eq. (5), which leaves SGD training unchanged: the curves agree to f64 rounding (the
/// multipliers n^-a differ, so products round differently: ~1e-15 per step, 1e-10 allowed
/// over 50 steps).
#[test]
fn mup_and_mean_field_train_identically_under_sgd() {
    let curves = |parametrization| {
        let mut config = TrainConfig {
            parametrization,
            steps: 50,
            width: 96,
            precision: theorylab::core::train::Precision::F64,
            ..TrainConfig::default()
        };
        config.data.dataset = DatasetName::GaussianMixture;
        config.optimizer = OptimizerConfig {
            kind: OptimizerKind::Sgd,
            lr: 0.5,
            ..Default::default()
        };
        train(&config).curves
    };
    let (mup, mean_field) = (
        curves(Parametrization::Mup),
        curves(Parametrization::MeanField),
    );
    for (a, b) in mup.train_loss.iter().zip(&mean_field.train_loss) {
        assert_close("train loss", *b, *a, 1e-10, 0.0);
    }
    assert_ne!(curves(Parametrization::Ntk).train_loss, mup.train_loss);
}

#[test]
fn a_byte_order_mark_is_not_data() {
    let data = parse_csv("\u{feff}1,2,0\n3,4,1\n", TargetColumns::Class).unwrap();
    assert_eq!(data.features[(0, 0)], 1.0);
}

#[test]
fn a_loss_of_exactly_zero_is_drawn_on_a_linear_axis() {
    let mut config = TrainConfig {
        steps: 2,
        ..TrainConfig::default()
    };
    config.loss = Loss::Mse;
    let result = theorylab::core::train::TrainResult {
        config,
        backend: "cpu".into(),
        adapter: None,
        num_params: 1,
        steps_done: 2,
        curves: theorylab::core::train::Curves {
            step: vec![0, 1, 2],
            train_loss: vec![1.0, 0.5, 0.0],
            ..Default::default()
        },
    };
    let panels = theorylab::experiments::playground::curves::curves(&result).unwrap();
    let svg = theorylab::plot::to_svg(&panels, 600, 400).unwrap();
    assert!(svg.contains("linear scale"));
}
