//! Every figure of every experiment, through the room contract: the CSV beside it holds the
//! numbers drawn, its text is readable (no glyph under 11 px at the figure's own size, which
//! is the size the page shows it at and the size of the SVG export), and the scaling plots
//! draw the laws the theory names as dashed lines beside the measurement.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use std::ops::ControlFlow;
use theorylab::core::activation::Activation;
use theorylab::core::loss::Loss;
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::stepper::run;
use theorylab::experiments::collapse::{CollapseConfig, CollapseData};
use theorylab::experiments::connectivity::LmcConfig;
use theorylab::experiments::connectivity::sweep::{LmcSweepConfig, SweepAxis};
use theorylab::experiments::depth::aspect::AspectConfig;
use theorylab::experiments::depth::criticality::CriticalityConfig;
use theorylab::experiments::depth::ensemble::EnsembleConfig;
use theorylab::experiments::depth::residual::ResidualConfig;
use theorylab::experiments::depth::trained::TrainedConfig;
use theorylab::experiments::landscape::Problem;
use theorylab::experiments::landscape::intrinsic::IntrinsicConfig;
use theorylab::experiments::landscape::sharpness::SharpnessConfig;
use theorylab::experiments::landscape::spectrum::SpectrumConfig;
use theorylab::experiments::landscape::surface::{DirectionKind, SurfaceConfig};
use theorylab::experiments::width::coordcheck::CoordCheckConfig;
use theorylab::experiments::width::function_space::FunctionSpaceConfig;
use theorylab::experiments::width::kernel_convergence::KernelConvergenceConfig;
use theorylab::experiments::width::lr_transfer::LrTransferConfig;
use theorylab::experiments::{Experiment, FigureData};
use theorylab::plot::{Figure, MIN_FONT_PX};

fn figures<E: Experiment>(config: E) -> Vec<FigureData> {
    let result = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    E::figures(&result).unwrap()
}

fn small_coordcheck(parametrization: Parametrization) -> CoordCheckConfig {
    CoordCheckConfig {
        parametrization,
        widths: vec![32, 64, 128],
        steps: 3,
        seeds: 1,
        ..CoordCheckConfig::default()
    }
}

fn every_figure() -> Vec<FigureData> {
    let mut all = figures(small_coordcheck(Parametrization::Mup));
    all.extend(figures(KernelConvergenceConfig {
        widths: vec![16, 32, 64],
        seeds: 1,
        ..KernelConvergenceConfig::default()
    }));
    all.extend(figures(FunctionSpaceConfig {
        widths: vec![16, 32],
        seeds: 1,
        steps: 5,
        test_points: 16,
        train_points: 4,
        ..FunctionSpaceConfig::default()
    }));
    all.extend(figures(LrTransferConfig {
        widths: vec![16, 32],
        log2_lr_min: -6,
        log2_lr_max: -4,
        steps: 3,
        ..LrTransferConfig::default()
    }));
    all.extend(every_depth_figure());
    all.extend(every_collapse_figure());
    all.extend(every_connectivity_figure());
    all.extend(every_landscape_figure());
    all
}

fn every_landscape_figure() -> Vec<FigureData> {
    let problem = Problem {
        width: 16,
        epochs: 3,
        ..Problem::default()
    };
    let mut all = figures(SurfaceConfig {
        problem: problem.clone(),
        grid: 9,
        directions: DirectionKind::Pca,
        ..SurfaceConfig::default()
    });
    all.extend(figures(SpectrumConfig {
        problem: problem.clone(),
        iterations: 12,
        trace_probes: 4,
        density_probes: 2,
        minibatch: 64,
        ..SpectrumConfig::default()
    }));
    all.extend(figures(SharpnessConfig {
        problem: Problem {
            width: 16,
            ..SharpnessConfig::default().problem
        },
        samples: 64,
        lrs: vec![0.5, 1.0],
        steps: 20,
        every: 5,
        iterations: 8,
        ..SharpnessConfig::default()
    }));
    all.extend(figures(IntrinsicConfig {
        problem: Problem {
            width: 8,
            epochs: 2,
            ..Problem::default()
        },
        dims: vec![4, 16],
    }));
    all
}

fn every_connectivity_figure() -> Vec<FigureData> {
    let small = LmcConfig {
        width: 32,
        epochs: 3,
        ..LmcConfig::default()
    };
    let mut all = figures(small.clone());
    all.extend(figures(LmcSweepConfig {
        base: small.clone(),
        values: vec![16, 32],
        pairs: 2,
        ..LmcSweepConfig::default()
    }));
    all.extend(figures(LmcSweepConfig {
        base: small,
        axis: SweepAxis::Spawn,
        values: vec![0, 20],
        pairs: 2,
    }));
    all
}

fn every_collapse_figure() -> Vec<FigureData> {
    let mut all = figures(CollapseConfig {
        epochs: Some(30),
        ..CollapseConfig::default()
    });
    // The features model with the closed form drawn, and C = 3 with the ideal triangle.
    all.extend(figures(CollapseConfig {
        dataset: CollapseData::Ufm,
        classes: 3,
        class_sizes: vec![40, 20, 10],
        loss: Loss::Mse,
        bias: false,
        weight_decay: 0.02,
        feature_decay: 0.02,
        width: 6,
        epochs: Some(3000),
        ..CollapseConfig::default()
    }));
    all
}

fn every_depth_figure() -> Vec<FigureData> {
    let mut all = figures(EnsembleConfig {
        samples: 200,
        ..EnsembleConfig::default()
    });
    all.extend(figures(AspectConfig {
        depths: vec![1, 4],
        widths: vec![16, 32],
        samples: 100,
        ..AspectConfig::default()
    }));
    all.extend(figures(ResidualConfig {
        samples: 100,
        gammas: vec![0.0, 0.5],
        ..ResidualConfig::default()
    }));
    all.extend(figures(TrainedConfig {
        params: 2000,
        depths: vec![1, 4],
        seeds: 2,
        steps: 40,
        ..TrainedConfig::default()
    }));
    for activation in [Activation::Tanh, Activation::Relu] {
        all.extend(figures(CriticalityConfig {
            activation,
            weight_var: if activation == Activation::Relu {
                2.0
            } else {
                1.5
            },
            bias_var: 0.0,
            cells: 6,
            flow_samples: 20,
            flow_depth: 5,
            ..CriticalityConfig::default()
        }));
    }
    all
}

/// Every `font-size="..."` (or `font-size:...px`) in an SVG document, in px.
fn font_sizes(svg: &str) -> Vec<f64> {
    let mut sizes = Vec::new();
    for (i, _) in svg.match_indices("font-size") {
        let rest = &svg[i + "font-size".len()..];
        let number: String = rest
            .trim_start_matches(['=', '"', ':', ' '])
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        sizes.push(number.parse().unwrap());
    }
    sizes
}

#[test]
fn every_figure_has_its_data_as_csv() {
    let all = every_figure();
    let stems: Vec<&str> = all.iter().map(|f| f.stem).collect();
    assert_eq!(
        stems,
        [
            "coordinate-check",
            "coordinate-change",
            "movement",
            "kernels",
            "kernel-error",
            "fnspace-fit",
            "fnspace-loss",
            "fnspace-gap",
            "lr-transfer",
            "readout-histogram",
            "kurtosis-by-layer",
            "kurtosis-collapse",
            "ntk-fluctuations",
            "skip-weight",
            "trained-aspect",
            "phase-diagram",
            "gradient-ratio",
            "kernel-flow",
            "phase-diagram",
            "gradient-ratio",
            "kernel-flow",
            "nc1-nc2",
            "nc3-nc4",
            "features",
            "features-3d",
            "mean-gram",
            "norms",
            "nc1-nc2",
            "nc3-nc4",
            "features",
            "features-3d",
            "mean-gram",
            "norms",
            "path",
            "spectra",
            "permutations",
            "barrier-vs-width",
            "barrier-vs-spawn",
            "plane",
            "surface",
            "slices",
            "spectrum",
            "layer-spectra",
            "sharpness",
            "intrinsic-dim",
        ]
    );
    for figure in &all {
        let mut lines = figure.csv.lines();
        let columns = lines.next().unwrap().split(',').count();
        let rows: Vec<&str> = lines.collect();
        assert!(!rows.is_empty(), "{}: no data rows", figure.stem);
        for row in rows {
            assert_eq!(row.split(',').count(), columns, "{}: {row}", figure.stem);
        }
    }
    // The coordinate check's CSV has one row per width, step and layer (3 x 3 x 3).
    assert_eq!(all[0].csv.lines().count(), 1 + 27);
}

#[test]
fn no_text_is_smaller_than_eleven_pixels() {
    for figure in every_figure() {
        let svg = figure.svg().unwrap();
        let sizes = font_sizes(&svg);
        assert!(!sizes.is_empty(), "{}: no text", figure.stem);
        let smallest = sizes.iter().copied().fold(f64::INFINITY, f64::min);
        // The SVG writes sizes rounded to whole pixels at most: 0.5 px of slack for rounding.
        assert!(
            smallest >= MIN_FONT_PX - 0.5,
            "{}: text at {smallest} px",
            figure.stem
        );
    }
}

fn line_plots(figure: &FigureData) -> Vec<&theorylab::plot::LinePlot> {
    figure
        .panels
        .iter()
        .filter_map(|p| match p {
            Figure::Line(l) => Some(l),
            _ => None,
        })
        .collect()
}

/// After the first update muP's hidden layers change like n^0, NTK's like n^-1/2 and SP's
/// (with SGD) like n^+1/2: each law is a dashed line through the first point of its layer.
#[test]
fn scaling_plots_draw_the_laws_the_theory_names() {
    for (parametrization, laws) in [
        (Parametrization::Mup, vec!["theory n^0 (first update)"]),
        (
            Parametrization::Ntk,
            vec!["theory n^-1/2 (first update)", "theory n^0 (first update)"],
        ),
        (
            Parametrization::Sp,
            vec![
                "theory n^-1/2 (first update)",
                "theory n^1/2 (first update)",
                "theory n^1 (first update)",
            ],
        ),
    ] {
        let config = CoordCheckConfig {
            optimizer: OptimizerKind::Sgd,
            ..small_coordcheck(parametrization)
        };
        let all = figures(config);
        let change = &all[1];
        for panel in line_plots(change) {
            let names: Vec<&str> = panel.theory.iter().map(|s| s.name.as_str()).collect();
            assert_eq!(names, laws, "{parametrization:?}");
            for (law, series) in panel.theory.iter().zip(&panel.series) {
                // Each law starts at the first measured point of the first layer it describes.
                assert!(
                    panel
                        .series
                        .iter()
                        .any(|s| s.points.first() == law.points.first()),
                    "{}: {:?} vs {:?}",
                    law.name,
                    law.points,
                    series.points
                );
            }
        }
    }
    let kernel_error = &every_figure()[4];
    let panel = line_plots(kernel_error)[0];
    assert_eq!(panel.theory[0].name, "theory n^-1/2");
    let (a, b) = (panel.theory[0].points[0], panel.theory[0].points[1]);
    assert!(((b.1 / a.1).ln() / (b.0 / a.0).ln() + 0.5).abs() < 1e-12);
}
