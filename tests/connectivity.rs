//! Linear mode connectivity and permutation symmetry (Ainsworth et al. 2023, "Git Re-Basin";
//! Frankle et al. 2020): exact linear assignment against brute force, the permutation symmetry of
//! an MLP, weight and activation matching recovering a permuted copy exactly, the barrier's
//! identities, and trained networks on digits, where matching shrinks the barrier and more so as
//! the networks widen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::{assert_close, gaussian_matrix, mean_and_standard_error};
use nalgebra::DMatrix;
use std::ops::ControlFlow;
use std::process::Command;
use theorylab::core::activation::Activation;
use theorylab::core::assignment;
use theorylab::core::data::{Dataset, Targets};
use theorylab::core::loss::Loss;
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::model_file::{from_safetensors, to_safetensors};
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rebasin::{self, midpoint_curvature, predicted_barrier};
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::run;
use theorylab::core::train::Split;
use theorylab::experiments::Experiment;
use theorylab::experiments::connectivity::sweep::LmcSweepConfig;
use theorylab::experiments::connectivity::{LmcConfig, LmcResult, LmcRun, Matching};

/// f64 rounding of sums of a few hundred products of order one, through a few layers: 1e-10
/// leaves several orders of magnitude above the ~1e-14 actually seen.
const ROUNDING: f64 = 1e-10;

fn finish(mut session: LmcRun) -> LmcResult {
    run(&mut session, |_| ControlFlow::Continue(())).unwrap()
}

fn random_mlp(input: usize, hidden: &[usize], output: usize, seed: u64) -> Mlp<f64> {
    let config = MlpConfig {
        input_dim: input,
        hidden: hidden.to_vec(),
        output_dim: output,
        activation: Activation::Relu,
        bias: true,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.4,
        sigma_b: 0.3,
    };
    Mlp::init(&config, &mut Rng::new(seed, Stream::Init)).unwrap()
}

fn random_permutations(widths: &[usize], seed: u64) -> Vec<Vec<usize>> {
    let mut rng = Rng::new(seed, Stream::Experiment);
    widths
        .iter()
        .map(|&n| {
            let mut p: Vec<usize> = (0..n).collect();
            rng.shuffle(&mut p);
            p
        })
        .collect()
}

/// A classification data set of `samples` Gaussian points labelled by a random network.
fn labelled_by(mlp: &Mlp<f64>, samples: usize, seed: u64) -> Dataset {
    let x = gaussian_matrix(mlp.input_dim(), samples, seed);
    let out = mlp.predict(&x).unwrap();
    let labels = out.column_iter().map(|c| c.imax()).collect();
    Dataset {
        features: x,
        targets: Targets::Classes {
            labels,
            num_classes: mlp.output_dim(),
        },
    }
}

fn analyse(a: &Mlp<f64>, b: &Mlp<f64>, data: &Dataset, matching: Matching) -> LmcResult {
    let config = LmcConfig {
        matching,
        ..LmcConfig::default()
    };
    finish(
        LmcRun::from_models(
            a.clone(),
            b.clone(),
            data,
            Loss::CrossEntropy,
            &config,
            "test",
        )
        .unwrap(),
    )
}

/// Every permutation of 0..n (Heap's algorithm).
fn all_permutations(n: usize) -> Vec<Vec<usize>> {
    fn heap(k: usize, p: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if k <= 1 {
            out.push(p.clone());
            return;
        }
        for i in 0..k {
            heap(k - 1, p, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            p.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    heap(n, &mut (0..n).collect(), &mut out);
    out
}

#[test]
fn linear_assignment_equals_brute_force_on_small_matrices_and_ties() {
    for n in 1..=6 {
        let perms = all_permutations(n);
        for seed in 0..8 {
            let gaussian = gaussian_matrix(n, n, 100 * n as u64 + seed);
            // Small integers: many tied optima, every one equally valid.
            let ties = gaussian.map(|x| (x * 1.5).round().clamp(-2.0, 2.0));
            for score in [gaussian, ties] {
                let best = perms
                    .iter()
                    .map(|p| assignment::total(&score, p))
                    .fold(f64::NEG_INFINITY, f64::max);
                let found = assignment::maximize(&score).unwrap();
                let mut sorted = found.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "not a permutation");
                // A sum of n <= 6 terms of order one: exact up to a few ulps.
                assert_close(
                    &format!("n = {n}, seed {seed}: assignment total"),
                    assignment::total(&score, &found),
                    best,
                    0.0,
                    1e-12,
                );
            }
        }
    }
}

#[test]
fn linear_assignment_refuses_non_square_and_non_finite_scores() {
    let err = assignment::maximize(&DMatrix::zeros(2, 3)).unwrap_err();
    assert!(err.to_string().contains("square"), "{err}");
    let mut s = DMatrix::zeros(3, 3);
    s[(1, 2)] = f64::NAN;
    let err = assignment::maximize(&s).unwrap_err().to_string();
    assert!(err.contains("NaN") || err.contains("finite"), "{err}");
}

#[test]
fn permuting_hidden_units_leaves_the_function_unchanged() {
    let a = random_mlp(5, &[7, 6, 8], 3, 1);
    let perms = random_permutations(&[7, 6, 8], 2);
    let b = rebasin::permute_hidden(&a, &perms).unwrap();
    assert_ne!(a.layers[0].params.weight, b.layers[0].params.weight);
    let x = gaussian_matrix(5, 40, 3);
    let (ya, yb) = (a.predict(&x).unwrap(), b.predict(&x).unwrap());
    let change = (ya - yb).abs().max();
    assert!(change < ROUNDING, "outputs moved by {change}");
}

#[test]
fn weight_matching_recovers_a_randomly_permuted_copy_exactly() {
    for seed in 0..4 {
        let widths = [16, 12];
        let a = random_mlp(6, &widths, 4, seed);
        let b = rebasin::permute_hidden(&a, &random_permutations(&widths, 10 + seed)).unwrap();
        let m = rebasin::weight_matching(&a, &b, &mut Rng::new(seed, Stream::Experiment)).unwrap();
        let matched = rebasin::permute_hidden(&b, &m.perms).unwrap();
        for (la, lm) in a.layers.iter().zip(&matched.layers) {
            // Re-indexing moves numbers without arithmetic: bit for bit.
            assert_eq!(la.params.weight, lm.params.weight, "seed {seed}");
            assert_eq!(la.params.bias, lm.params.bias, "seed {seed}");
        }
        let r = analyse(&a, &b, &labelled_by(&a, 200, seed), Matching::Weight);
        let matched_barrier = r.barrier.matched.unwrap();
        assert!(
            matched_barrier.abs() < ROUNDING,
            "seed {seed}: matched barrier {matched_barrier}"
        );
        assert!(
            r.barrier.naive > 100.0 * ROUNDING,
            "seed {seed}: the naive path has no barrier"
        );
    }
}

#[test]
fn activation_matching_recovers_a_randomly_permuted_copy_exactly() {
    let widths = [16, 12];
    let a = random_mlp(6, &widths, 4, 7);
    let b = rebasin::permute_hidden(&a, &random_permutations(&widths, 8)).unwrap();
    let data = labelled_by(&a, 300, 9);
    let perms = rebasin::activation_matching(&a, &b, &data.features).unwrap();
    let matched = rebasin::permute_hidden(&b, &perms).unwrap();
    assert_eq!(a.layers[1].params.weight, matched.layers[1].params.weight);
    let r = analyse(&a, &b, &data, Matching::Activation);
    assert!(r.barrier.matched.unwrap().abs() < ROUNDING);
}

#[test]
fn the_matching_objective_never_decreases_across_sweeps() {
    for seed in 0..4 {
        let a = random_mlp(8, &[24, 24, 24], 5, seed);
        let b = random_mlp(8, &[24, 24, 24], 5, 100 + seed);
        let m = rebasin::weight_matching(&a, &b, &mut Rng::new(seed, Stream::Experiment)).unwrap();
        assert!(m.sweeps >= 1 && m.sweeps <= rebasin::MAX_SWEEPS);
        for w in m.objective.windows(2) {
            // Each step maximizes exactly over one layer's permutation; the sums are recomputed,
            // so allow rounding relative to their size.
            assert!(
                w[1] >= w[0] - ROUNDING * w[0].abs(),
                "seed {seed}: {:?}",
                m.objective
            );
        }
        assert!(
            m.objective.last().unwrap() > &m.objective[0],
            "seed {seed}: nothing improved"
        );
    }
}

#[test]
fn weight_matching_stops_where_no_layer_improves_on_its_score_computed_afresh() {
    // The scores are kept between steps and corrected by the units that moved; here each is
    // recomputed from scratch at the end: no layer's assignment on it may beat the permutation
    // found, and the objective's history must end at B' rebuilt and compared directly.
    for seed in 0..3 {
        let widths = [40, 48, 40, 32];
        let a = random_mlp(12, &widths, 6, seed);
        let b = random_mlp(12, &widths, 6, 50 + seed);
        let m = rebasin::weight_matching(&a, &b, &mut Rng::new(seed, Stream::Experiment)).unwrap();
        for l in 0..widths.len() {
            let score = rebasin::layer_score(&a, &b, &m.perms, l).unwrap();
            let best = assignment::maximize(&score).unwrap();
            let (found, optimum) = (
                assignment::total(&score, &m.perms[l]),
                assignment::total(&score, &best),
            );
            // A corrected entry differs from a fresh one by rounding: at most one unit in the
            // last place per term of its sums (fan-in + fan-out terms) per correction (at most
            // one per sweep), on each of the n entries an assignment adds.
            let fans = a.layers[l].params.weight.ncols() + a.layers[l + 1].params.weight.nrows();
            let slack = f64::EPSILON
                * (fans * (m.sweeps + 1)) as f64
                * score.iter().map(|s| s.abs()).sum::<f64>();
            assert!(
                optimum <= found + slack,
                "seed {seed}, layer {l}: {optimum} > {found} + {slack}"
            );
        }
        let matched = rebasin::permute_hidden(&b, &m.perms).unwrap();
        let direct: f64 = a
            .layers
            .iter()
            .zip(&matched.layers)
            .map(|(la, lb)| {
                la.effective_weight().dot(&lb.effective_weight())
                    + la.effective_bias()
                        .unwrap()
                        .dot(&lb.effective_bias().unwrap())
            })
            .sum();
        assert_close(
            "objective",
            *m.objective.last().unwrap(),
            direct,
            ROUNDING,
            0.0,
        );
    }
}

#[test]
fn a_network_with_itself_has_no_barrier_and_the_identity_matching() {
    let a = random_mlp(4, &[10, 10], 3, 5);
    let r = analyse(&a, &a, &labelled_by(&a, 100, 6), Matching::Weight);
    assert!(r.barrier.naive.abs() < ROUNDING, "{}", r.barrier.naive);
    assert!(r.barrier.matched.unwrap().abs() < ROUNDING);
    for p in &r.permutations {
        assert_eq!(p, &(0..p.len()).collect::<Vec<_>>());
    }
    // The path is a single point: Delta = 0, so the curvature along it is exactly 0.
    assert!(
        r.curvature.naive.abs() < 1e3 * ROUNDING,
        "{}",
        r.curvature.naive
    );
}

#[test]
fn matching_moves_singular_vectors_not_singular_values() {
    let a = random_mlp(6, &[20, 20], 4, 11);
    let b = random_mlp(6, &[20, 20], 4, 12);
    let r = analyse(&a, &b, &labelled_by(&a, 200, 13), Matching::Weight);
    assert!(r.function_change.unwrap() < ROUNDING);
    for (l, layer) in r.layers.iter().enumerate() {
        let naive = &layer.singular_values_b.naive;
        let matched = layer.singular_values_b.matched.as_ref().unwrap();
        for (s, t) in naive.iter().zip(matched) {
            // One-sided Jacobi / bidiagonal SVD is backward stable: |ds| <= c eps ||W||.
            assert_close(
                &format!("layer {l} singular value"),
                *t,
                *s,
                0.0,
                ROUNDING * naive[0],
            );
        }
    }
}

#[test]
fn the_predicted_barrier_of_a_quadratic_path_is_its_barrier() {
    // f(alpha) = f0 + k alpha (1 - alpha): equal ends, barrier k/4 at the midpoint, f'' = -2k.
    for k in [0.3, 1.0, 7.5] {
        let f = |a: f64| 0.2 + k * a * (1.0 - a);
        let grid: Vec<f64> = (0..=24).map(|i| f(f64::from(i) / 24.0)).collect();
        assert_close("barrier", rebasin::barrier(&grid), k / 4.0, 0.0, 1e-12);
        assert_close(
            "predicted",
            predicted_barrier(-2.0 * k),
            rebasin::barrier(&grid),
            0.0,
            1e-12,
        );
    }
}

/// The exact `Delta^T H Delta` at the midpoint (one Hessian-vector product) is the limit of the
/// central second difference of the loss along the path, whose error is `h^2 f''''/12 + O(h^4)`:
/// as h halves the gap to the exact value falls about 4x (3x required, for the O(h^4) term),
/// while rounding (`4 eps |f| / h^2`, ~1e-12 here) stays far below it. A wrong product would
/// leave a gap that does not shrink. Smooth (tanh) networks, so no ReLU kink sits in the stencil.
#[test]
fn the_midpoint_curvature_is_the_limit_of_the_second_difference() {
    let tanh = |seed| {
        let mut mlp = random_mlp(5, &[12, 12], 3, seed);
        mlp.activation = Activation::Tanh;
        mlp
    };
    let (a, b) = (tanh(70), tanh(71));
    let data = labelled_by(&a, 150, 72);
    let split = Split::new(&data).unwrap();
    for loss in [Loss::CrossEntropy, Loss::Mse] {
        let exact = midpoint_curvature(&a, &b, &split, loss).unwrap();
        // In blocks of rows (as large data sets are done) the weighted sum is the same number,
        // up to f64 rounding of the regrouped sums.
        let blocks = rebasin::midpoint_curvature_by(&a, &b, &split, loss, 37).unwrap();
        assert_close(
            "blocks of 37 rows",
            blocks,
            exact,
            0.0,
            ROUNDING * exact.abs(),
        );
        let f = |alpha: f64| {
            let net = rebasin::interpolate(&a, &b, alpha).unwrap();
            let out = net.predict(&split.features).unwrap();
            loss.value(&out, split.target()).unwrap()
        };
        let second_difference = |h: f64| (f(0.5 + h) - 2.0 * f(0.5) + f(0.5 - h)) / (h * h);
        let gaps: Vec<f64> = [0.04, 0.02, 0.01]
            .iter()
            .map(|&h| (second_difference(h) - exact).abs())
            .collect();
        assert!(
            gaps[1] < gaps[0] / 3.0 && gaps[2] < gaps[1] / 3.0,
            "{loss:?}: {gaps:?}"
        );
        assert!(gaps[2] < 1e-3 * exact.abs(), "{loss:?}: {exact} {gaps:?}");
    }
}

#[test]
fn the_path_runs_from_a_to_b() {
    let a = random_mlp(4, &[9], 3, 20);
    let b = random_mlp(4, &[9], 3, 21);
    for alpha in [0.0, 1.0] {
        let m = rebasin::interpolate(&a, &b, alpha).unwrap();
        let end = if alpha == 0.0 { &a } else { &b };
        assert_eq!(m.layers[0].params.weight, end.layers[0].params.weight);
    }
    let mid = rebasin::interpolate(&a, &b, 0.5).unwrap();
    let expected = (&a.layers[1].params.weight + &b.layers[1].params.weight) * 0.5;
    assert!((&mid.layers[1].params.weight - expected).abs().max() < 1e-15);
}

/// Digits, the default configuration: for each of three seed pairs the weight-matched barrier
/// is below the naive one, and with the sweep's 3 pairs per width the mean matched barrier at
/// width 128 lies below the one at width 16 by more than three standard errors of the difference.
#[test]
fn on_digits_matching_shrinks_the_barrier_and_more_so_when_wider() {
    let sweep = LmcSweepConfig {
        values: vec![16, 128],
        pairs: 3,
        ..LmcSweepConfig::default()
    };
    let r = run(&mut sweep.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    for (i, width) in r.values.iter().enumerate() {
        for (p, (n, m)) in r.barrier_naive[i]
            .iter()
            .zip(&r.barrier_matched[i])
            .enumerate()
        {
            assert!(m < n, "width {width}, pair {p}: matched {m} >= naive {n}");
        }
    }
    let (narrow, se_narrow) = mean_and_standard_error(&r.barrier_matched[0]);
    let (wide, se_wide) = mean_and_standard_error(&r.barrier_matched[1]);
    let se = (se_narrow.powi(2) + se_wide.powi(2)).sqrt();
    assert!(
        narrow - wide > 3.0 * se,
        "matched barrier at width 16: {narrow} +- {se_narrow}, at 128: {wide} +- {se_wide}"
    );
}

/// Frankle et al.'s instability analysis: a child spawned half-way through training stays in its
/// parent's basin (a far lower naive barrier than two independent runs), for each of two seeds.
#[test]
fn copies_spawned_late_are_linearly_connected() {
    for seed in [0, 2] {
        let base = LmcConfig {
            epochs: 10,
            seeds: [seed, seed + 1],
            matching: Matching::None,
            ..LmcConfig::default()
        };
        let independent = finish(LmcRun::new(&base).unwrap()).barrier.naive;
        let late = LmcConfig {
            spawn: Some(base.total_steps() / 2),
            ..base
        };
        let spawned = finish(LmcRun::new(&late).unwrap()).barrier.naive;
        assert!(
            spawned < 0.1 * independent,
            "seed {seed}: spawned {spawned} vs independent {independent}"
        );
    }
}

#[test]
fn mismatched_models_and_data_are_named() {
    let a = random_mlp(4, &[8, 8], 3, 1);
    let data = labelled_by(&a, 50, 2);
    let config = LmcConfig::default();
    let error = |b: Mlp<f64>, d: &Dataset, m: Matching| {
        let c = LmcConfig {
            matching: m,
            ..config.clone()
        };
        match LmcRun::from_models(a.clone(), b, d, Loss::CrossEntropy, &c, "test") {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    };
    let wider = random_mlp(4, &[8, 9], 3, 3);
    assert!(error(wider, &data, Matching::Weight).contains("4 -> 8 -> 9 -> 3"));
    let other_data = labelled_by(&random_mlp(5, &[8, 8], 3, 4), 50, 5);
    assert!(error(a.clone(), &other_data, Matching::Weight).contains("feature columns"));
    // A single Linear layer 8 -> 3 (the readout of a 4 -> 8 -> 3 network), on 8-feature data.
    let mut linear = random_mlp(4, &[8], 3, 6);
    linear.layers.remove(0);
    let wide_data = labelled_by(&linear, 50, 7);
    let no_hidden = LmcRun::from_models(
        linear.clone(),
        linear,
        &wide_data,
        Loss::CrossEntropy,
        &config,
        "test",
    );
    assert!(
        no_hidden
            .err()
            .unwrap()
            .to_string()
            .contains("no hidden layer")
    );
    let same_seeds = LmcConfig {
        seeds: [3, 3],
        ..LmcConfig::default()
    };
    assert!(
        LmcRun::new(&same_seeds)
            .err()
            .unwrap()
            .to_string()
            .contains("seed")
    );
    let late = LmcConfig {
        spawn: Some(1_000_000),
        ..LmcConfig::default()
    };
    assert!(
        LmcRun::new(&late)
            .err()
            .unwrap()
            .to_string()
            .contains("spawn")
    );
}

fn csv_of(data: &Dataset) -> String {
    let Targets::Classes { labels, .. } = &data.targets else {
        unreachable!()
    };
    data.features
        .column_iter()
        .zip(labels)
        .map(|(x, y)| {
            let mut row: Vec<String> = x.iter().map(|v| format!("{v:e}")).collect();
            row.push(y.to_string());
            row.join(",") + "\n"
        })
        .collect()
}

/// `lmc --models a,b --data D --save-matched M`: M is B permuted as the JSON says, and computes
/// B's function; files of different shapes are refused with both shapes named.
#[test]
fn the_command_line_matches_models_from_files() {
    let dir = std::env::temp_dir().join(format!("theorylab-lmc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a = random_mlp(5, &[12, 12], 3, 30);
    let b = random_mlp(5, &[12, 12], 3, 31);
    let data = labelled_by(&a, 120, 32);
    let path = |name: &str| dir.join(name).display().to_string();
    std::fs::write(path("a.safetensors"), to_safetensors(&a).unwrap()).unwrap();
    std::fs::write(path("b.safetensors"), to_safetensors(&b).unwrap()).unwrap();
    std::fs::write(path("d.csv"), csv_of(&data)).unwrap();
    let models = format!("{},{}", path("a.safetensors"), path("b.safetensors"));
    let out = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args([
            "lmc",
            "--models",
            &models,
            "--data",
            &path("d.csv"),
            "--json",
        ])
        .args(["--save-matched", &path("m.safetensors")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let perms: Vec<Vec<usize>> = serde_json::from_value(json["permutations"].clone()).unwrap();
    let saved = from_safetensors(
        &std::fs::read(path("m.safetensors")).unwrap(),
        Activation::Relu,
    )
    .unwrap();
    let expected = rebasin::permute_hidden(&b, &perms).unwrap();
    for (s, e) in saved.layers.iter().zip(&expected.layers) {
        assert_eq!(s.params.weight, e.params.weight);
    }
    let change = (saved.predict(&data.features).unwrap() - b.predict(&data.features).unwrap())
        .abs()
        .max();
    assert!(change < ROUNDING);
    assert!(
        json["barrier"]["matched"].as_f64().unwrap() <= json["barrier"]["naive"].as_f64().unwrap()
    );

    let c = random_mlp(5, &[12, 7], 3, 33);
    std::fs::write(path("c.safetensors"), to_safetensors(&c).unwrap()).unwrap();
    let models = format!("{},{}", path("a.safetensors"), path("c.safetensors"));
    let out = Command::new(env!("CARGO_BIN_EXE_theorylab"))
        .args(["lmc", "--models", &models, "--data", &path("d.csv")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && !stderr.contains("panicked"),
        "{stderr}"
    );
    assert!(stderr.contains("5 -> 12 -> 7 -> 3"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The path figure draws the result's numbers: its measured curves are the losses along the
/// path, and its dashed quadratic peaks at the midpoint loss with curvature `c`.
#[test]
fn the_path_figure_draws_the_measured_path_and_its_quadratic() {
    use theorylab::plot::Figure;
    let a = random_mlp(5, &[10, 10], 3, 40);
    let b = random_mlp(5, &[10, 10], 3, 41);
    let r = analyse(&a, &b, &labelled_by(&a, 100, 42), Matching::Weight);
    let figures = LmcConfig::figures(&r).unwrap();
    let Figure::Line(train) = &figures[0].panels[0] else {
        panic!("the path figure's first panel is a line plot")
    };
    let drawn: Vec<f64> = train.series[0].points.iter().map(|p| p.1).collect();
    assert_eq!(drawn, r.train_loss.naive);
    assert_eq!(
        train.series[1]
            .points
            .iter()
            .map(|p| p.1)
            .collect::<Vec<_>>(),
        r.train_loss.matched.clone().unwrap()
    );
    // The default grid has alpha = 1/2 on it (25 points): the quadratic's top is that point.
    let mid = r.train_loss.naive[12];
    let quadratic = &train.theory[0].points;
    let top = quadratic.iter().find(|p| p.0 == 0.5).unwrap();
    assert_eq!(top.1, mid);
    let off = quadratic
        .iter()
        .find(|p| (p.0 - 0.45).abs() < 1e-12)
        .unwrap();
    assert_close(
        "quadratic",
        off.1,
        mid + 0.5 * r.curvature.naive * 0.05f64.powi(2),
        0.0,
        1e-12,
    );
}

/// The page's default view (a pair and a sweep of 4 widths x 3 pairs) is within the page's
/// budget, and one widened to the CLI's default sweep is refused with the option named.
#[test]
fn the_page_prices_its_view_before_running() {
    use theorylab::experiments::connectivity::ConnectivityPage;
    let page = ConnectivityPage::default();
    page.validate_page().unwrap();
    let wide = ConnectivityPage {
        values: vec![16, 32, 64, 128, 256, 512],
        pairs: 8,
        ..ConnectivityPage::default()
    };
    let e = wide.validate_page().unwrap_err().to_string();
    assert!(e.contains("values") && e.contains("multiply-adds"), "{e}");
}

/// The page's permalink gives back exactly its config, lists (the sweep's values, the seeds)
/// included.
#[test]
fn a_connectivity_permalink_gives_back_exactly_the_config() {
    use theorylab::experiments::connectivity::ConnectivityPage;
    use theorylab::experiments::connectivity::sweep::SweepAxis;
    use theorylab::experiments::permalink;
    let mut page = ConnectivityPage {
        axis: SweepAxis::Spawn,
        values: vec![0, 7, 30],
        pairs: 2,
        ..ConnectivityPage::default()
    };
    page.pair.seeds = [5, 9];
    page.pair.spawn = Some(12);
    page.pair.matching = Matching::Activation;
    let query = permalink::encode(&page).unwrap();
    assert_eq!(permalink::decode::<ConnectivityPage>(&query).unwrap(), page);
    let nested = permalink::decode::<ConnectivityPage>("values=%5B%7B%7D%5D").unwrap_err();
    assert!(nested.to_string().contains("values"), "{nested}");
}
