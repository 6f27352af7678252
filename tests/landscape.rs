//! Loss landscapes and Hessians: exact Hessian-vector products against finite differences of
//! gradients, Lanczos against the dense eigendecomposition, Gauss quadrature's exact moments in
//! stochastic Lanczos quadrature, Hutchinson's trace within its standard error, filter
//! normalization, the trajectory's principal plane, gradient descent's stability threshold on a
//! quadratic, random subspaces of a problem with a known solution dimension, and the surface's
//! slices against the quadratic model.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic here is a failed check

mod common;

use common::{assert_close, fails_with, gaussian_matrix, theorylab};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use std::ops::ControlFlow;
use theorylab::core::activation::Activation;
use theorylab::core::data::{Dataset, Targets};
use theorylab::core::directions::{
    BiasDirection, filter_normalize, gaussian_direction, project, trajectory_pca,
};
use theorylab::core::hessian::Objective;
use theorylab::core::lanczos::{Lanczos, slq_density};
use theorylab::core::loss::Loss;
use theorylab::core::mlp::{Mlp, MlpConfig};
use theorylab::core::optim::OptimizerKind;
use theorylab::core::parametrization::Parametrization;
use theorylab::core::rng::{Rng, Stream};
use theorylab::core::stepper::{Stepper, run};
use theorylab::core::subspace::RandomSubspace;
use theorylab::core::train::Split;
use theorylab::experiments::Experiment;
use theorylab::experiments::landscape::intrinsic::intrinsic_dimension;
use theorylab::experiments::landscape::sharpness::{SharpnessConfig, stability_threshold};
use theorylab::experiments::landscape::spectrum::{SpectrumConfig, SpectrumRun};
use theorylab::experiments::landscape::surface::{DirectionKind, SurfaceConfig};
use theorylab::experiments::landscape::{Problem, Subject};

fn small_mlp(activation: Activation, hidden: &[usize], seed: u64) -> Mlp<f64> {
    let config = MlpConfig {
        input_dim: 3,
        hidden: hidden.to_vec(),
        output_dim: 4,
        activation,
        bias: true,
        residual: None,
        rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
        sigma_w: 1.3,
        sigma_b: 0.2,
    };
    Mlp::init(&config, &mut Rng::new(seed, Stream::Init)).unwrap()
}

fn small_data(samples: usize, seed: u64) -> Dataset {
    let features = gaussian_matrix(3, samples, seed);
    let mut rng = Rng::new(seed, Stream::Data);
    let labels = (0..samples).map(|_| rng.below(4)).collect();
    Dataset::new(
        features,
        Targets::Classes {
            labels,
            num_classes: 4,
        },
    )
    .unwrap()
}

fn objective(activation: Activation, loss: Loss, seed: u64) -> Objective {
    let data = Split::new(&small_data(20, seed)).unwrap();
    Objective::new(small_mlp(activation, &[5, 6], seed), data, loss).unwrap()
}

fn gradient_at(o: &Objective, theta: &DVector<f64>) -> DVector<f64> {
    let mut mlp = o.mlp().clone();
    mlp.set_flat(theta).unwrap();
    Objective::new(mlp, o.data().clone(), o.loss())
        .unwrap()
        .gradient()
        .clone()
}

/// Central differences of the exact gradient: `(g(theta + h v) - g(theta - h v)) / 2h` has
/// truncation error `h^2 |g'''| / 6` (about 1e-10 here at h = 1e-5) and rounding error
/// `eps |g| / h` (about 1e-11): 1e-6 relative to `|H v|` leaves four orders of margin. ReLU
/// networks are piecewise quadratic in this sense; at h = 1e-5 no preactivation of these 20
/// samples lies close enough to 0 to flip (checked by the agreement itself).
#[test]
fn hessian_vector_products_equal_finite_differences_of_gradients() {
    for activation in [
        Activation::Tanh,
        Activation::Gelu,
        Activation::Erf,
        Activation::Relu,
        Activation::Linear,
    ] {
        for loss in [Loss::Mse, Loss::CrossEntropy] {
            let o = objective(activation, loss, 3);
            let theta = o.mlp().flatten();
            let v = gaussian_matrix(o.num_params(), 1, 11)
                .column(0)
                .into_owned();
            let h = 1e-5;
            let fd = (gradient_at(&o, &(&theta + &v * h)) - gradient_at(&o, &(&theta - &v * h)))
                / (2.0 * h);
            let hv = o.hvp(&v).unwrap();
            let error = (&hv - &fd).norm() / hv.norm();
            assert!(
                error < 1e-6,
                "{activation:?} {loss:?}: |Hv - FD| / |Hv| = {error:e}"
            );
        }
    }
    // A tanh network whose second hidden layer is linear (the Collapse room's partly
    // deep-linear networks): each layer's own activation in the R-operator.
    for loss in [Loss::Mse, Loss::CrossEntropy] {
        let data = Split::new(&small_data(20, 4)).unwrap();
        let mlp = small_mlp(Activation::Tanh, &[5, 6], 4)
            .with_linear_tail(1)
            .unwrap();
        let o = Objective::new(mlp, data, loss).unwrap();
        let theta = o.mlp().flatten();
        let v = gaussian_matrix(o.num_params(), 1, 12)
            .column(0)
            .into_owned();
        let h = 1e-5;
        let fd =
            (gradient_at(&o, &(&theta + &v * h)) - gradient_at(&o, &(&theta - &v * h))) / (2.0 * h);
        let hv = o.hvp(&v).unwrap();
        let error = (&hv - &fd).norm() / hv.norm();
        assert!(error < 1e-6, "linear tail {loss:?}: {error:e}");
    }
}

/// The Hessian assembled from products is symmetric to rounding: each entry is a sum of a few
/// hundred f64 products, so 1e-12 of the largest entry is far above rounding and far below any
/// error of the R-operator (a missing term is O(1) of the entries).
#[test]
fn the_assembled_hessian_is_symmetric() {
    for loss in [Loss::Mse, Loss::CrossEntropy] {
        let h = objective(Activation::Tanh, loss, 5)
            .dense_hessian()
            .unwrap();
        let asym = (&h - h.transpose()).amax();
        assert!(asym <= 1e-12 * h.amax(), "{loss:?}: asymmetry {asym:e}");
    }
}

fn dense_eigenvalues(h: &DMatrix<f64>) -> Vec<f64> {
    let mut values: Vec<f64> = SymmetricEigen::new(h.clone())
        .eigenvalues
        .iter()
        .copied()
        .collect();
    values.sort_by(|a, b| b.total_cmp(a));
    values
}

fn run_lanczos(o: &Objective, steps: usize, seed: u64) -> theorylab::core::lanczos::Ritz {
    let start = gaussian_matrix(o.num_params(), 1, seed)
        .column(0)
        .into_owned();
    let mut lanczos = Lanczos::new(start, steps).unwrap();
    while let Some(q) = lanczos.next_vector() {
        let product = o.hvp(q).unwrap();
        lanczos.absorb(product).unwrap();
    }
    lanczos.ritz()
}

/// With as many steps as parameters, Lanczos with full re-orthogonalization reproduces every
/// eigenvalue of the dense Hessian (to rounding: 1e-9 of the spectral norm, with D = 84); with
/// fewer steps each Ritz value lies within its residual of an exact eigenvalue (Kahan's bound),
/// and the top ones have converged. (MSE: cross-entropy's Hessian has a null space of
/// dimension fan_in + 1 from softmax's shift invariance, which one Krylov space sees once.)
#[test]
fn lanczos_equals_the_dense_eigendecomposition() {
    let o = objective(Activation::Tanh, Loss::Mse, 7);
    let exact = dense_eigenvalues(&o.dense_hessian().unwrap());
    let norm = exact[0].abs().max(exact[exact.len() - 1].abs());
    let full = run_lanczos(&o, o.num_params(), 1);
    assert_eq!(full.values.len(), exact.len());
    for (i, (a, b)) in full.values.iter().zip(&exact).enumerate() {
        assert_close(&format!("eigenvalue {i}"), *a, *b, 0.0, 1e-9 * norm);
    }
    let partial = run_lanczos(&o, 30, 2);
    for (theta, r) in partial.values.iter().zip(&partial.residuals) {
        let nearest = exact
            .iter()
            .map(|l| (l - theta).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest <= r + 1e-10 * norm,
            "Ritz value {theta} is {nearest:e} from the spectrum, residual {r:e}"
        );
    }
    for (k, (ritz, exact)) in partial.values.iter().zip(&exact).take(3).enumerate() {
        assert_close(&format!("top {k}"), *ritz, *exact, 1e-6, 1e-9 * norm);
    }
}

/// Gauss quadrature with the m Ritz nodes and weights integrates polynomials of degree up to
/// 2m - 1 exactly: `sum_i w_i theta_i^p = q^T A^p q`. On a diagonal matrix with known spectrum
/// the two agree to rounding (1e-9 relative for powers up to 9 of eigenvalues up to 3).
#[test]
fn stochastic_lanczos_quadrature_reproduces_the_moments() {
    let eigenvalues: Vec<f64> = (0..60)
        .map(|i| 3.0 * (i as f64 / 59.0).powi(2) - 0.5)
        .collect();
    let a = DMatrix::from_diagonal(&DVector::from_vec(eigenvalues.clone()));
    let m = 5;
    let mut probes = Vec::new();
    for seed in 0..4 {
        let q = gaussian_matrix(60, 1, 100 + seed).column(0).into_owned();
        let q = &q / q.norm();
        let mut lanczos = Lanczos::new(q.clone(), m).unwrap();
        while let Some(v) = lanczos.next_vector() {
            let product = &a * v;
            lanczos.absorb(product).unwrap();
        }
        let ritz = lanczos.ritz();
        for p in 0..2 * m {
            let quadrature: f64 = ritz
                .values
                .iter()
                .zip(&ritz.weights)
                .map(|(t, w)| w * t.powi(p as i32))
                .sum();
            let exact: f64 = eigenvalues
                .iter()
                .zip(q.iter())
                .map(|(l, qi)| qi * qi * l.powi(p as i32))
                .sum();
            assert_close(&format!("moment {p}"), quadrature, exact, 1e-9, 1e-12);
        }
        probes.push(ritz);
    }
    // The density integrates to 1: the grid reaches 3 sigma beyond the extreme nodes, so at most
    // the Gaussian tail beyond 3 sigma (0.135%) of the outermost weights is cut; the trapezoid
    // rule's error on 400 points is far smaller.
    let (grid, density) = slq_density(&probes, 400, 0.01).unwrap();
    let integral: f64 = grid
        .windows(2)
        .zip(density.windows(2))
        .map(|(x, y)| 0.5 * (x[1] - x[0]) * (y[0] + y[1]))
        .sum();
    assert_close("density integral", integral, 1.0, 0.0, 2.7e-3);
}

/// The page's and CLI's Hessian experiment on a network small enough for the dense Hessian:
/// top eigenvalues equal the dense ones (Lanczos converged: within their residual bounds), and
/// Hutchinson's trace is within four of its standard errors of the exact trace (a failure
/// probability of about 1e-4 for a Gaussian mean).
#[test]
fn the_hessian_experiment_matches_the_dense_hessian() {
    let mlp = small_mlp(Activation::Gelu, &[6, 6], 9);
    let data = small_data(30, 9);
    let subject = Subject::from_model(mlp.clone(), &data, Loss::CrossEntropy, "test").unwrap();
    let config = SpectrumConfig {
        top_k: 4,
        iterations: 40,
        trace_probes: 200,
        density_probes: 2,
        minibatch: 10,
        ..SpectrumConfig::default()
    };
    let mut session = SpectrumRun::from_subject(&config, subject).unwrap();
    let r = run(&mut session, |_| ControlFlow::Continue(())).unwrap();
    let dense = Objective::new(mlp, Split::new(&data).unwrap(), Loss::CrossEntropy)
        .unwrap()
        .dense_hessian()
        .unwrap();
    let exact = dense_eigenvalues(&dense);
    let norm = exact[0].abs().max(exact[exact.len() - 1].abs());
    for (k, (value, expected)) in r.eigenvalues.iter().zip(&exact).take(4).enumerate() {
        // The residual bound, plus rounding relative to the spectral norm.
        let bound = r.residuals[k] + 1e-10 * norm;
        assert_close(&format!("eigenvalue {k}"), *value, *expected, 0.0, bound);
    }
    let trace = dense.trace();
    let (estimate, stderr) = (r.trace.unwrap(), r.trace_stderr.unwrap());
    assert!(
        (estimate - trace).abs() <= 4.0 * stderr,
        "Hutchinson {estimate} ± {stderr} vs exact trace {trace}"
    );
    assert_eq!(r.layers.len(), 3);
    assert_eq!(r.minibatch_eigenvalues.len(), 4);
    // Each layer's block is a principal submatrix: its top eigenvalue is at most the whole's
    // (Cauchy interlacing).
    for l in &r.layers {
        assert!(l.eigenvalues[0] <= exact[0] + 1e-9, "{}", l.name);
    }
}

/// Filter normalization gives every row of the direction the norm of the same row of the
/// weights, up to Li et al.'s guard `d_i ||w_i|| / (||d_i|| + 1e-10)` (computed here exactly,
/// to rounding), and treats biases as asked.
#[test]
fn filter_normalization_matches_each_rows_norm() {
    let mlp = small_mlp(Activation::Relu, &[7, 5], 2);
    for bias in [BiasDirection::Zero, BiasDirection::Keep] {
        let mut d = gaussian_direction(&mlp, &mut Rng::new(4, Stream::Experiment));
        let raw = d.clone();
        filter_normalize(&mut d, &mlp, bias);
        for ((dl, raw), layer) in d.iter().zip(&raw).zip(&mlp.layers) {
            let w = &layer.params.weight;
            for i in 0..w.nrows() {
                let r = raw.weight.row(i).norm();
                let expected = w.row(i).norm() * r / (r + 1e-10);
                assert_close("row norm", dl.weight.row(i).norm(), expected, 1e-14, 0.0);
            }
            let (db, b) = (
                dl.bias.as_ref().unwrap(),
                layer.params.bias.as_ref().unwrap(),
            );
            match bias {
                BiasDirection::Zero => assert_eq!(db.amax(), 0.0),
                BiasDirection::Keep => assert_eq!(db, b),
            }
        }
    }
}

/// A trajectory that lies in a known plane: the PCA directions span that plane, explain all
/// the variance between them, and the projection keeps every checkpoint's distance from the end.
#[test]
fn trajectory_pca_finds_the_plane_of_the_path() {
    let dim = 50;
    let basis = gaussian_matrix(dim, 2, 8);
    let u = basis.column(0).normalize();
    let w = basis.column(1) - &u * u.dot(&basis.column(1));
    let v = w.normalize();
    let end = gaussian_matrix(dim, 1, 9).column(0).into_owned();
    let points: Vec<DVector<f64>> = (0..12)
        .map(|t| {
            let s = t as f64 / 11.0;
            &end + &u * (3.0 * (1.0 - s)) + &v * (0.8 * (6.0 * s).sin())
        })
        .collect();
    let pca = trajectory_pca(&points, &end).unwrap();
    for d in &pca.directions {
        let in_plane = (d.dot(&u).powi(2) + d.dot(&v).powi(2)).sqrt();
        assert_close("component in the plane", in_plane, 1.0, 1e-12, 0.0);
    }
    assert_close(
        "explained",
        pca.explained[0] + pca.explained[1],
        1.0,
        1e-12,
        0.0,
    );
    assert!(pca.explained[0] >= pca.explained[1]);
    let coords = project(&points, &end, &pca.directions[0], &pca.directions[1]).unwrap();
    for (p, (a, b)) in points.iter().zip(coords) {
        assert_close(
            "distance",
            (a * a + b * b).sqrt(),
            (p - &end).norm(),
            1e-12,
            1e-12,
        );
    }
}

/// Heavy-ball gradient descent `v <- beta v + H theta`, `theta <- theta - eta v` (SGD's update,
/// the one the sharpness experiment takes) on a quadratic converges when the top eigenvalue is
/// below `(2 + 2 beta) / eta` and diverges above it: 1% on either side of the threshold, over
/// 5000 steps the error shrinks or grows by orders of magnitude.
#[test]
fn gradient_descent_diverges_exactly_above_two_over_eta() {
    for momentum in [0.0, 0.5, 0.9] {
        let lr = 0.1;
        let threshold = stability_threshold(lr, momentum);
        for (factor, stable) in [(0.99, true), (1.01, false)] {
            let top = factor * threshold;
            let h = DVector::from_vec(vec![top, 0.3 * threshold, 0.01 * threshold]);
            let mut theta = DVector::from_element(3, 1.0);
            let mut velocity = DVector::zeros(3);
            for _ in 0..5000 {
                velocity = velocity * momentum + h.component_mul(&theta);
                theta -= &velocity * lr;
            }
            let norm = theta.norm();
            if stable {
                assert!(
                    norm < 1e-3,
                    "beta {momentum}, lambda {top}: |theta| = {norm}"
                );
            } else {
                assert!(
                    norm.is_nan() || norm > 1e3,
                    "beta {momentum}, lambda {top}: |theta| = {norm}"
                );
            }
        }
    }
}

/// The sharpness experiment's first measurement (at init) is the top eigenvalue of the dense
/// Hessian of the same network on the same data.
#[test]
fn sharpness_at_init_is_the_top_eigenvalue() {
    let config = SharpnessConfig {
        problem: Problem {
            width: 4,
            depth: 1,
            ..SharpnessConfig::default().problem
        },
        samples: 50,
        lrs: vec![0.1],
        steps: 2,
        every: 1,
        iterations: 60,
        ..SharpnessConfig::default()
    };
    let r = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    let (train, _) = config.problem.make_data().unwrap();
    let subset: Vec<usize> = (0..50).collect();
    let mlp = config
        .problem
        .init(train.input_dim(), train.output_dim(), config.problem.seed)
        .unwrap();
    let dense = Objective::new(mlp, Split::new(&train.select(&subset)).unwrap(), Loss::Mse)
        .unwrap()
        .dense_hessian()
        .unwrap();
    let top = dense_eigenvalues(&dense)[0];
    assert_close("sharpness at init", r.runs[0].sharpness[0], top, 1e-8, 0.0);
    assert_eq!(r.runs[0].threshold, 20.0);
}

/// A least-squares problem whose loss depends on only k directions of a D-dimensional space,
/// `L(theta) = |A theta - b|^2` with A's k rows orthonormal: minimizing over a random
/// d-dimensional subspace removes the residual's projection onto a uniformly random
/// d-dimensional subspace of A's row space (for d < k), whose fraction is Beta(d/2, (k-d)/2)
/// with mean d/k and variance (d/k)(1 - d/k)/(k/2 + 1); for d >= k the residual vanishes. So the
/// intrinsic dimension of full solution (fraction 1) is exactly k.
#[test]
fn random_subspaces_of_a_problem_with_k_relevant_directions() {
    let (params, k) = (200, 12);
    let q = gaussian_matrix(params, k, 21).qr().q(); // [D, k], orthonormal columns
    let a = q.transpose();
    let b = gaussian_matrix(k, 1, 22).column(0).into_owned();
    let fraction = |d: usize, seed: u64| -> f64 {
        let p = RandomSubspace::new(params, d, &mut Rng::new(seed, Stream::Experiment)).unwrap();
        // From theta_0 = 0: minimize |A P z - b|; the removed fraction of |b|^2.
        let ap = &a * p.basis();
        let z = ap.clone().svd(true, true).solve(&b, 1e-12).unwrap();
        let residual = &ap * z - &b;
        1.0 - residual.norm_squared() / b.norm_squared()
    };
    let dims: Vec<usize> = (1..=k + 4).collect();
    let single: Vec<f64> = dims.iter().map(|&d| fraction(d, 5)).collect();
    for (&d, f) in dims.iter().zip(&single) {
        if d >= k {
            assert_close(&format!("fraction at d = {d}"), *f, 1.0, 1e-10, 0.0);
        } else {
            assert!(*f < 1.0 - 1e-6, "d = {d} < k solved the problem: {f}");
        }
    }
    assert_eq!(
        intrinsic_dimension(&dims, &single, 1.0, 1.0 - 1e-9),
        Some(k)
    );
    // The mean over 200 draws against d/k, within four standard errors.
    let draws = 200;
    for d in [3, 6, 9] {
        let mean = (0..draws).map(|s| fraction(d, 1000 + s)).sum::<f64>() / draws as f64;
        let r = d as f64 / k as f64;
        let stderr = (r * (1.0 - r) / (k as f64 / 2.0 + 1.0) / draws as f64).sqrt();
        assert_close(
            &format!("mean fraction at d = {d}"),
            mean,
            r,
            0.0,
            4.0 * stderr,
        );
    }
}

/// Near the solution the loss along each direction follows the quadratic model of the exact
/// gradient and Hessian-vector product: with the grid spanning 1e-3 the cubic remainder is about
/// 1e-3 of the quadratic term, so 2% of the quadratic term (plus rounding) bounds the gap.
#[test]
fn slices_follow_the_quadratic_model_near_the_solution() {
    let config = SurfaceConfig {
        problem: Problem {
            width: 16,
            epochs: 3,
            activation: Activation::Tanh,
            ..Problem::default()
        },
        grid: 5,
        span: 1e-3,
        ..SurfaceConfig::default()
    };
    let r = run(&mut config.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    for (slice, q) in r.slices.iter().zip(&r.quadratic) {
        for (&a, &loss) in slice.coords.iter().zip(&slice.train_loss) {
            let model = q[0] + a * q[1] + 0.5 * a * a * q[2];
            let second = 0.5 * a * a * q[2].abs();
            assert_close(
                "slice vs quadratic",
                loss,
                model,
                0.0,
                0.02 * second + 1e-13,
            );
        }
        // The centre of the slice is the solution itself.
        assert_eq!(slice.train_loss[2], q[0]);
    }
}

/// The coarse grid the page shows first is the fine grid's every fifth point (51 = 5 * 10 + 1),
/// evaluated once: its values are the fine grid's at the same points.
#[test]
fn the_coarse_grid_is_part_of_the_fine_grid() {
    let config = SurfaceConfig {
        problem: Problem {
            width: 8,
            epochs: 2,
            ..Problem::default()
        },
        grid: 51,
        directions: DirectionKind::Pca,
        ..SurfaceConfig::default()
    };
    let mut session = config.start().unwrap();
    let mut coarse = None;
    loop {
        let progress = pollster::block_on(session.step()).unwrap();
        let r = session.result();
        if coarse.is_none() && r.grid == 11 {
            coarse = Some(r);
        }
        if progress.finished() {
            break;
        }
    }
    let fine = session.result();
    let coarse = coarse.expect("the 11 x 11 grid is published before the 51 x 51 one");
    assert_eq!(fine.grid, 51);
    for j in 0..11 {
        for i in 0..11 {
            assert_eq!(
                coarse.train_loss[j * 11 + i],
                fine.train_loss[5 * j * 51 + 5 * i]
            );
            assert_eq!(coarse.axis[i], fine.axis[5 * i]);
        }
    }
}

/// With cross-entropy the Krylov space ends early (the null space of the softmax's shift
/// symmetry counts once), and every Ritz value it found is an exact eigenvalue.
#[test]
fn lanczos_stops_on_an_invariant_subspace_with_exact_ritz_values() {
    let o = objective(Activation::Tanh, Loss::CrossEntropy, 7);
    let exact = dense_eigenvalues(&o.dense_hessian().unwrap());
    let norm = exact[0].abs().max(exact[exact.len() - 1].abs());
    let ritz = run_lanczos(&o, o.num_params(), 1);
    // The output layer (6 inputs + bias) adds the same vector to every class: 7 null directions.
    assert_eq!(ritz.values.len(), o.num_params() - 6);
    for theta in &ritz.values {
        let nearest = exact
            .iter()
            .map(|l| (l - theta).abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest <= 1e-9 * norm,
            "Ritz value {theta}: {nearest:e} from the spectrum"
        );
    }
}

/// Bad input to the room's commands is refused with a message naming it, before any work; a
/// model from a file runs, and a mismatched one is named.
#[test]
fn the_landscape_commands_name_bad_input_and_read_models() {
    fails_with(&["hessian", "--top-k", "100000"], "top-k");
    fails_with(
        &["hessian", "--iterations", "3", "--top-k", "5"],
        "Lanczos iterations",
    );
    fails_with(&["landscape", "--grid", "50"], "even");
    fails_with(&["landscape", "--grid", "1001"], "grid");
    fails_with(&["landscape", "--width", "0"], "width");
    fails_with(&["landscape", "--lr", "nan"], "learning rate");
    fails_with(&["landscape", "--directions", "hessian"], "hessian");
    fails_with(
        &[
            "landscape",
            "--width",
            "2048",
            "--depth",
            "8",
            "--epochs",
            "1",
        ],
        "multiply-adds",
    );
    fails_with(
        &[
            "landscape",
            "--width",
            "1024",
            "--depth",
            "8",
            "--epochs",
            "1000",
        ],
        "GB",
    );
    fails_with(&["sharpness", "--lrs", "0.1,-1"], "lrs");
    fails_with(&["sharpness", "--every", "0"], "every");
    fails_with(&["intrinsic-dim", "--dims", "10,5"], "ascending");
    fails_with(&["intrinsic-dim", "--dims", "1000000"], "parameters");

    let dir = std::env::temp_dir().join(format!("theorylab-landscape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mlp = small_mlp(Activation::Tanh, &[5], 1);
    let model = dir.join("m.safetensors");
    std::fs::write(
        &model,
        theorylab::core::model_file::to_safetensors(&mlp).unwrap(),
    )
    .unwrap();
    let data = small_data(40, 2);
    let mut csv = String::new();
    for j in 0..40 {
        let f = data.features.column(j);
        let Targets::Classes { labels, .. } = &data.targets else {
            unreachable!()
        };
        csv += &format!("{},{},{},{}\n", f[0], f[1], f[2], labels[j]);
    }
    let good = dir.join("d.csv");
    std::fs::write(&good, &csv).unwrap();
    let narrow = dir.join("narrow.csv");
    std::fs::write(&narrow, "0.1,0.2,1\n0.3,0.4,0\n").unwrap();
    let (m, g, n) = (
        model.to_str().unwrap(),
        good.to_str().unwrap(),
        narrow.to_str().unwrap(),
    );
    fails_with(
        &["hessian", "--model", m, "--data", n, "--activation", "tanh"],
        "feature columns",
    );
    fails_with(
        &[
            "landscape",
            "--model",
            m,
            "--data",
            g,
            "--directions",
            "pca",
        ],
        "PCA directions need the training trajectory",
    );
    let out = theorylab(&[
        "hessian",
        "--model",
        m,
        "--data",
        g,
        "--activation",
        "tanh",
        "--top-k",
        "3",
        "--trace",
        "--density",
        "--per-layer",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let values: Vec<f64> = json["eigenvalues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(values.len(), 3);
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    assert!(json["trace"].is_f64() && json["trace_stderr"].is_f64());
    assert_eq!(json["density"]["grid"].as_array().unwrap().len(), 400);
    assert_eq!(json["layers"].as_array().unwrap().len(), 2);
    // The same numbers as the library on the same model and data.
    let subject = Subject::from_model(mlp, &data, Loss::CrossEntropy, "m").unwrap();
    let config = SpectrumConfig {
        top_k: 3,
        minibatch: 0,
        ..SpectrumConfig::default()
    };
    let r = run(
        &mut SpectrumRun::from_subject(&config, subject).unwrap(),
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    // The CSV holds the features as printed by Rust's shortest round-trip formatting, so the
    // data are bit-identical and so is every product: equal to the last bit.
    assert_eq!(values, r.eigenvalues);
}

/// Every figure draws the result's own numbers: the plane's cells are log10 of the loss over
/// its minimum, the slices are the grid's middle row and column, the eigenvalue panel is the
/// result's eigenvalues.
#[test]
fn figures_draw_the_results_numbers() {
    use theorylab::plot::Figure;
    let problem = Problem {
        width: 8,
        epochs: 2,
        ..Problem::default()
    };
    let surface = SurfaceConfig {
        problem: problem.clone(),
        grid: 7,
        ..SurfaceConfig::default()
    };
    let r = run(&mut surface.start().unwrap(), |_| ControlFlow::Continue(())).unwrap();
    let figures = SurfaceConfig::figures(&r).unwrap();
    let Figure::Heatmap(plane) = &figures[0].panels[0] else {
        panic!("the plane is a heatmap")
    };
    let min = r.train_loss.iter().copied().fold(f64::INFINITY, f64::min);
    for (cell, loss) in plane.values.iter().zip(&r.train_loss) {
        assert_close("plane cell", *cell, (loss / min).log10(), 1e-15, 1e-15);
    }
    let Figure::Surface(relief) = &figures[1].panels[0] else {
        panic!("a 3-D surface")
    };
    assert_eq!(relief.values, plane.values);
    let Figure::Line(slice) = &figures[2].panels[0] else {
        panic!("slices are line plots")
    };
    for (k, &(a, loss)) in slice.series[0].points.iter().enumerate() {
        assert_eq!(a, r.axis[k]);
        assert_eq!(loss, r.train_loss[3 * 7 + k]);
    }
    let spectrum = SpectrumConfig {
        problem,
        iterations: 10,
        trace_probes: 4,
        density_probes: 1,
        minibatch: 0,
        per_layer: false,
        ..SpectrumConfig::default()
    };
    let s = run(
        &mut spectrum.start().unwrap(),
        |_| ControlFlow::Continue(()),
    )
    .unwrap();
    let figures = SpectrumConfig::figures(&s).unwrap();
    let Figure::Line(top) = &figures[0].panels[0] else {
        panic!("eigenvalues are a line plot")
    };
    let drawn: Vec<f64> = top.series[0].points.iter().map(|p| p.1).collect();
    assert_eq!(drawn, s.eigenvalues);
}

/// Marching squares on `f = x^2 + y^2`: every contour point lies on its level's circle up to the
/// error of linear interpolation along a cell edge, at most `h^2 / 4` for this f with spacing h;
/// every level between the field's extremes is drawn.
#[test]
fn contours_lie_on_their_level_sets() {
    use theorylab::experiments::landscape::figures::contour_segments;
    let m = 41;
    let axis: Vec<f64> = (0..m)
        .map(|i| -2.0 + 4.0 * i as f64 / (m - 1) as f64)
        .collect();
    let h = axis[1] - axis[0];
    let values: Vec<f64> = (0..m * m)
        .map(|p| axis[p % m].powi(2) + axis[p / m].powi(2))
        .collect();
    let segments = contour_segments(&axis, &values, 1.0);
    assert!(!segments.is_empty());
    let mut levels = std::collections::BTreeSet::new();
    for s in &segments {
        let r2: Vec<f64> = s.points.iter().map(|(x, y)| x * x + y * y).collect();
        let level = r2[0].round();
        for v in r2 {
            assert!(
                (v - level).abs() <= h * h / 4.0 + 1e-12,
                "{v} on level {level}"
            );
        }
        levels.insert(level as i64);
    }
    // Levels 1 .. 7 lie strictly between the minimum 0 and the corners' 8.
    assert_eq!(
        levels.into_iter().collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
}

/// For every odd grid size the coarse level contains the centre (the solution itself), so the
/// slices published before the fine grid is done go through θ*.
#[test]
fn every_coarse_grid_contains_the_solution() {
    use theorylab::experiments::landscape::surface::strides;
    for n in (3..=201).step_by(2) {
        let s = strides(n);
        assert_eq!(*s.last().unwrap(), 1, "n = {n}");
        let coarse = s[0];
        assert!((n - 1).is_multiple_of(coarse), "n = {n}, stride {coarse}");
        assert!(
            ((n - 1) / 2).is_multiple_of(coarse),
            "n = {n}: centre not on stride {coarse}"
        );
    }
    assert_eq!(strides(51), vec![5, 1]);
}

/// The subspace's chain rule: `P^T grad L(theta_0 + P z)` equals central differences of
/// `z -> L(theta_0 + P z)` (f64, h = 1e-5: truncation and rounding as in the Hessian test, so
/// 1e-6 relative).
#[test]
fn the_subspace_gradient_is_the_pulled_back_gradient() {
    let mlp = small_mlp(Activation::Tanh, &[5], 4);
    let data = Split::new(&small_data(25, 4)).unwrap();
    let origin = mlp.flatten();
    let p = RandomSubspace::new(origin.len(), 7, &mut Rng::new(3, Stream::Experiment)).unwrap();
    let z = gaussian_matrix(7, 1, 5).column(0) * 0.3;
    let at = |z: &DVector<f64>| {
        let mut net = mlp.clone();
        net.set_flat(&p.point(&origin, z)).unwrap();
        Objective::new(net, data.clone(), Loss::CrossEntropy).unwrap()
    };
    let pulled = p.pullback(at(&z).gradient());
    let h = 1e-5;
    for k in 0..7 {
        let mut e = DVector::zeros(7);
        e[k] = h;
        let fd = (at(&(&z + &e)).value() - at(&(&z - &e)).value()) / (2.0 * h);
        assert_close(&format!("dL/dz_{k}"), pulled[k], fd, 1e-6, 1e-9);
    }
}

/// The page's default view is within its budget and its permalink gives back exactly its
/// config (nested configs, lists of rates and dimensions, the surface's turn); a turn beyond a
/// half circle and a grid widened past the page's budget are refused with the field named.
#[test]
fn the_landscape_page_prices_its_view_and_round_trips_its_permalink() {
    use theorylab::experiments::landscape::LandscapePage;
    use theorylab::experiments::permalink;
    let page = LandscapePage::default();
    page.validate_page().unwrap();
    let mut edited = LandscapePage {
        surface_yaw: -65,
        ..LandscapePage::default()
    };
    edited.surface.grid = 31;
    edited.surface.directions = DirectionKind::Filter;
    edited.sharpness.lrs = vec![0.25, 2.0];
    edited.intrinsic.dims = vec![3, 30, 300];
    edited.spectrum.per_layer = false;
    let query = permalink::encode(&edited).unwrap();
    assert_eq!(permalink::decode::<LandscapePage>(&query).unwrap(), edited);
    let turned = LandscapePage {
        surface_yaw: 270,
        ..LandscapePage::default()
    };
    assert!(
        turned
            .validate_page()
            .unwrap_err()
            .to_string()
            .contains("surface_yaw")
    );
    let mut wide = LandscapePage::default();
    wide.surface.grid = 201;
    wide.surface.problem.width = 512;
    let e = wide.validate_page().unwrap_err().to_string();
    assert!(e.contains("multiply-adds"), "{e}");
}
