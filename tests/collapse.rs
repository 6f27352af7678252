//! Neural collapse: the metrics of Papyan, Han & Donoho (2020) on constructed geometries, their
//! invariances, an independent NumPy computation, and training runs against the theory: an MLP
//! collapses in the terminal phase, and the unconstrained features model with imbalanced
//! bias-free MSE reaches Dang et al.'s closed form, minority collapse included.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

use nalgebra::{DMatrix, DVector};
use std::ops::ControlFlow;
use std::process::Command;
use theorylab::core::collapse::{
    Classifier, NcMetrics, UfmOptimum, local_product, nc_metrics, norms_of_product, ufm_norms_at,
};
use theorylab::core::loss::Loss;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::run;
use theorylab::experiments::Experiment;
use theorylab::experiments::collapse::{CollapseConfig, CollapseData, CollapseResult};

/// f64 rounding over sums of a few hundred terms of order one: 1e-12 leaves three orders of
/// magnitude of room above the ~1e-15 of one operation.
const ROUNDING: f64 = 1e-12;

fn train(config: CollapseConfig) -> CollapseResult {
    run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap()
}

/// Simplex ETF of C vectors in R^C: `e_k - 1/C`, scaled; every sample sits on its class mean.
fn simplex(classes: usize, per_class: usize, scale: f64) -> (DMatrix<f64>, Vec<usize>) {
    let labels: Vec<usize> = (0..classes * per_class).map(|i| i % classes).collect();
    let features = DMatrix::from_fn(classes, labels.len(), |r, c| {
        scale * (f64::from(u8::from(r == labels[c])) - 1.0 / classes as f64)
    });
    (features, labels)
}

#[test]
fn a_simplex_etf_with_no_within_class_spread_is_fully_collapsed() {
    for classes in [2, 3, 4, 10] {
        let (h, labels) = simplex(classes, 5, 3.0);
        // The self-dual classifier W = M^T (the centred means are the features themselves).
        let w = DMatrix::from_fn(classes, classes, |r, c| {
            f64::from(u8::from(r == c)) - 1.0 / classes as f64
        });
        let m = nc_metrics(
            &h,
            &labels,
            classes,
            Some(Classifier {
                weight: &w,
                bias: None,
            }),
        )
        .unwrap();
        assert!(m.nc1.unwrap().abs() < ROUNDING, "NC1 {:?}", m.nc1);
        assert_eq!(m.between_rank, classes - 1);
        assert!(m.nc2_equinorm_means.unwrap() < ROUNDING);
        assert!(m.nc2_equinorm_classifier.unwrap() < ROUNDING);
        assert!(m.nc2_equiangular.unwrap() < ROUNDING);
        assert!(m.nc2_cos_std.unwrap() < ROUNDING);
        assert!(m.nc3.unwrap() < ROUNDING);
        assert_eq!(m.nc4, Some(0.0));
        let ideal = -1.0 / (classes as f64 - 1.0);
        for a in 0..classes {
            for b in 0..classes {
                let expected = if a == b { 1.0 } else { ideal };
                assert!((m.mean_cosines[a * classes + b] - expected).abs() < ROUNDING);
            }
        }
    }
}

/// Features of `classes` noisy clusters in `dim` dimensions and a noisy self-dual classifier.
fn noisy(
    classes: usize,
    per_class: usize,
    dim: usize,
    seed: u64,
) -> (DMatrix<f64>, Vec<usize>, DMatrix<f64>, DVector<f64>) {
    let mut rng = Rng::new(seed, Stream::Experiment);
    let centres = DMatrix::from_fn(dim, classes, |_, _| 3.0 * rng.normal());
    let labels: Vec<usize> = (0..classes * per_class).map(|i| i % classes).collect();
    let h = DMatrix::from_fn(dim, labels.len(), |r, c| {
        centres[(r, labels[c])] + 0.5 * rng.normal()
    });
    let w = centres.transpose() + DMatrix::from_fn(classes, dim, |_, _| 0.5 * rng.normal());
    let b = DVector::from_fn(classes, |_, _| 0.1 * rng.normal());
    (h, labels, w, b)
}

fn assert_same(a: &NcMetrics, b: &NcMetrics, tolerance: f64) {
    let pairs = [
        (a.nc1, b.nc1),
        (a.nc2_equinorm_means, b.nc2_equinorm_means),
        (a.nc2_equinorm_classifier, b.nc2_equinorm_classifier),
        (a.nc2_equiangular, b.nc2_equiangular),
        (a.nc2_cos_std, b.nc2_cos_std),
        (a.nc3, b.nc3),
        (a.nc4, b.nc4),
    ];
    for (i, (x, y)) in pairs.into_iter().enumerate() {
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!(
            (x - y).abs() <= tolerance * x.abs().max(1.0),
            "measure {i}: {x} vs {y}"
        );
    }
}

#[test]
fn the_metrics_are_invariant_to_scaling_and_to_rotating_features_and_classifier_together() {
    let (h, labels, w, b) = noisy(4, 30, 6, 1);
    let reference = nc_metrics(
        &h,
        &labels,
        4,
        Some(Classifier {
            weight: &w,
            bias: Some(&b),
        }),
    )
    .unwrap();
    // A random rotation Q (the Q factor of a Gaussian matrix): h -> s Q h, W -> W Q^T keeps
    // every logit W h (up to the scale s, which NC4's argmax ignores and the other ratios cancel).
    let mut rng = Rng::new(2, Stream::Experiment);
    let q = DMatrix::from_fn(6, 6, |_, _| rng.normal()).qr().q();
    let scale = 7.3;
    let h2 = &q * &h * scale;
    let w2 = &w * q.transpose() * scale;
    let b2 = &b * scale * scale;
    let moved = nc_metrics(
        &h2,
        &labels,
        4,
        Some(Classifier {
            weight: &w2,
            bias: Some(&b2),
        }),
    )
    .unwrap();
    assert_same(&reference, &moved, ROUNDING * 100.0);
}

#[test]
fn nc1_of_a_rank_deficient_between_class_covariance_is_finite_and_non_negative() {
    // Four classes in two dimensions: Sigma_B has rank 2 < C - 1 = 3.
    let (h, labels, _, _) = noisy(4, 10, 2, 3);
    let m = nc_metrics(&h, &labels, 4, None).unwrap();
    assert_eq!(m.between_rank, 2);
    let nc1 = m.nc1.unwrap();
    assert!(nc1.is_finite() && nc1 >= 0.0, "NC1 {nc1}");
    assert!(
        m.notes.iter().any(|n| n.contains("rank 2")),
        "{:?}",
        m.notes
    );
    // Coinciding means: NC1 is undefined, reported as such rather than as NaN or infinity.
    let h = DMatrix::from_fn(3, 8, |r, c| if (r + c) % 2 == 0 { 1.0 } else { -1.0 });
    let labels = [0, 1, 0, 1, 1, 0, 1, 0];
    let m = nc_metrics(&h, &labels, 2, None).unwrap();
    assert_eq!(m.nc1, None);
    assert!(
        m.notes.iter().any(|n| n.contains("coincide")),
        "{:?}",
        m.notes
    );
}

#[test]
fn bad_features_get_errors_that_name_the_problem() {
    let (h, labels, w, _) = noisy(3, 4, 5, 4);
    let message = |r: theorylab::error::Result<NcMetrics>| r.unwrap_err().to_string();
    assert!(message(nc_metrics(&h, &labels, 4, None)).contains("class 3 has no samples"));
    let mut bad = labels.clone();
    bad[2] = 7;
    assert!(message(nc_metrics(&h, &bad, 3, None)).contains("label 7 of sample 3"));
    assert!(message(nc_metrics(&h, &labels[1..], 3, None)).contains("labels"));
    let mut nan = h.clone();
    nan[(1, 2)] = f64::NAN;
    assert!(message(nc_metrics(&nan, &labels, 3, None)).contains("feature 2 of sample 3"));
    let wrong = w.columns(0, 4).into_owned();
    assert!(
        message(nc_metrics(
            &h,
            &labels,
            3,
            Some(Classifier {
                weight: &wrong,
                bias: None
            })
        ))
        .contains("classifier W")
    );
}

#[test]
fn nc_metrics_equals_an_independent_numpy_computation() {
    // tests/fixtures/collapse/make_fixture.py wrote the CSV files and expected.json with NumPy
    // (pinv of Sigma_B, explicit pairwise cosines). Both sides are f64 on ~60 x 5 numbers:
    // they agree to rounding, up to the cutoff-free pseudo-inverses' ~1e-13 relative.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collapse");
    for (prefix, with_classifier) in [("", true), ("rank_deficient_", false)] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_theorylab"));
        cmd.args(["nc-metrics", "--json", "--features"])
            .arg(format!("{dir}/{prefix}features.csv"))
            .arg("--labels")
            .arg(format!("{dir}/{prefix}labels.csv"));
        if with_classifier {
            cmd.arg("--classifier")
                .arg(format!("{dir}/classifier.csv"))
                .arg("--bias")
                .arg(format!("{dir}/bias.csv"));
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = std::fs::read_to_string(format!("{dir}/{prefix}expected.json")).unwrap();
        let numpy: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (key, expected) in numpy.as_object().unwrap() {
            let (x, y) = (ours[key].as_f64().unwrap(), expected.as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-10 * y.abs().max(1e-3),
                "{prefix}{key}: ours {x}, NumPy {y}"
            );
        }
    }
}

#[test]
fn the_features_model_reaches_the_closed_form_of_imbalanced_mse_and_its_minority_collapses() {
    // N = 200, lambda_W = lambda_H = 0.03: the threshold N^2 lambda_W lambda_H = 36 leaves class
    // 3 (20 samples) below it, class 2 (40) just above.
    let r = train(imbalanced_ufm(0));
    assert_eq!(r.converged, Some(true));
    let theory = UfmOptimum::new(&r.class_sizes, 0.03, 0.03, 0).unwrap();
    assert_eq!(r.theory.as_ref(), Some(&theory));
    // Found by bisection to 1e-9 of N = 200.
    assert!((theory.collapse_threshold - 36.0).abs() <= 1e-9 * 200.0);
    assert_eq!(theory.classifier_norms_sq[3], 0.0);
    assert_norms_are(&r, &theory.classifier_norms_sq, &theory.mean_norms_sq);
    // The frame itself: the centred means' cosines and each classifier row's alignment with
    // its centred mean, computed from the closed form's norms. Norms within 1e-4 relative move
    // a cosine by at most about 2e-4 (each factor by 1e-4); 1e-3 leaves room for the features'
    // remaining within-class spread.
    let cosines = theory.mean_cosines(&r.class_sizes);
    for (i, (m, e)) in r.last.mean_cosines.iter().zip(&cosines).enumerate() {
        assert!(
            (m - e).abs() <= 1e-3,
            "mean cosine [{i}]: {m} vs closed form {e}"
        );
    }
    let alignment = theory.alignment(&r.class_sizes);
    assert_eq!(alignment[3], None, "class 3 collapses: its row vanishes");
    for (k, (m, e)) in r.last.alignment.iter().zip(&alignment).enumerate() {
        if let Some(e) = e {
            assert!(
                (m - e).abs() <= 1e-3,
                "alignment of class {k}: {m} vs closed form {e}"
            );
        }
    }
}

#[test]
fn balanced_classes_give_the_simplex_etf_and_an_alignment_of_sqrt_c_minus_1_over_c() {
    // The bias-free MSE optimum with equal classes: centred means at -1/(C-1), and classifier
    // rows (the uncentred frame) at cos sqrt((C-1)/C) to their centred means.
    let theory = UfmOptimum::new(&[50; 5], 0.01, 0.01, 0).unwrap();
    for (i, cos) in theory.mean_cosines(&[50; 5]).iter().enumerate() {
        let expected = if i / 5 == i % 5 { 1.0 } else { -0.25 };
        assert!((cos - expected).abs() <= ROUNDING, "[{i}]: {cos}");
    }
    for a in theory.alignment(&[50; 5]) {
        let a = a.unwrap();
        assert!((a - 0.8f64.sqrt()).abs() <= ROUNDING, "{a}");
    }
}

/// The features model with bias-free MSE on classes of 80, 60, 40 and 20 samples (N = 200),
/// lambda_W = lambda_H = 0.03, d = 8, `layers` linear layers, run until the closed form.
fn imbalanced_ufm(layers: usize) -> CollapseConfig {
    CollapseConfig {
        dataset: CollapseData::Ufm,
        classes: 4,
        class_sizes: vec![80, 60, 40, 20],
        loss: Loss::Mse,
        bias: false,
        weight_decay: 0.03,
        feature_decay: 0.03,
        width: 8,
        lr: 0.05,
        linear_layers: layers,
        epochs: None,
        ..CollapseConfig::default()
    }
}

/// The bar: every class's `||w_k||^2` and `||h_k||^2` within 1e-4 relative of the
/// expected ones (for a class expected at zero, 1e-4 times the largest), measured by
/// `nc_metrics` at the run's last record.
fn assert_norms_are(r: &CollapseResult, classifier: &[f64], means: &[f64]) {
    for (what, measured, expected) in [
        ("||w_k||^2", &r.last.classifier_norms_sq, classifier),
        ("||h_k||^2", &r.last.mean_norms_sq, means),
    ] {
        let largest = expected.iter().copied().fold(0.0, f64::max);
        for (k, (m, e)) in measured.iter().zip(expected).enumerate() {
            let scale = if *e > 0.0 { *e } else { largest };
            assert!(
                (m - e).abs() <= 1e-4 * scale,
                "{what}, class {k}: {m} vs expected {e}"
            );
        }
    }
}

#[test]
fn a_deep_linear_head_reaches_the_derived_optimum_and_can_stay_in_its_local_minimum() {
    // The features model with k linear layers before the classifier: the closed form of
    // core::collapse (AM-GM over the layers, one scalar problem per class) is derived, not
    // quoted, so gradient descent checks it. Same sizes and decays as the one-layer test.
    let run = |layers| train(imbalanced_ufm(layers));
    // One linear layer: classes 0 and 1 keep a positive norm, 2 and 3 collapse (threshold 58.8).
    let one = run(1);
    let theory = one.theory.clone().unwrap();
    assert_eq!(one.converged, Some(true), "{:?}", one.convergence);
    assert!((58.0..60.0).contains(&theory.collapse_threshold));
    assert_eq!(theory.classifier_norms_sq[2], 0.0);
    assert_norms_are(&one, &theory.classifier_norms_sq, &theory.mean_norms_sq);
    // Two: the threshold (61.8) passes class 1 (60 samples), whose global minimum is now zero,
    // but a class a little below it keeps a second, local minimum; gradient descent from unit
    // gain stays there, so the run says it did not reach the closed form and class 1 sits on
    // the local branch.
    let two = run(2);
    let theory = two.theory.clone().unwrap();
    assert_eq!(two.converged, Some(false), "{:?}", two.convergence);
    let why = two.convergence.clone().unwrap_or_default();
    assert!(
        why.contains("stationary away from the closed form"),
        "{why}"
    );
    assert_eq!(theory.classifier_norms_sq[1], 0.0);
    let p = local_product(60.0, 200.0, 0.03, 0.03, 2).expect("class 1 has a local minimum");
    let (w1, h1) = norms_of_product(p, 60.0, 0.03, 0.03, 2);
    let mut classifier = theory.classifier_norms_sq.clone();
    let mut means = theory.mean_norms_sq.clone();
    (classifier[1], means[1]) = (w1, h1);
    assert_norms_are(&two, &classifier, &means);
}

#[test]
fn with_one_weight_matrix_the_derived_optimum_is_dang_et_al_s_closed_form() {
    // s_k^2 = max(sqrt(n_k lambda_H / lambda_W) - N lambda_H, 0), ||h_k||^2 = s_k^2 / (s_k^2 + N
    // lambda_H)^2 (Dang et al. 2023), typed here from the paper, against the general solution.
    let (n, lw, lh): (f64, f64, f64) = (200.0, 0.03, 0.02);
    for nk in [5.0, 20.0, 40.0, 80.0, 150.0] {
        let s2: f64 = ((nk * lh / lw).sqrt() - n * lh).max(0.0);
        let (w, h) = ufm_norms_at(nk, n, lw, lh, 0);
        assert!((w - s2).abs() <= ROUNDING, "n_k {nk}: {w} vs {s2}");
        let dang = s2 / (s2 + n * lh).powi(2);
        assert!((h - dang).abs() <= ROUNDING, "n_k {nk}: {h} vs {dang}");
    }
    let theory = UfmOptimum::new(&[100, 60, 30, 10], lw, lh, 0).unwrap();
    assert!((theory.collapse_threshold - n * n * lw * lh).abs() <= 1e-9 * n);
}

#[test]
fn an_mlp_on_a_separable_mixture_collapses_in_the_terminal_phase() {
    let r = train(CollapseConfig::default());
    let zero = r
        .zero_error_epoch
        .expect("the default run reaches zero training error");
    let at_zero = r.nc1[r.epochs.iter().position(|&e| e == zero).unwrap()].unwrap();
    let last = r.nc1.last().unwrap().unwrap();
    assert!(
        last * 10.0 <= at_zero,
        "NC1 {at_zero} at zero error (epoch {zero}), {last} at the end"
    );
    assert_eq!(*r.train_accuracy.last().unwrap(), 1.0);
}

#[test]
fn the_figures_draw_the_result_numbers() {
    let r = train(CollapseConfig {
        epochs: Some(20),
        ..CollapseConfig::default()
    });
    let figures = CollapseConfig::figures(&r).unwrap();
    let metrics = &figures[0];
    // One CSV row per record, the NC1 column equal to the result's.
    let rows: Vec<&str> = metrics.csv.lines().skip(1).collect();
    assert_eq!(rows.len(), r.epochs.len());
    for (row, nc1) in rows.iter().zip(&r.nc1) {
        let cell: f64 = row.split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(Some(cell), *nc1);
    }
    // The Gram and norms figures of an imbalanced features model (where the closed form
    // applies): every drawn number is the result's or the closed form's, to the digit.
    let r = train(CollapseConfig {
        dataset: CollapseData::Ufm,
        class_sizes: vec![60, 40, 20, 10],
        epochs: Some(300),
        weight_decay: 0.01,
        feature_decay: 0.01,
        ..CollapseConfig::default()
    });
    let theory = r.theory.clone().unwrap();
    let figures = CollapseConfig::figures(&r).unwrap();
    let cells = |stem: &str| -> Vec<Vec<String>> {
        let figure = figures.iter().find(|f| f.stem == stem).unwrap();
        let rows: Vec<Vec<String>> = figure
            .csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        rows
    };
    let number = |s: &str| s.parse::<f64>().unwrap();
    let gram = cells("mean-gram");
    let ideal = theory.mean_cosines(&r.class_sizes);
    assert_eq!(gram.len(), 16);
    for (i, row) in gram.iter().enumerate() {
        assert_eq!(number(&row[2]), r.last.mean_cosines[i]);
        assert_eq!(number(&row[3]), ideal[i]);
    }
    let alignment = theory.alignment(&r.class_sizes);
    for (k, row) in cells("norms").iter().enumerate() {
        assert_eq!(number(&row[1]), r.class_sizes[k] as f64);
        assert_eq!(number(&row[2]), r.last.classifier_norms_sq[k]);
        assert_eq!(number(&row[3]), r.last.mean_norms_sq[k]);
        assert_eq!(number(&row[4]), r.last.alignment[k]);
        assert_eq!(number(&row[5]), theory.classifier_norms_sq[k]);
        assert_eq!(number(&row[6]), theory.mean_norms_sq[k]);
        assert_eq!(row[7].parse::<f64>().ok(), alignment[k]);
    }
}

#[test]
fn the_3d_view_fits_the_simplex_etf_and_training_carries_the_means_onto_it() {
    use nalgebra::Vector3;
    use theorylab::experiments::collapse::figures::fitted_simplex;
    // A regular tetrahedron, turned by a random rotation and scaled, and its mirror image: the
    // fit recovers both to rounding (an orthogonal map is exact for an exact copy; the ETF is
    // defined up to reflections too).
    let q = gaussian_matrix3(7).qr().q();
    let rotation = if q.determinant() < 0.0 { -q } else { q };
    let tetrahedron: Vec<Vector3<f64>> = [
        [1.0, 1.0, 1.0],
        [1.0, -1.0, -1.0],
        [-1.0, 1.0, -1.0],
        [-1.0, -1.0, 1.0],
    ]
    .iter()
    .map(|v| rotation * Vector3::from(*v) * 0.7)
    .collect();
    let mirrored: Vec<Vector3<f64>> = tetrahedron
        .iter()
        .map(|v| Vector3::new(-v.x, v.y, v.z))
        .collect();
    for shape in [&tetrahedron, &mirrored] {
        let fit = fitted_simplex(shape).unwrap();
        for (a, b) in fit.iter().zip(shape) {
            assert!((a - b).norm() <= 1e-12, "{a} vs {b}");
        }
    }
    // The default run (4 classes): the means' distance from the fitted simplex, relative to
    // their size, falls by far during training (NC2 equiangularity falls to ~0.02 at the end).
    let r = train(CollapseConfig::default());
    let residual = |i: usize| {
        let s = &r.snapshots[i];
        let means: Vec<Vector3<f64>> = s
            .means
            .iter()
            .zip(&s.means_z)
            .map(|(&(x, y), &z)| Vector3::new(x, y, z))
            .collect();
        let fit = fitted_simplex(&means).unwrap();
        let off: f64 = fit
            .iter()
            .zip(&means)
            .map(|(a, b)| (a - b).norm_squared())
            .sum();
        let size: f64 = means.iter().map(|m| m.norm_squared()).sum();
        (off / size).sqrt()
    };
    let (first, last) = (residual(0), residual(r.snapshots.len() - 1));
    assert!(
        last < 0.1 && last * 3.0 < first,
        "relative distance {first} at init, {last} at the end"
    );
    // The 3-D figure draws the snapshot's numbers.
    let figures = CollapseConfig::figures(&r).unwrap();
    let view = figures.iter().find(|f| f.stem == "features-3d").unwrap();
    let s = r.snapshots.last().unwrap();
    let means: Vec<Vec<f64>> = view
        .csv
        .lines()
        .filter(|l| l.contains(",mean,"))
        .map(|l| l.split(',').skip(3).map(|v| v.parse().unwrap()).collect())
        .collect();
    for (k, m) in means.iter().enumerate() {
        assert_eq!(m, &vec![s.means[k].0, s.means[k].1, s.means_z[k]]);
    }
}

fn gaussian_matrix3(seed: u64) -> nalgebra::Matrix3<f64> {
    let mut rng = Rng::new(seed, Stream::Experiment);
    nalgebra::Matrix3::from_fn(|_, _| rng.normal())
}

#[test]
fn uploaded_features_are_measured_as_nc_metrics_measures_them_and_drawn_as_measured() {
    use theorylab::experiments::collapse::own::{Named, OwnFeatures};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collapse");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
    let (features, labels, classifier, bias) = (
        read("features.csv"),
        read("labels.csv"),
        read("classifier.csv"),
        read("bias.csv"),
    );
    let named = |name, text| Named { name, text };
    let own = OwnFeatures::read(
        named("features.csv", &features),
        named("labels.csv", &labels),
        Some(named("classifier.csv", &classifier)),
        Some(named("bias.csv", &bias)),
    )
    .unwrap();
    let (metrics, snapshot) = own.measure().unwrap();
    // The page's numbers are nc-metrics' (the same function on the same numbers: equal).
    let numpy: serde_json::Value = serde_json::from_str(&read("expected.json")).unwrap();
    let nc1 = numpy["nc1"].as_f64().unwrap();
    assert!((metrics.nc1.unwrap() - nc1).abs() <= 1e-10 * nc1);
    let csv = theorylab::experiments::collapse::figures::own_features_csv(&snapshot, &metrics);
    let cosines: Vec<f64> = csv
        .lines()
        .filter(|l| l.starts_with("cosine,"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(cosines, metrics.mean_cosines);
    let figure = theorylab::experiments::collapse::figures::own_features(
        &snapshot,
        &own.class_sizes(),
        &metrics,
    );
    assert_eq!(figure.unwrap().len(), 3);
    // A bad cell names its file and line.
    let broken = features.replacen(',', ",x", 1);
    let e = OwnFeatures::read(
        named("mine.csv", &broken),
        named("labels.csv", &labels),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("mine.csv") && e.contains("line"), "{e}");
}

#[test]
fn the_features_model_gradient_with_a_deep_linear_head_equals_finite_differences() {
    // Central differences with h = 1e-6 of an objective of order 1: truncation ~h^2, rounding
    // ~eps/h ~ 1e-10, so an exact gradient agrees to ~1e-8 relative and a wrong term by O(1).
    use theorylab::core::ufm::Ufm;
    let labels = [0, 1, 2, 0, 1, 2, 2];
    for (loss, bias) in [(Loss::Mse, false), (Loss::CrossEntropy, true)] {
        let ufm = Ufm::init(4, labels.len(), 3, 2, bias, &mut Rng::new(5, Stream::Init));
        let (lw, lh) = (0.03, 0.02);
        let g = ufm.gradient(&labels, loss, lw, lh);
        let objective = |u: &Ufm| u.gradient(&labels, loss, lw, lh).objective;
        let h = 1e-6;
        for (layer, d) in g.d_layers.iter().enumerate() {
            for i in 0..d.len() {
                let (mut plus, mut minus) = (ufm.clone(), ufm.clone());
                plus.layers[layer][i] += h;
                minus.layers[layer][i] -= h;
                let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
                assert!(
                    (numeric - d[i]).abs() <= 1e-6 * d.amax().max(1e-3),
                    "{loss:?} layer {layer} entry {i}: {numeric} vs {}",
                    d[i]
                );
            }
        }
        for i in 0..g.d_features.len() {
            let (mut plus, mut minus) = (ufm.clone(), ufm.clone());
            plus.features[i] += h;
            minus.features[i] -= h;
            let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
            let analytic = g.d_features[i];
            assert!(
                (numeric - analytic).abs() <= 1e-6 * g.d_features.amax().max(1e-3),
                "{loss:?} feature {i}: {numeric} vs {analytic}"
            );
        }
    }
}
