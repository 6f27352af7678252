//! Linear mode connectivity and permutation symmetry: the straight path between two networks,
//! its barrier, and the hidden-unit permutation of one network that brings it closest to the
//! other (Ainsworth, Hayase & Srinivasa 2023, "Git Re-Basin", Algorithm 1 and section 3.1;
//! Frankle et al. 2020, "Linear Mode Connectivity and the Lottery Ticket Hypothesis").
//!
//! # Convention
//! A permutation `p` of hidden layer `l` makes unit `j` of the permuted network B' unit `p[j]` of
//! B: `W'_l[j, k] = W_l[p_l[j], p_(l-1)[k]]`, `b'_l[j] = b_l[p_l[j]]` (the input and output
//! layers are never permuted). B' computes exactly B's function.

use super::assignment;
use super::hessian::{MAX_CACHE_BYTES, Objective};
use super::loss::Loss;
use super::mlp::Mlp;
use super::rng::Rng;
use super::scalar::{Float, Op, gemm};
use super::train::Split;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Most sweeps over the layers weight matching makes; Git Re-Basin's reference code stops after
/// 100 (in practice it converges in under 10).
pub const MAX_SWEEPS: usize = 100;

/// The hidden widths of `mlp`, or an error if a permutation of its hidden units is not a
/// symmetry (no hidden layer, residual blocks that tie units across layers).
fn hidden_widths<T: Float>(mlp: &Mlp<T>) -> Result<Vec<usize>> {
    if mlp.layers.len() < 2 {
        return Err(Error::Model(
            "the network has no hidden layer: there are no hidden units to permute".into(),
        ));
    }
    if mlp.layers.iter().any(|l| l.residual.is_some()) {
        return Err(Error::Model(
            "residual blocks tie the units of consecutive layers: permuting one layer alone is not a symmetry; match a plain MLP".into(),
        ));
    }
    Ok(mlp.layers[..mlp.layers.len() - 1]
        .iter()
        .map(|l| l.params.weight.nrows())
        .collect())
}

/// Checks that `a` and `b` have the same architecture (every weight and bias the same shape).
pub fn check_same_shape<T: Float>(a: &Mlp<T>, b: &Mlp<T>) -> Result<()> {
    let shape = |m: &Mlp<T>| -> Vec<(usize, usize, bool)> {
        m.layers
            .iter()
            .map(|l| {
                (
                    l.params.weight.nrows(),
                    l.params.weight.ncols(),
                    l.params.bias.is_some(),
                )
            })
            .collect()
    };
    let describe = |s: &[(usize, usize, bool)]| -> String {
        let mut dims = vec![s[0].1.to_string()];
        dims.extend(s.iter().map(|l| l.0.to_string()));
        let bias = if s.iter().all(|l| l.2) {
            "with biases"
        } else if s.iter().any(|l| l.2) {
            "with some biases"
        } else {
            "without biases"
        };
        format!("{} {bias}", dims.join(" -> "))
    };
    let (sa, sb) = (shape(a), shape(b));
    if sa != sb {
        return Err(Error::Shape {
            what: "the two models".into(),
            expected: format!("the same architecture as model A ({})", describe(&sa)),
            found: format!("model B is {}", describe(&sb)),
        });
    }
    if a.activation != b.activation {
        return Err(Error::Model(format!(
            "model A uses {} and model B {}: the path between them is not one architecture",
            a.activation, b.activation
        )));
    }
    let linear = |m: &Mlp<T>| m.layers.iter().map(|l| l.linear).collect::<Vec<_>>();
    if linear(a) != linear(b) {
        return Err(Error::Model(
            "models A and B have different linear hidden layers: the path between them is not one architecture".into(),
        ));
    }
    Ok(())
}

/// The identity permutation of every hidden layer of `mlp`.
pub fn identity<T: Float>(mlp: &Mlp<T>) -> Result<Vec<Vec<usize>>> {
    Ok(hidden_widths(mlp)?
        .into_iter()
        .map(|n| (0..n).collect())
        .collect())
}

/// Whether `p` is a permutation of `0..n`.
fn is_permutation(p: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    p.len() == n
        && p.iter()
            .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
}

/// `mlp` with hidden layer `l`'s units permuted by `perms[l]` (see the module's convention):
/// rows of `W_l` and `b_l`, columns of `W_(l+1)`. The function is unchanged.
pub fn permute_hidden<T: Float>(mlp: &Mlp<T>, perms: &[Vec<usize>]) -> Result<Mlp<T>> {
    let widths = hidden_widths(mlp)?;
    if perms.len() != widths.len() {
        return Err(Error::Shape {
            what: "permutations".into(),
            expected: format!("one per hidden layer ({})", widths.len()),
            found: format!("{}", perms.len()),
        });
    }
    for (l, (p, &n)) in perms.iter().zip(&widths).enumerate() {
        if !is_permutation(p, n) {
            return Err(Error::Model(format!(
                "the permutation of hidden layer {} is not a permutation of its {n} units",
                l + 1
            )));
        }
    }
    let mut out = mlp.clone();
    for (l, layer) in out.layers.iter_mut().enumerate() {
        let rows = perms.get(l);
        let cols = l.checked_sub(1).map(|i| &perms[i]);
        let w = &mlp.layers[l].params.weight;
        layer.params.weight = DMatrix::from_fn(w.nrows(), w.ncols(), |j, k| {
            w[(rows.map_or(j, |p| p[j]), cols.map_or(k, |p| p[k]))]
        });
        if let (Some(b), Some(p)) = (&mlp.layers[l].params.bias, rows) {
            layer.params.bias = Some(DVector::from_fn(b.len(), |j, _| b[p[j]]));
        }
    }
    Ok(out)
}

/// Effective weights `m_w W_l` and biases `m_b b_l` (zero if absent) in f64.
fn effective(mlp: &Mlp<impl Float>) -> Vec<(DMatrix<f64>, DVector<f64>)> {
    mlp.layers
        .iter()
        .map(|l| {
            let w = l.effective_weight().map(|x| x.as_f64());
            let b = l
                .effective_bias()
                .map_or_else(|| DVector::zeros(w.nrows()), |b| b.map(|x| x.as_f64()));
            (w, b)
        })
        .collect()
}

/// `sum_l <W_l^A, W_l^B'> + <b_l^A, b_l^B'>` for B' = B permuted by `perms` (see the module's
/// convention), read through the permutations without building B'.
fn objective(
    a: &[(DMatrix<f64>, DVector<f64>)],
    b: &[(DMatrix<f64>, DVector<f64>)],
    perms: &[Vec<usize>],
) -> f64 {
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(l, ((wa, ba), (wb, bb)))| {
            let row = |j: usize| perms.get(l).map_or(j, |p| p[j]);
            let col = |k: usize| l.checked_sub(1).map_or(k, |below| perms[below][k]);
            let weights: f64 = (0..wa.ncols())
                .map(|k| {
                    let (ca, cb) = (wa.column(k), wb.column(col(k)));
                    (0..wa.nrows()).map(|j| ca[j] * cb[row(j)]).sum::<f64>()
                })
                .sum();
            weights + (0..ba.len()).map(|j| ba[j] * bb[row(j)]).sum::<f64>()
        })
        .sum()
}

/// One of the two products in a hidden layer's score, `X Y_p^T = sum_i x_i y_(p(i))^T` with
/// `Y_p` the columns of `Y` taken in the order `p` (incoming weights: `X = W_l^A`, `Y = W_l^B`,
/// `p` the layer below's permutation; outgoing: `X = W_(l+1)^A^T`, `Y = W_(l+1)^B^T`, `p` the
/// layer above's). When `p` moves `m` of its entries the product changes by the rank-`m` sum
/// over them of `x_i (y_(p'(i)) - y_(p(i)))^T`, `m / columns` of the work of recomputing it.
struct PairedProduct {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    p: Vec<usize>,
    product: DMatrix<f64>,
}

impl PairedProduct {
    fn new(x: DMatrix<f64>, y: DMatrix<f64>, p: &[usize]) -> Self {
        let product = DMatrix::zeros(x.nrows(), y.nrows());
        let mut pp = PairedProduct {
            x,
            y,
            p: p.to_vec(),
            product,
        };
        pp.recompute();
        pp
    }

    fn recompute(&mut self) {
        let y_p = self.y.select_columns(&self.p);
        gemm(&mut self.product, 1.0, &self.x, Op::N, &y_p, Op::T, 0.0);
    }

    /// Brings the product to the permutation `p`.
    fn update(&mut self, p: &[usize]) {
        let moved: Vec<usize> = (0..p.len()).filter(|&i| p[i] != self.p[i]).collect();
        let old = std::mem::replace(&mut self.p, p.to_vec());
        if moved.is_empty() {
            return;
        }
        // Past half the columns a rank-m correction costs more than the product itself.
        if 2 * moved.len() >= p.len() {
            self.recompute();
            return;
        }
        let x_moved = self.x.select_columns(&moved);
        let change = DMatrix::from_fn(self.y.nrows(), moved.len(), |r, c| {
            let i = moved[c];
            self.y[(r, p[i])] - self.y[(r, old[i])]
        });
        gemm(&mut self.product, 1.0, &x_moved, Op::N, &change, Op::T, 1.0);
    }
}

/// What weight matching found.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightMatching {
    /// The permutation of each hidden layer of B.
    pub perms: Vec<Vec<usize>>,
    /// The objective `sum_l <W_l^A, W_l^B'> + <b_l^A, b_l^B'>` before matching and after each
    /// sweep (non-decreasing: each layer's step maximizes it over that layer's permutation).
    pub objective: Vec<f64>,
    /// Sweeps made until no layer's permutation improved.
    pub sweeps: usize,
    /// Linear assignments solved. A layer whose neighbours have not moved since it was last
    /// solved has the same score, so its permutation is still optimal and it is not solved again.
    pub solves: usize,
}

/// Git Re-Basin's weight matching (Algorithm 1): coordinate ascent on
/// `sum_l <W_l^A, P_l W_l^B P_(l-1)^T>` (biases included), one hidden layer at a time in a random
/// order, each step an exact linear assignment on [`layer_score`], until a sweep changes nothing
/// (at most [`MAX_SWEEPS`]). Works on effective weights.
///
/// The same steps as the reference code, with two savings that leave every decision the same:
/// each score's two products are kept between steps and corrected by the units a neighbour's
/// permutation moved ([`PairedProduct`]), and a layer whose neighbours have not moved since its
/// last solve is not solved again (its score, hence its optimum, is unchanged).
pub fn weight_matching<T: Float>(a: &Mlp<T>, b: &Mlp<T>, rng: &mut Rng) -> Result<WeightMatching> {
    check_same_shape(a, b)?;
    let mut perms = identity(b)?;
    let (ea, eb) = (effective(a), effective(b));
    let hidden = perms.len();
    let bias: Vec<DMatrix<f64>> = (0..hidden)
        .map(|l| &ea[l].1 * eb[l].1.transpose())
        .collect();
    let mut incoming: Vec<PairedProduct> = (0..hidden)
        .map(|l| {
            let fan_in = ea[l].0.ncols();
            let below = l
                .checked_sub(1)
                .map_or_else(|| (0..fan_in).collect(), |k| perms[k].clone());
            PairedProduct::new(ea[l].0.clone(), eb[l].0.clone(), &below)
        })
        .collect();
    let mut outgoing: Vec<PairedProduct> = (0..hidden)
        .map(|l| {
            let fan_out = ea[l + 1].0.nrows();
            let above = perms
                .get(l + 1)
                .cloned()
                .unwrap_or_else(|| (0..fan_out).collect());
            PairedProduct::new(ea[l + 1].0.transpose(), eb[l + 1].0.transpose(), &above)
        })
        .collect();
    let mut solved = vec![false; hidden];
    let mut history = vec![objective(&ea, &eb, &perms)];
    let (mut sweeps, mut solves) = (0, 0);
    while sweeps < MAX_SWEEPS {
        sweeps += 1;
        let mut order: Vec<usize> = (0..hidden).collect();
        rng.shuffle(&mut order);
        let mut improved = false;
        for &l in &order {
            if solved[l] {
                continue;
            }
            if let Some(below) = l.checked_sub(1) {
                incoming[l].update(&perms[below]);
            }
            if let Some(above) = perms.get(l + 1) {
                outgoing[l].update(above);
            }
            let score = &bias[l] + &incoming[l].product + &outgoing[l].product;
            solves += 1;
            solved[l] = true;
            let old = assignment::total(&score, &perms[l]);
            let new_perm = assignment::maximize(&score)?;
            // An improvement below f64 rounding of the sum is none (Git Re-Basin uses 1e-12).
            let tolerance = 1e-12 * score.iter().map(|s| s.abs()).sum::<f64>().max(1.0);
            if assignment::total(&score, &new_perm) > old + tolerance {
                perms[l] = new_perm;
                improved = true;
                for neighbour in [l.wrapping_sub(1), l + 1] {
                    if let Some(s) = solved.get_mut(neighbour) {
                        *s = false;
                    }
                }
            }
        }
        history.push(objective(&ea, &eb, &perms));
        if !improved {
            break;
        }
    }
    Ok(WeightMatching {
        perms,
        objective: history,
        sweeps,
        solves,
    })
}

/// The score matrix `S_l[j, k]` of hidden layer `l`, computed afresh: how much pairing A's unit
/// `j` with B's unit `k` adds to the objective, the other layers' permutations `perms` held
/// fixed: `S_l = W_l^A (W_l^B P_(l-1)^T)^T + b_l^A b_l^B^T + W_(l+1)^A^T (P_(l+1) W_(l+1)^B)`.
/// Weight matching stops when no layer's assignment on it improves.
pub fn layer_score<T: Float>(
    a: &Mlp<T>,
    b: &Mlp<T>,
    perms: &[Vec<usize>],
    l: usize,
) -> Result<DMatrix<f64>> {
    check_same_shape(a, b)?;
    let hidden = hidden_widths(a)?.len();
    if l >= hidden || perms.len() != hidden {
        return Err(Error::Model(format!(
            "layer_score: hidden layer {l} and {} permutations for {hidden} hidden layers",
            perms.len()
        )));
    }
    let (ea, eb) = (effective(a), effective(b));
    let (wa, ba) = &ea[l];
    let (wb, bb) = &eb[l];
    // Incoming weights: B's columns permuted by the layer below.
    let wb_in = match l.checked_sub(1) {
        Some(below) => wb.select_columns(&perms[below]),
        None => wb.clone(),
    };
    let mut score = ba * bb.transpose();
    gemm(&mut score, 1.0, wa, Op::N, &wb_in, Op::T, 1.0);
    // Outgoing weights: B's rows permuted by the layer above (the output layer is not).
    let (wa_out, _) = &ea[l + 1];
    let (wb_out, _) = &eb[l + 1];
    let wb_out = match perms.get(l + 1) {
        Some(above) => wb_out.select_rows(above),
        None => wb_out.clone(),
    };
    gemm(&mut score, 1.0, wa_out, Op::T, &wb_out, Op::N, 1.0);
    Ok(score)
}

/// Git Re-Basin's activation matching (section 3.1): per hidden layer, the assignment maximizing
/// the summed Pearson correlation between A's units and B's units over the inputs `x: [d, N]`
/// (post-activation values; a unit constant on `x` correlates 0 with every unit).
pub fn activation_matching<T: Float>(
    a: &Mlp<T>,
    b: &Mlp<T>,
    x: &DMatrix<T>,
) -> Result<Vec<Vec<usize>>> {
    check_same_shape(a, b)?;
    hidden_widths(a)?;
    let (fa, fb) = (a.forward(x)?, b.forward(x)?);
    let hidden = a.layers.len() - 1;
    (1..=hidden)
        .map(|l| {
            let standardized = |h: &DMatrix<T>| -> DMatrix<f64> {
                let mut h = h.map(|v| v.as_f64());
                let samples = h.ncols() as f64;
                for mut row in h.row_iter_mut() {
                    let mean = row.sum() / samples;
                    row.add_scalar_mut(-mean);
                    let norm = row.norm();
                    if norm > 0.0 {
                        row.unscale_mut(norm);
                    }
                }
                h
            };
            let (ha, hb) = (
                standardized(&fa.activations[l]),
                standardized(&fb.activations[l]),
            );
            assignment::maximize(&(ha * hb.transpose()))
        })
        .collect()
}

/// The network `(1 - alpha) theta_A + alpha theta_B`: every weight and bias interpolated, the
/// multipliers (the same for both) kept.
pub fn interpolate<T: Float>(a: &Mlp<T>, b: &Mlp<T>, alpha: f64) -> Result<Mlp<T>> {
    check_same_shape(a, b)?;
    let (ta, tb) = (T::of_f64(1.0 - alpha), T::of_f64(alpha));
    let mut out = a.clone();
    for (layer, lb) in out.layers.iter_mut().zip(&b.layers) {
        let la = &layer.params;
        let weight = &la.weight * ta + &lb.params.weight * tb;
        let bias = match (&la.bias, &lb.params.bias) {
            (Some(x), Some(y)) => Some(x * ta + y * tb),
            _ => None,
        };
        layer.params.weight = weight;
        layer.params.bias = bias;
    }
    Ok(out)
}

/// The barrier of a curve sampled on a path from alpha = 0 to alpha = 1:
/// `max_alpha f(alpha) - (f(0) + f(1)) / 2` (the loss barrier of Git Re-Basin, eq. 1, and the
/// error barrier, "instability", of Frankle et al. 2020, section 2). 0 for a constant curve;
/// negative where the path stays below the endpoints' mean everywhere.
pub fn barrier(values: &[f64]) -> f64 {
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return f64::NAN;
    };
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max) - 0.5 * (first + last)
}

/// The second directional derivative `Delta^T H Delta` of the loss on `data` along the straight
/// path from `a` to `b` at its midpoint, `Delta = theta_b - theta_a` and `H` the exact Hessian
/// at `(theta_a + theta_b) / 2`, by Hessian-vector products (Pearlmutter's R-operator,
/// [`Objective::hvp`]) on blocks of rows small enough that each product's cache takes at most a
/// quarter of [`MAX_CACHE_BYTES`].
pub fn midpoint_curvature(
    a: &Mlp<f64>,
    b: &Mlp<f64>,
    data: &Split<f64>,
    loss: Loss,
) -> Result<f64> {
    // An Objective caches 7 f64 per unit and row.
    let units: usize = a.layers.iter().map(|l| l.params.weight.nrows()).sum();
    let rows = (MAX_CACHE_BYTES / 4.0 / (56.0 * units as f64)) as usize;
    midpoint_curvature_by(a, b, data, loss, rows)
}

/// [`midpoint_curvature`] with one product per block of at most `rows` rows: the loss is a mean
/// over rows (cross-entropy per sample, MSE per entry), so its Hessian is the blocks' Hessians
/// weighted by their share of the rows, and the sum is exact.
pub fn midpoint_curvature_by(
    a: &Mlp<f64>,
    b: &Mlp<f64>,
    data: &Split<f64>,
    loss: Loss,
    rows: usize,
) -> Result<f64> {
    let midpoint = interpolate(a, b, 0.5)?;
    let delta = b.flatten() - a.flatten();
    let total = data.features.ncols();
    let mut curvature = 0.0;
    for start in (0..total).step_by(rows.max(1)) {
        let block: Vec<usize> = (start..(start + rows.max(1)).min(total)).collect();
        let objective = Objective::new(midpoint.clone(), data.select(&block), loss)?;
        curvature += block.len() as f64 / total as f64 * delta.dot(&objective.hvp(&delta)?);
    }
    Ok(curvature)
}

/// The barrier a midpoint curvature `c` predicts: on `f(alpha) = f(1/2) + c (alpha - 1/2)^2 / 2`
/// the endpoints' mean is `f(1/2) + c / 8`, so `f(1/2)` stands `-c / 8 = -Delta^T H Delta / 8`
/// above it (exact for a quadratic symmetric about the midpoint).
pub fn predicted_barrier(curvature: f64) -> f64 {
    -curvature / 8.0
}

/// Singular values (descending) and the matching left and right singular vectors of `w`.
pub fn singular(w: &DMatrix<f64>) -> (Vec<f64>, DMatrix<f64>, DMatrix<f64>) {
    let svd = w.clone().svd(true, true);
    let (u, v_t) = (
        svd.u.unwrap_or_else(|| DMatrix::zeros(w.nrows(), 0)),
        svd.v_t.unwrap_or_else(|| DMatrix::zeros(0, w.ncols())),
    );
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
    let values = order.iter().map(|&i| svd.singular_values[i]).collect();
    let left = u.select_columns(&order);
    let right = v_t.select_rows(&order).transpose();
    (values, left, right)
}

/// `|cos|` between the i-th columns of `x` and `y`, for the first `k` (singular vectors are
/// defined up to sign).
pub fn column_cosines(x: &DMatrix<f64>, y: &DMatrix<f64>, k: usize) -> Vec<f64> {
    (0..k.min(x.ncols()).min(y.ncols()))
        .map(|i| {
            let (a, b) = (x.column(i), y.column(i));
            (a.dot(&b) / (a.norm() * b.norm()).max(f64::MIN_POSITIVE)).abs()
        })
        .collect()
}
