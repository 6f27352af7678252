//! Spectra of a symmetric operator known only through products `A v` (a Hessian): Lanczos with
//! full re-orthogonalization for the extreme eigenvalues, stochastic Lanczos quadrature (SLQ)
//! for the spectral density, and Hutchinson's trace estimator (Yao et al. 2020, "PyHessian";
//! Ghorbani, Krishnan & Xiao 2019; Golub & Meurant, "Matrices, Moments and Quadrature").
//!
//! The iteration is driven one product at a time ([`Lanczos::next_vector`], then
//! [`Lanczos::absorb`] with `A q`), so that an experiment can spread it over slices of work.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Lanczos' three-term recurrence `A q_j = beta_{j-1} q_{j-1} + alpha_j q_j + beta_j q_{j+1}`,
/// each new `q` re-orthogonalized against all earlier ones (twice, "twice is enough"), so the
/// Ritz values of `T_m = tridiag(beta, alpha, beta)` carry no ghost copies.
#[derive(Clone, Debug)]
pub struct Lanczos {
    basis: Vec<DVector<f64>>,
    alpha: Vec<f64>,
    beta: Vec<f64>,
    max_steps: usize,
    finished: bool,
}

/// Eigenvalues of `T_m` and what they say about `A`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ritz {
    /// Ritz values, descending.
    pub values: Vec<f64>,
    /// Gauss quadrature weights: the squared first component of each eigenvector of `T_m`
    /// (they sum to 1; `sum_i w_i theta_i^p = q_1^T A^p q_1` for `p <= 2m - 1`).
    pub weights: Vec<f64>,
    /// Residual norms `||A y_i - theta_i y_i|| = beta_m |s_mi|`: an eigenvalue of `A` lies within
    /// this distance of each Ritz value (Kahan's bound for symmetric matrices).
    pub residuals: Vec<f64>,
}

impl Lanczos {
    /// Starts from `start` (normalized here), for at most `max_steps` products.
    pub fn new(start: DVector<f64>, max_steps: usize) -> Result<Self> {
        let norm = start.norm();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(Error::config(
                "Lanczos start vector",
                format!("has norm {norm}; it must be finite and nonzero"),
            ));
        }
        if max_steps == 0 {
            return Err(Error::config("Lanczos steps", "must be at least 1"));
        }
        Ok(Lanczos {
            max_steps: max_steps.min(start.len()),
            basis: vec![start / norm],
            alpha: Vec::new(),
            beta: Vec::new(),
            finished: false,
        })
    }

    /// The vector `q_j` whose product `A q_j` the iteration needs next; `None` once finished
    /// (after `max_steps` products, or when the Krylov space became invariant).
    pub fn next_vector(&self) -> Option<&DVector<f64>> {
        (!self.finished).then(|| &self.basis[self.basis.len() - 1])
    }

    /// Products taken so far (the size m of `T_m`).
    pub fn steps(&self) -> usize {
        self.alpha.len()
    }

    /// Feeds `A q_j` for the vector [`Self::next_vector`] gave.
    pub fn absorb(&mut self, product: DVector<f64>) -> Result<()> {
        if self.finished {
            return Ok(());
        }
        if !product.iter().all(|x| x.is_finite()) {
            return Err(Error::Data(
                "the operator returned a non-finite product: the curvature overflows here".into(),
            ));
        }
        let j = self.alpha.len();
        let mut w = product;
        if j > 0 {
            w.axpy(-self.beta[j - 1], &self.basis[j - 1], 1.0);
        }
        let alpha = self.basis[j].dot(&w);
        w.axpy(-alpha, &self.basis[j], 1.0);
        for _ in 0..2 {
            for q in &self.basis {
                let overlap = q.dot(&w);
                w.axpy(-overlap, q, 1.0);
            }
        }
        self.alpha.push(alpha);
        let beta = w.norm();
        let scale = self
            .alpha
            .iter()
            .chain(&self.beta)
            .fold(0.0f64, |m, x| m.max(x.abs()));
        // An invariant subspace: beta is rounding noise relative to the operator's scale.
        let breakdown = beta <= 1e-12 * scale.max(f64::MIN_POSITIVE);
        self.beta.push(if breakdown { 0.0 } else { beta });
        if breakdown || self.alpha.len() >= self.max_steps {
            self.finished = true;
        } else {
            self.basis.push(w / beta);
        }
        Ok(())
    }

    /// The Ritz values, quadrature weights and residuals of `T_m` so far.
    pub fn ritz(&self) -> Ritz {
        let m = self.alpha.len();
        if m == 0 {
            return Ritz {
                values: Vec::new(),
                weights: Vec::new(),
                residuals: Vec::new(),
            };
        }
        let t = DMatrix::from_fn(m, m, |i, j| {
            if i == j {
                self.alpha[i]
            } else if i + 1 == j {
                self.beta[i]
            } else if j + 1 == i {
                self.beta[j]
            } else {
                0.0
            }
        });
        let eigen = SymmetricEigen::new(t);
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
        let beta_m = self.beta[m - 1];
        Ritz {
            values: order.iter().map(|&i| eigen.eigenvalues[i]).collect(),
            weights: order
                .iter()
                .map(|&i| eigen.eigenvectors[(0, i)].powi(2))
                .collect(),
            residuals: order
                .iter()
                .map(|&i| beta_m * eigen.eigenvectors[(m - 1, i)].abs())
                .collect(),
        }
    }
}

/// The spectral density by stochastic Lanczos quadrature: the average over probes of
/// `sum_i w_i N(t; theta_i, sigma^2)` on `points` points of `[lo, hi]`, with `lo`/`hi` the
/// extreme Ritz values widened by `3 sigma`, and `sigma = broadening * (max - min)` (Gaussian
/// broadening as in Ghorbani et al. 2019). Each probe's weights sum to 1, so the density
/// integrates to 1 up to the tails beyond the grid. Returns `(grid, density)`.
pub fn slq_density(
    probes: &[Ritz],
    points: usize,
    broadening: f64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let all = probes.iter().flat_map(|r| r.values.iter().copied());
    let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if !(min.is_finite() && max.is_finite()) || points < 2 {
        return Err(Error::Data("no Ritz values to build a density from".into()));
    }
    let sigma = (broadening * (max - min)).max(1e-12 * max.abs().max(1.0));
    let (lo, hi) = (min - 3.0 * sigma, max + 3.0 * sigma);
    let grid: Vec<f64> = (0..points)
        .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
        .collect();
    let norm = 1.0 / (sigma * (2.0 * std::f64::consts::PI).sqrt() * probes.len() as f64);
    let density = grid
        .iter()
        .map(|&t| {
            probes
                .iter()
                .flat_map(|r| r.values.iter().zip(&r.weights))
                .map(|(&theta, &w)| w * (-0.5 * ((t - theta) / sigma).powi(2)).exp())
                .sum::<f64>()
                * norm
        })
        .collect();
    Ok((grid, density))
}

/// Mean and standard error `sd / sqrt(n)` of samples (Hutchinson's `v^T A v` with Rademacher
/// `v` is unbiased for the trace; its spread gives the error).
pub fn mean_and_stderr(samples: &[f64]) -> (f64, f64) {
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    if samples.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}
