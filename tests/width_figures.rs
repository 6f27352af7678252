//! The Width room's figures draw exactly the numbers of their results: every point of every
//! curve is a value of the result, and every slope in a legend is the least-squares exponent.

use theorylab::core::stepper::run;
use theorylab::experiments::coordcheck::{CoordCheck, CoordCheckConfig, power_law_fit};
use theorylab::experiments::lr_transfer::{LrTransfer, LrTransferConfig};
use theorylab::plot::{Figure, width};

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
    let r = run(&mut CoordCheck::<f32>::new(&config).unwrap(), |_| {
        std::ops::ControlFlow::Continue(())
    })
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
    use theorylab::experiments::kernel_convergence::{KernelConvergence, KernelConvergenceConfig};
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
