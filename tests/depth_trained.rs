//! Trained networks at a fixed parameter budget (the Depth room's aspect-ratio sweep): each
//! depth gets the width nearest the budget, each network trains exactly as a lone run of the
//! same config, and the figure draws the seeds' means and standard errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use std::ops::ControlFlow;
use theorylab::core::data::DatasetName;
use theorylab::core::stepper::run;
use theorylab::core::train::{CpuEngine, Trainer};
use theorylab::experiments::Experiment;
use theorylab::experiments::depth::trained::{
    TrainedConfig, TrainedResult, params_of, width_for_budget,
};
use theorylab::plot::Figure;

fn train(config: &TrainedConfig) -> TrainedResult {
    run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap()
}

/// An MLP d -> n (x L) -> k with biases has (d + 1) n + (L - 1) (n + 1) n + (n + 1) k
/// parameters; the width picked for a budget P has the count nearest P, no neighbour nearer.
#[test]
fn each_depth_gets_the_width_nearest_the_budget() {
    for (inputs, outputs) in [(64, 10), (8, 1)] {
        let count =
            |l: usize, n: usize| (inputs + 1) * n + (l - 1) * (n + 1) * n + (n + 1) * outputs;
        for budget in [500, 8000, 123_457] {
            for depth in [1, 2, 3, 7, 16, 40] {
                let n = width_for_budget(inputs, outputs, depth, budget);
                assert_eq!(params_of(inputs, outputs, depth, n), count(depth, n));
                let off = |n: usize| count(depth, n).abs_diff(budget);
                assert!(
                    off(n) <= off(n + 1) && (n == 1 || off(n) <= off(n - 1)),
                    "P = {budget}, L = {depth}: width {n} is {} off, its neighbours {} and {}",
                    off(n),
                    off(n - 1),
                    off(n + 1)
                );
            }
        }
    }
}

/// The sweep is bookkeeping around lone training runs: every network's final losses are
/// those of `Trainer` run by itself on the same config and data, to the last bit.
#[test]
fn every_network_trains_as_a_lone_run_would() {
    for dataset in [DatasetName::Digits, DatasetName::TeacherStudent] {
        let config = TrainedConfig {
            dataset,
            params: 1500,
            depths: vec![1, 3],
            seeds: 2,
            steps: 25,
            ..TrainedConfig::default()
        };
        let result = train(&config);
        assert_eq!(result.points.len(), 2);
        for p in &result.points {
            assert_eq!(
                p.width,
                width_for_budget(config.shape().0, config.shape().1, p.depth, config.params,)
            );
            assert_eq!(p.test_loss.len() + p.diverged, config.seeds);
            for s in 0..config.seeds {
                let lone = config.train_config(p.depth, p.width, s);
                // Every network sees one data set and split: those of the config's own seed.
                let (train_set, test_set) = config
                    .train_config(p.depth, p.width, 0)
                    .make_data()
                    .unwrap();
                let mut trainer =
                    Trainer::<CpuEngine<f64>>::new(&lone, &train_set, test_set.as_ref()).unwrap();
                let curves = run(&mut trainer, |_| ControlFlow::Continue(()))
                    .unwrap()
                    .curves;
                assert_eq!(p.test_loss[s], *curves.test_loss.last().unwrap());
                assert_eq!(p.train_loss[s], *curves.train_loss.last().unwrap());
                if dataset == DatasetName::Digits {
                    assert_eq!(p.test_accuracy[s], *curves.test_accuracy.last().unwrap());
                }
            }
        }
    }
}

/// The figure draws, per depth, the seeds' mean at L/n with one standard error (sample
/// standard deviation over sqrt(seeds)) as its bar, and PDLT's r* for the task's readout.
#[test]
fn the_figure_draws_the_seeds_means_and_standard_errors() {
    let config = TrainedConfig {
        params: 2000,
        depths: vec![1, 2, 4],
        seeds: 3,
        steps: 30,
        ..TrainedConfig::default()
    };
    let result = train(&config);
    let figures = TrainedConfig::figures(&result).unwrap();
    let Figure::Line(loss) = &figures[0].panels[0] else {
        panic!("a line plot")
    };
    assert_eq!(result.points.len(), 3);
    assert_eq!(loss.series[0].points.len(), 3);
    assert_eq!(loss.errors[0].len(), 3);
    for (p, (&(x, y), &e)) in result
        .points
        .iter()
        .zip(loss.series[0].points.iter().zip(&loss.errors[0]))
    {
        let k = p.test_loss.len() as f64;
        let mean = p.test_loss.iter().sum::<f64>() / k;
        let sd = (p.test_loss.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
        assert_eq!(x, p.depth as f64 / p.width as f64);
        assert!((y - mean).abs() <= 1e-15 * mean, "{y} vs {mean}");
        assert!(
            (e - sd / k.sqrt()).abs() <= 1e-12 * e,
            "{e} vs {}",
            sd / k.sqrt()
        );
    }
    // Digits has 10 readout neurons: r* = 4 / (20 + 3 n_L) with n_L = 10.
    assert_eq!(result.outputs, 10);
    let line = &loss.theory[0].points;
    assert_eq!((line[0].0, line[1].0), (0.08, 0.08));
}

/// PDLT's r* is drawn for critical ReLU only; elsewhere the title says there is none.
#[test]
fn the_optimal_ratio_is_drawn_for_critical_relu_only() {
    let off = TrainedConfig {
        params: 2000,
        depths: vec![1, 2],
        seeds: 2,
        steps: 20,
        weight_var: 1.5,
        ..TrainedConfig::default()
    };
    let result = train(&off);
    assert_eq!(result.optimal_ratio, None);
    let Figure::Line(loss) = &TrainedConfig::figures(&result).unwrap()[0].panels[0] else {
        panic!("a line plot")
    };
    assert!(loss.theory.is_empty());
    assert!(loss.title.contains("no PDLT r*"), "{}", loss.title);
}

/// Bad input names the option.
#[test]
fn bad_input_names_the_option() {
    let ok = TrainedConfig::default;
    for (config, field) in [
        (
            TrainedConfig {
                dataset: DatasetName::Spiral,
                ..ok()
            },
            "dataset",
        ),
        (
            TrainedConfig {
                params: 200,
                depths: vec![1, 30],
                ..ok()
            },
            "params",
        ),
        (
            TrainedConfig {
                depths: vec![4, 2],
                ..ok()
            },
            "depths",
        ),
        (TrainedConfig { seeds: 1, ..ok() }, "seeds"),
        (
            TrainedConfig {
                lr: f64::NAN,
                ..ok()
            },
            "lr",
        ),
        (TrainedConfig { lr: -0.1, ..ok() }, "lr"),
        (
            TrainedConfig {
                weight_var: -1.0,
                ..ok()
            },
            "weight_var",
        ),
        (TrainedConfig { steps: 0, ..ok() }, "steps"),
        (
            TrainedConfig {
                params: 1 << 24,
                depths: vec![1],
                ..ok()
            },
            "params",
        ),
        (
            TrainedConfig {
                batch_size: 0,
                ..ok()
            },
            "batch_size",
        ),
    ] {
        let message = config.start().unwrap_err().to_string();
        assert!(message.contains(field), "{message} should name {field}");
    }
}
