//! The Width room's figures draw exactly the numbers of their results: every point of every
//! curve is a value of the result, and every slope in a legend is the least-squares exponent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use theorylab::core::ensemble::CpuEnsemble;
use theorylab::core::stepper::run;
use theorylab::core::vocabulary::Choice;
use theorylab::experiments::sweep::power_law_fit;
use theorylab::experiments::width::coordcheck::{CoordCheck, CoordCheckConfig};
use theorylab::experiments::width::figures as width;
use theorylab::experiments::width::lr_transfer::{LrTransfer, LrTransferConfig};
use theorylab::plot::Figure;

fn lines(panels: &[Figure]) -> Vec<&theorylab::plot::LinePlot> {
    panels
        .iter()
        .map(|p| match p {
            Figure::Line(l) => l,
            other => panic!("expected line plots, got {}", other.title()),
        })
        .collect()
}

#[test]
fn movement_and_coordinate_figures_show_the_result_and_its_fitted_slopes() {
    let config = CoordCheckConfig {
        widths: vec![32, 64, 128],
        steps: 3,
        seeds: 1,
        ..CoordCheckConfig::default()
    };
    let r = run(
        &mut CoordCheck::<CpuEnsemble<f32>>::new(&config).unwrap(),
        |_| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    let movement = width::movement(&r).unwrap();
    let series = &lines(&movement)[0].series;
    let features: Vec<(f64, f64)> = r
        .widths
        .iter()
        .zip(&r.feature_movement)
        .map(|(&n, &v)| (n as f64, v))
        .collect();
    assert_eq!(series[0].points, features);
    let slope = power_law_fit(&features).unwrap().0;
    assert!(
        series[0].name.ends_with(&format!("(slope {slope:.2})")),
        "{}",
        series[0].name
    );
    let check = width::coordinate_check(&r).unwrap();
    assert_eq!(check.len(), 3, "one panel per recorded step");
    for (t, panel) in lines(&check).iter().enumerate() {
        for (l, s) in panel.series.iter().enumerate() {
            let expected: Vec<(f64, f64)> = r
                .widths
                .iter()
                .enumerate()
                .map(|(w, &n)| (n as f64, r.act_size[w][t][l]))
                .collect();
            assert_eq!(s.points, expected);
        }
    }
    // The change at t = 1 is 0 by definition and cannot be drawn on a log axis: panels start at t = 2.
    assert_eq!(width::coordinate_change(&r).unwrap().len(), 2);
}

#[test]
fn lr_transfer_figure_marks_each_widths_best_rate() {
    let config = LrTransferConfig {
        widths: vec![16, 32],
        log2_lr_min: -8,
        log2_lr_max: -2,
        steps: 5,
        ..LrTransferConfig::default()
    };
    let r = run(&mut LrTransfer::<f32>::new(&config).unwrap(), |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let panels = width::lr_transfer(&[&r]).unwrap();
    let best = lines(&panels)[0]
        .series
        .iter()
        .find(|s| s.name == "best rate per width")
        .unwrap();
    let expected: Vec<(f64, f64)> = r
        .argmin
        .iter()
        .zip(&r.loss)
        .map(|(&i, row)| (r.log2_lrs[i] as f64, row[i].unwrap()))
        .collect();
    assert_eq!(best.points, expected);
    for (row, &i) in r.loss.iter().zip(&r.argmin) {
        assert!(
            row.iter().flatten().all(|&l| l >= row[i].unwrap()),
            "argmin is the minimum"
        );
    }
}

#[test]
fn kernel_error_figure_shows_the_mean_error_of_each_widths_networks() {
    use theorylab::core::kernels::{analytic, empirical_ntk, network, relative_error};
    use theorylab::core::rng::{Rng, Stream};
    use theorylab::experiments::width::kernel_convergence::{
        KernelConvergence, KernelConvergenceConfig,
    };
    let config = KernelConvergenceConfig {
        widths: vec![8, 32],
        seeds: 2,
        points: 4,
        ..KernelConvergenceConfig::default()
    };
    let r = run(&mut KernelConvergence::new(&config).unwrap(), |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let x = config.inputs();
    let limit = analytic(&config.spec, &x).unwrap();
    for (w, &n) in config.widths.iter().enumerate() {
        let mean = (0..2)
            .map(|s| {
                let mlp =
                    network(&config.spec, x.nrows(), n, &mut Rng::new(s, Stream::Init)).unwrap();
                relative_error(&empirical_ntk(&mlp, &x).unwrap(), &limit.ntk)
            })
            .sum::<f64>()
            / 2.0;
        assert_eq!(r.ntk_error[w], mean);
    }
    let panels = width::kernel_error(&r).unwrap();
    let ntk = &lines(&panels)[0].series[0];
    assert_eq!(
        ntk.points,
        vec![(8.0, r.ntk_error[0]), (32.0, r.ntk_error[1])]
    );
}

#[test]
fn function_space_figures_show_the_kernel_prediction_and_the_networks() {
    use theorylab::experiments::width::function_space::{FunctionSpace, FunctionSpaceConfig};
    let config = FunctionSpaceConfig {
        widths: vec![16, 32],
        seeds: 2,
        test_points: 16,
        train_points: 4,
        steps: 5,
        ..FunctionSpaceConfig::default()
    };
    let r = run(&mut FunctionSpace::new(&config).unwrap(), |_| {
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    let fit = width::function_space_fit(&r).unwrap();
    assert_eq!(fit.len(), 2, "one panel per parametrization");
    for (panel, runs) in lines(&fit).iter().zip(&r.runs) {
        for (w, n) in runs.widths.iter().enumerate() {
            let curve = panel
                .series
                .iter()
                .find(|s| s.name == format!("width {n}, mean of 2"))
                .unwrap();
            let expected: Vec<(f64, f64)> = r
                .test_angles
                .iter()
                .copied()
                .zip(runs.output[w].iter().copied())
                .collect();
            assert_eq!(curve.points, expected);
        }
        let mean = panel
            .series
            .iter()
            .find(|s| s.name.ends_with("mean"))
            .unwrap();
        assert_eq!(
            mean.points.iter().map(|p| p.1).collect::<Vec<_>>(),
            r.kernel_mean
        );
        let band = panel
            .series
            .iter()
            .find(|s| s.name.ends_with("2 sd"))
            .unwrap();
        // The outline runs along mean + 2 sd, back along mean - 2 sd, and closes.
        let p = r.test_angles.len();
        assert_eq!(band.points.len(), 2 * p + 1);
        assert_eq!(band.points[0].1, r.kernel_mean[0] + 2.0 * r.kernel_sd[0]);
        assert_eq!(
            band.points[p].1,
            r.kernel_mean[p - 1] - 2.0 * r.kernel_sd[p - 1]
        );
        assert_eq!(band.points[2 * p], band.points[0]);
        let train: Vec<(f64, f64)> = r
            .train_angles
            .iter()
            .copied()
            .zip(r.train_targets.iter().copied())
            .collect();
        assert_eq!(panel.markers[0].points, train);
    }
    let gap = width::linearization_gap(&r).unwrap();
    let series = &lines(&gap)[0].series;
    for (s, runs) in series.iter().zip(&r.runs) {
        let points: Vec<(f64, f64)> = runs
            .widths
            .iter()
            .zip(&runs.linearization_gap)
            .map(|(&n, &g)| (n as f64, g))
            .collect();
        assert_eq!(s.points, points);
        let slope = power_law_fit(&points).unwrap().0;
        assert!(
            s.name.ends_with(&format!("(slope {slope:.2})")),
            "{}",
            s.name
        );
    }
    let loss = width::function_space_loss(&r).unwrap();
    let expected = &lines(&loss)[0].series[0];
    assert_eq!(expected.points.len(), config.steps + 1);
    assert_eq!(expected.points[0].1, r.kernel_loss[0]);
}

#[test]
fn the_abc_map_marks_each_preset_at_its_exponents() {
    use theorylab::core::abc_regime::classify;
    use theorylab::core::optim::OptimizerKind;
    use theorylab::core::parametrization::Parametrization;
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Adam] {
        let choice = Parametrization::Ntk.rules(optimizer);
        let map = width::abc_map(&choice, 2, optimizer).unwrap();
        let panel = lines(&map)[0];
        assert!(panel.title.contains("slice u = 0"), "{}", panel.title);
        for (p, marker) in Parametrization::all().zip(&panel.markers) {
            let v = classify(&p.rules(optimizer), 2, optimizer);
            assert_eq!(marker.points, vec![(v.r, v.alpha)]);
            assert!(marker.name.contains(v.regime.name()), "{}", marker.name);
        }
        let yours = panel.markers.last().unwrap();
        assert_eq!(yours.points, vec![(0.5, 0.5)]);
    }
}
