//! Neural collapse: the geometry of last-layer features and classifier in the terminal phase of
//! training (Papyan, Han & Donoho 2020, PNAS 117(40), section "Results", NC1-NC4), and the
//! unconstrained features model's closed-form optimum for imbalanced, bias-free MSE (Dang et
//! al. 2023, "Neural Collapse in Deep Linear Networks: From Balanced to Imbalanced Data",
//! Theorem 3.3).
//!
//! Shapes: features `H` are `[d, N]` (one column per sample, as everywhere in the core), the
//! classifier `W` is `[C, d]` and `b` is `[C]`. All sums are in f64.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// A linear classifier `x -> W h + b` on the features.
#[derive(Clone, Copy, Debug)]
pub struct Classifier<'a> {
    /// `W`, `[C, d]`.
    pub weight: &'a DMatrix<f64>,
    /// `b`, `[C]`, if the classifier has one.
    pub bias: Option<&'a DVector<f64>>,
}

/// The four collapse measures of one set of features (and classifier), each `None` where its
/// definition breaks down (`notes` says why), never NaN.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NcMetrics {
    /// NC1 = Tr(Sigma_W Sigma_B^+) / C: within-class spread against between-class spread
    /// (Papyan et al. Fig. 6; some codes omit the 1/C). `None` when the class means coincide.
    pub nc1: Option<f64>,
    /// Rank of Sigma_B (at most C - 1), counted as numpy's `matrix_rank` does.
    pub between_rank: usize,
    /// NC2 equinorm of the means: std / mean of `||mu_c - mu_G||` over classes.
    pub nc2_equinorm_means: Option<f64>,
    /// NC2 equinorm of the classifier: std / mean of `||w_c||`.
    pub nc2_equinorm_classifier: Option<f64>,
    /// NC2 equiangularity: mean over pairs c < c' of `|cos(M_c, M_c') + 1/(C-1)|`.
    pub nc2_equiangular: Option<f64>,
    /// Standard deviation of those cosines over pairs.
    pub nc2_cos_std: Option<f64>,
    /// NC3 self-duality `||W^T/||W||_F - M/||M||_F||_F^2`, M the centred class means `[d, C]`.
    pub nc3: Option<f64>,
    /// NC4: fraction of samples where `argmax(W h + b)` differs from the nearest class mean.
    pub nc4: Option<f64>,
    /// Cosines of the centred class means, `[C, C]` row-major (the ideal: 1 on the diagonal,
    /// `-1/(C-1)` elsewhere); 0 where a mean vanishes.
    pub mean_cosines: Vec<f64>,
    /// `||mu_c||^2` of the uncentred class means.
    pub mean_norms_sq: Vec<f64>,
    /// `||w_c||^2` per class (empty without a classifier).
    pub classifier_norms_sq: Vec<f64>,
    /// `cos(w_c, mu_c - mu_G)` per class (empty without a classifier): 1 at self-duality.
    pub alignment: Vec<f64>,
    /// Why a measure is missing (a vanishing mean, coinciding means, a zero classifier).
    pub notes: Vec<String>,
}

/// Population mean and coefficient of variation (std / mean) of positive numbers.
fn coefficient_of_variation(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

/// Checks features and labels and returns the class sizes.
fn class_sizes(features: &DMatrix<f64>, labels: &[usize], classes: usize) -> Result<Vec<usize>> {
    let (d, n) = features.shape();
    if d == 0 || n == 0 {
        return Err(Error::Data(format!(
            "features must have at least one sample and one dimension, got {n} samples of dimension {d}"
        )));
    }
    if labels.len() != n {
        return Err(Error::Shape {
            what: "labels".into(),
            expected: format!("{n} labels, one per sample"),
            found: format!("{}", labels.len()),
        });
    }
    if classes < 2 {
        return Err(Error::config(
            "classes",
            format!("{classes} classes: collapse needs at least 2"),
        ));
    }
    if let Some(i) = features.iter().position(|x| !x.is_finite()) {
        return Err(Error::Data(format!(
            "feature {} of sample {} is {}, not a finite number",
            i % d + 1,
            i / d + 1,
            features[i]
        )));
    }
    let mut sizes = vec![0usize; classes];
    for (i, &y) in labels.iter().enumerate() {
        if y >= classes {
            return Err(Error::Data(format!(
                "label {y} of sample {} is out of range: there are {classes} classes (0..{})",
                i + 1,
                classes - 1
            )));
        }
        sizes[y] += 1;
    }
    if let Some(k) = sizes.iter().position(|&s| s == 0) {
        return Err(Error::Data(format!(
            "class {k} has no samples: its mean, and so every collapse measure, is undefined"
        )));
    }
    Ok(sizes)
}

/// NC1-NC4 of features `[d, N]` with labels in `0..classes`, and of a classifier if given.
///
/// NC1 uses the principal directions `u_k` of the centred means M (see
/// [`principal_directions`]): `Sigma_B = M M^T / C = U S^2 U^T / C`, so
/// `Tr(Sigma_W Sigma_B^+) / C = sum_k s_k^-2 u_k^T Sigma_W u_k` over the `s_k^2` above
/// numpy's rank cutoff `s_max^2 max(d, C) eps` on Sigma_B's eigenvalues; this costs O(N d C) and
/// never forms a d x d matrix.
pub fn nc_metrics(
    features: &DMatrix<f64>,
    labels: &[usize],
    classes: usize,
    classifier: Option<Classifier<'_>>,
) -> Result<NcMetrics> {
    let sizes = class_sizes(features, labels, classes)?;
    let (d, n) = features.shape();
    let c = classes;
    if let Some(cl) = classifier {
        if cl.weight.shape() != (c, d) {
            return Err(Error::Shape {
                what: "classifier W".into(),
                expected: format!("{c} x {d} (classes x feature dimension)"),
                found: format!("{} x {}", cl.weight.nrows(), cl.weight.ncols()),
            });
        }
        if let Some(b) = cl.bias
            && b.len() != c
        {
            return Err(Error::Shape {
                what: "classifier bias b".into(),
                expected: format!("{c} values, one per class"),
                found: format!("{}", b.len()),
            });
        }
        if cl
            .weight
            .iter()
            .chain(cl.bias.into_iter().flatten())
            .any(|x| !x.is_finite())
        {
            return Err(Error::Data(
                "the classifier holds a value that is not a finite number".into(),
            ));
        }
    }
    let mut notes = Vec::new();
    // Class means mu_c [d, C] and the global mean mu_G.
    let mut means = DMatrix::<f64>::zeros(d, c);
    for (column, &y) in features.column_iter().zip(labels) {
        let mut target = means.column_mut(y);
        target += column;
    }
    for (k, &size) in sizes.iter().enumerate() {
        means.column_mut(k).unscale_mut(size as f64);
    }
    let global = features.column_mean();
    let mut centred = means.clone();
    for mut column in centred.column_iter_mut() {
        column -= &global;
    }
    // A centred mean counts as zero below the rounding error of averaging N features.
    let scale = features.column_iter().map(|h| h.norm()).fold(0.0, f64::max);
    let tiny = n as f64 * f64::EPSILON * scale.max(f64::MIN_POSITIVE);
    let mean_norms: Vec<f64> = centred.column_iter().map(|m| m.norm()).collect();
    let vanished: Vec<usize> = (0..c).filter(|&k| mean_norms[k] <= tiny).collect();
    for &k in &vanished {
        notes.push(format!(
            "the centred mean of class {k} vanishes: its angles are undefined"
        ));
    }

    // NC1 through the principal directions of the centred means.
    let directions = principal_directions(&centred);
    let s2_max = directions.first().map_or(0.0, |p| p.0);
    let cutoff = s2_max * d.max(c) as f64 * f64::EPSILON;
    let kept: Vec<&(f64, DVector<f64>)> = directions
        .iter()
        .filter(|p| s2_max.sqrt() > tiny && p.0 > cutoff)
        .collect();
    let between_rank = kept.len();
    let nc1 = if between_rank == 0 {
        notes.push("the class means coincide (Sigma_B = 0): NC1 is undefined".into());
        None
    } else {
        let mut total = 0.0;
        for (s2, direction) in &kept {
            let spread: f64 = features
                .column_iter()
                .zip(labels)
                .map(|(h, &y)| (direction.dot(&h) - direction.dot(&means.column(y))).powi(2))
                .sum::<f64>()
                / n as f64;
            total += spread / s2;
        }
        Some(total)
    };
    if between_rank > 0 && between_rank + 1 < c {
        notes.push(format!(
            "Sigma_B has rank {between_rank} < C - 1 = {}: NC1 uses its pseudo-inverse",
            c - 1
        ));
    }

    // NC2 on the means.
    let nc2_equinorm_means = vanished
        .is_empty()
        .then(|| coefficient_of_variation(&mean_norms));
    let mut mean_cosines = vec![0.0; c * c];
    let mut pair_cosines = Vec::new();
    for a in 0..c {
        for b in 0..c {
            if vanished.contains(&a) || vanished.contains(&b) {
                continue;
            }
            let cos = centred.column(a).dot(&centred.column(b)) / (mean_norms[a] * mean_norms[b]);
            mean_cosines[a * c + b] = cos;
            if a < b {
                pair_cosines.push(cos);
            }
        }
    }
    let (nc2_equiangular, nc2_cos_std) = if vanished.is_empty() {
        let pairs = pair_cosines.len() as f64;
        let ideal = -1.0 / (c as f64 - 1.0);
        let equiangular = pair_cosines.iter().map(|x| (x - ideal).abs()).sum::<f64>() / pairs;
        let mean = pair_cosines.iter().sum::<f64>() / pairs;
        let var = pair_cosines.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / pairs;
        (Some(equiangular), Some(var.sqrt()))
    } else {
        (None, None)
    };
    let mean_norms_sq = means.column_iter().map(|m| m.norm_squared()).collect();

    let mut metrics = NcMetrics {
        nc1,
        between_rank,
        nc2_equinorm_means,
        nc2_equiangular,
        nc2_cos_std,
        mean_cosines,
        mean_norms_sq,
        ..NcMetrics::default()
    };
    if let Some(cl) = classifier {
        let w = cl.weight;
        let row_norms: Vec<f64> = w.row_iter().map(|r| r.norm()).collect();
        metrics.classifier_norms_sq = row_norms.iter().map(|r| r * r).collect();
        let w_norm = w.norm();
        let m_norm = centred.norm();
        if w_norm > 0.0 && row_norms.iter().all(|&r| r > 0.0) {
            metrics.nc2_equinorm_classifier = Some(coefficient_of_variation(&row_norms));
        } else {
            notes.push("a classifier row is zero: its equinorm is undefined".into());
        }
        if w_norm > 0.0 && m_norm > tiny {
            metrics.nc3 = Some((w.transpose() / w_norm - &centred / m_norm).norm_squared());
        } else {
            notes.push("the classifier or the centred means vanish: NC3 is undefined".into());
        }
        metrics.alignment = (0..c)
            .map(|k| {
                let denominator = row_norms[k] * mean_norms[k];
                if denominator > 0.0 && !vanished.contains(&k) {
                    w.row(k).transpose().dot(&centred.column(k)) / denominator
                } else {
                    0.0
                }
            })
            .collect();
        let logits = {
            let mut z = w * features;
            if let Some(b) = cl.bias {
                for mut column in z.column_iter_mut() {
                    column += b;
                }
            }
            z
        };
        let disagree = (0..n)
            .filter(|&i| {
                let h = features.column(i);
                let nearest = (0..c)
                    .map(|k| (h - means.column(k)).norm_squared())
                    .enumerate()
                    .fold((0, f64::INFINITY), |best, (k, dist)| {
                        if dist < best.1 { (k, dist) } else { best }
                    })
                    .0;
                argmax(logits.column(i).iter().copied()) != nearest
            })
            .count();
        metrics.nc4 = Some(disagree as f64 / n as f64);
    }
    metrics.notes = notes;
    Ok(metrics)
}

/// The left singular vectors of `m` `[d, C]` with their squared singular values, largest
/// first, from the eigendecomposition of the small Gram matrix: `m^T m = V S^2 V^T`,
/// `u_k = m v_k / s_k` (zero vectors where `s_k = 0`). (nalgebra's SVD of a rank-deficient
/// tall matrix can fail to reconstruct it; the symmetric eigensolver does not.)
pub fn principal_directions(m: &DMatrix<f64>) -> Vec<(f64, DVector<f64>)> {
    let eigen = (m.transpose() * m).symmetric_eigen();
    let mut pairs: Vec<(f64, DVector<f64>)> = eigen
        .eigenvalues
        .iter()
        .zip(eigen.eigenvectors.column_iter())
        .map(|(&s2, v)| {
            let s2 = s2.max(0.0);
            let u = m * v;
            let norm = u.norm();
            (s2, if norm > 0.0 { u / norm } else { u })
        })
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    pairs
}

/// Index of the first largest value.
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    values
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (k, v)| {
            if v > best.1 { (k, v) } else { best }
        })
        .0
}

/// The global minimum of the unconstrained features model with bias-free MSE and `layers`
/// linear layers between the features and the classifier (a deep linear head:
/// `(1/2N)||W_M ... W_1 H - Y||_F^2 + (lambda_W/2) sum_i ||W_i||_F^2 + (lambda_H/2)||H||_F^2`,
/// `M = layers + 1` weight matrices, Y one-hot), for class sizes `n_k` summing to N.
///
/// With one weight matrix this is Dang et al. 2023's closed form (Theorem 3.3 with one layer):
/// orthogonal classifier rows with `||w_k||^2 = s_k^2 = max(sqrt(n_k lambda_H / lambda_W) -
/// N lambda_H, 0)`, every feature of class k equal to `h_k = w_k / (s_k^2 + N lambda_H)`, so
/// `||h_k||^2 = s_k^2 / (s_k^2 + N lambda_H)^2`, and minority collapse when
/// `n_k <= N^2 lambda_W lambda_H`. Their deep-linear generalization has the same orthogonal
/// frame, class by class; what remains is one scalar problem per class, solved here (see
/// [`class_optimum`] and `docs/collapse-theory.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UfmOptimum {
    /// Linear layers between the features and the classifier.
    pub layers: usize,
    /// `||w_k||^2`, the classifier's row norms.
    pub classifier_norms_sq: Vec<f64>,
    /// `||h_k||^2`, the squared norm of class k's (uncentred) mean penultimate feature (the
    /// features after the linear layers).
    pub mean_norms_sq: Vec<f64>,
    /// The minority-collapse threshold on class sizes: a class of at most this many samples
    /// collapses to zero (`N^2 lambda_W lambda_H` with no linear layer).
    pub collapse_threshold: f64,
}

impl UfmOptimum {
    /// The closed form for these class sizes and decays (both > 0).
    pub fn new(class_sizes: &[usize], lambda_w: f64, lambda_h: f64, layers: usize) -> Result<Self> {
        for (name, value) in [("weight decay", lambda_w), ("feature decay", lambda_h)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::config(
                    name,
                    format!("{value}: the closed form needs a finite decay > 0"),
                ));
            }
        }
        let n = class_sizes.iter().sum::<usize>() as f64;
        let (classifier_norms_sq, mean_norms_sq) = class_sizes
            .iter()
            .map(|&nk| ufm_norms_at(nk as f64, n, lambda_w, lambda_h, layers))
            .unzip();
        // The optimum's product p grows with n_k (a larger class pays the same price for a
        // larger data term), so the classes that collapse are those below one size, found by
        // bisection to 1e-9 relative (N^2 lambda_W lambda_H with one weight matrix).
        let collapses = |nk: f64| class_optimum(nk, n, lambda_w, lambda_h, layers) == 0.0;
        let collapse_threshold = if !collapses(n) {
            let (mut lo, mut hi) = (0.0, n);
            while hi - lo > 1e-9 * n {
                let mid = 0.5 * (lo + hi);
                if collapses(mid) { lo = mid } else { hi = mid }
            }
            lo
        } else {
            n
        };
        Ok(UfmOptimum {
            layers,
            classifier_norms_sq,
            mean_norms_sq,
            collapse_threshold,
        })
    }
}

impl UfmOptimum {
    /// The class means of the optimum in the frame's basis: class k's uncentred mean is
    /// `||h_k|| e_k`, the classifier's row k points along `e_k`; minus the global mean
    /// `sum_j (n_j / N) ||h_j|| e_j`, as columns `[C, C]`.
    fn centred_means(&self, class_sizes: &[usize]) -> DMatrix<f64> {
        let n = class_sizes.iter().sum::<usize>() as f64;
        let c = class_sizes.len();
        let means = DMatrix::from_fn(c, c, |i, k| {
            if i == k {
                self.mean_norms_sq[k].sqrt()
            } else {
                0.0
            }
        });
        let global = DVector::from_fn(c, |i, _| class_sizes[i] as f64 / n * means[(i, i)]);
        DMatrix::from_fn(c, c, |i, k| means[(i, k)] - global[i])
    }

    /// Cosines between the optimum's centred class means, row-major `[C * C]`: the simplex ETF
    /// when the classes are balanced, another frame when not (0 where a mean vanishes).
    pub fn mean_cosines(&self, class_sizes: &[usize]) -> Vec<f64> {
        let centred = self.centred_means(class_sizes);
        let c = class_sizes.len();
        let norms: Vec<f64> = centred.column_iter().map(|m| m.norm()).collect();
        (0..c * c)
            .map(|i| {
                let (j, k) = (i / c, i % c);
                let d = norms[j] * norms[k];
                if d > 0.0 {
                    centred.column(j).dot(&centred.column(k)) / d
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// `cos(w_k, mu_k - mu_G)` at the optimum, per class (none for a collapsed class, whose
    /// classifier row vanishes): the classifier rows are the uncentred frame, so even balanced
    /// classes give `sqrt((C - 1) / C)`, not NC3's 1, without a bias to absorb the global mean.
    pub fn alignment(&self, class_sizes: &[usize]) -> Vec<Option<f64>> {
        let centred = self.centred_means(class_sizes);
        (0..class_sizes.len())
            .map(|k| {
                let norm = centred.column(k).norm();
                (self.classifier_norms_sq[k] > 0.0 && norm > 0.0).then(|| centred[(k, k)] / norm)
            })
            .collect()
    }
}

/// The optimum's product `p_k = ||W_M ... W_1 h_k||` for one class of `nk` samples out of `n`,
/// with `M = layers + 1` weight matrices.
///
/// At the optimum the weights and features form an orthogonal frame, so class k contributes
/// `(n_k/2N)(a_M ... a_1 h - 1)^2 + (lambda_W/2) sum_i a_i^2 + (lambda_H n_k/2) h^2` with `a_i`
/// the i-th layer's singular value along class k and `h` its feature's norm. For a fixed product
/// `p`, the M + 1 penalty terms have a fixed product `c p^2`, `c = lambda_W^M lambda_H n_k`, and
/// their sum is least when they are equal (AM-GM): each `t = (c p^2)^(1/(M+1))`. That leaves
/// `f(p) = (n_k/2N)(p - 1)^2 + ((M+1)/2)(c p^2)^(1/(M+1))` on `p >= 0`. With M = 1 it is
/// convex with minimum `p = max(1 - N sqrt(c) / n_k, 0)` (Dang et al.'s; the same general
/// solution below finds it, and the tests compare). With M >= 2, `p = 0` is a local minimum
/// and the other is [`local_product`]; the class collapses when there is none or `f` is lower
/// at 0.
pub fn class_optimum(nk: f64, n: f64, lambda_w: f64, lambda_h: f64, layers: usize) -> f64 {
    if nk <= 0.0 {
        return 0.0;
    }
    let m = (layers + 1) as f64;
    let c = lambda_w.powf(m) * lambda_h * nk;
    let f = |p: f64| {
        nk / (2.0 * n) * (p - 1.0).powi(2) + (m + 1.0) / 2.0 * (c * p * p).powf(1.0 / (m + 1.0))
    };
    match local_product(nk, n, lambda_w, lambda_h, layers) {
        // With one weight matrix f is convex: its stationary point is the minimum (comparing f
        // there would lose the last p^2 ~ eps of it near the threshold to rounding).
        Some(p) if layers == 0 || f(p) < f(0.0) => p,
        _ => 0.0,
    }
}

/// The local minimum of [`class_optimum`]'s `f` away from zero, if there is one: its
/// stationary points in (0, 1) solve
/// `(1 - p) p^alpha = N c^(1/(M+1)) / n_k`, `alpha = (M-1)/(M+1)`, whose left side rises to its
/// peak at `p = alpha / (1 + alpha)` and falls after it; the larger root (bisection to f64
/// precision) is the minimum. Gradient descent may stay in it where it is not the global one.
pub fn local_product(nk: f64, n: f64, lambda_w: f64, lambda_h: f64, layers: usize) -> Option<f64> {
    if nk <= 0.0 {
        return None;
    }
    let m = (layers + 1) as f64;
    let c = lambda_w.powf(m) * lambda_h * nk;
    let alpha = (m - 1.0) / (m + 1.0);
    let level = n * c.powf(1.0 / (m + 1.0)) / nk;
    let rise = |p: f64| (1.0 - p) * p.powf(alpha);
    let peak = alpha / (1.0 + alpha);
    if rise(peak) <= level {
        return None;
    }
    let (mut lo, mut hi) = (peak, 1.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if rise(mid) > level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}

/// `(||w_k||^2, ||h_k||^2)` of [`UfmOptimum`] for one class of `nk` samples out of `n`, as a
/// function of a real class size (the theory curve): with `t` each penalty term at the optimum
/// (see [`class_optimum`]), `||w_k||^2 = t / lambda_W` and the penultimate feature, `h` through
/// the linear layers, `(t / lambda_W)^layers t / (lambda_H n_k)`.
pub fn ufm_norms_at(nk: f64, n: f64, lambda_w: f64, lambda_h: f64, layers: usize) -> (f64, f64) {
    let p = class_optimum(nk, n, lambda_w, lambda_h, layers);
    norms_of_product(p, nk, lambda_w, lambda_h, layers)
}

/// `(||w_k||^2, ||h_k||^2)` at the balanced point of product `p` (see [`class_optimum`]).
pub fn norms_of_product(
    p: f64,
    nk: f64,
    lambda_w: f64,
    lambda_h: f64,
    layers: usize,
) -> (f64, f64) {
    if p <= 0.0 || nk <= 0.0 {
        return (0.0, 0.0); // a collapsed (or empty) class
    }
    let m = (layers + 1) as f64;
    let t = (lambda_w.powf(m) * lambda_h * nk * p * p).powf(1.0 / (m + 1.0));
    let w = t / lambda_w;
    (w, w.powi(layers as i32) * t / (lambda_h * nk))
}
