//! Gradient descent on MSE under a fixed tangent kernel, in function space: the training of a
//! linearized network (Lee et al. 2019, "Wide Neural Networks of Any Depth Evolve as Linear
//! Models Under Gradient Descent", Section 2), which an infinitely wide network in the NTK
//! parametrization follows exactly (Jacot et al. 2018, Theorem 2).
//!
//! With the loss `(1/m) sum_i (f(x_i) - y_i)^2` (PyTorch's `MSELoss`) on train inputs `X` and a
//! step `eta`, the train residual obeys `r_{t+1} = (I - c Theta) r_t` with `c = 2 eta / m`, so
//! after `t` steps, on the train inputs and on any input `x`,
//!
//! `f_t(X) = f_0(X) + (I - (I - c Theta)^t) (y - f_0(X))`,
//! `f_t(x) = f_0(x) + Theta(x, X) Theta^-1 (I - (I - c Theta)^t) (y - f_0(X))`.
//!
//! As `eta -> 0` with `eta t` fixed, `(I - c Theta)^t -> exp(-c Theta t)`: gradient flow, Lee et
//! al.'s `f_0 + (I - exp(-eta Theta t / m)) (y - f_0)` for the loss `(1/2m) sum (f - y)^2`. Gradient
//! descent diverges when `c lambda_max > 2`, i.e. `eta > m / lambda_max` (Lee et al., Section 2.3).
//!
//! When `f_0 ~ GP(0, K)` (the NNGP), `f_t = f_0 + A_t (y - f_0(X))` is Gaussian with mean
//! `A_t y` and covariance `K(x, x') - A_t K(X, x') - K(x, X) A_t^T + A_t K(X, X) A_t^T`
//! (Lee et al. 2019, eq. (16)): the NTK-GP, an infinite ensemble of infinitely wide networks.

use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// Gradient descent under a fixed kernel `Theta` over N inputs of which the first m are the
/// training set.
#[derive(Clone, Debug)]
pub struct KernelGd {
    /// Eigenvectors of `Theta(X, X)`, as columns.
    basis: DMatrix<f64>,
    /// Eigenvalues of `Theta(X, X)`.
    eigenvalues: DVector<f64>,
    /// `Theta(x, X) V` for all N inputs (the first m rows: `V diag(lambda)`).
    cross: DMatrix<f64>,
    /// `c = 2 eta / m`.
    rate: f64,
}

impl KernelGd {
    /// The dynamics of step `lr` under the kernel `theta` (N x N, symmetric) whose first `train`
    /// inputs are trained on.
    pub fn new(theta: &DMatrix<f64>, train: usize, lr: f64) -> Result<Self> {
        let n = theta.nrows();
        if theta.ncols() != n {
            return Err(Error::Data(format!(
                "the kernel must be square, got {} x {}",
                n,
                theta.ncols()
            )));
        }
        if train == 0 || train > n {
            return Err(Error::config(
                "train points",
                format!("{train} is not in 1..={n} (the kernel's inputs)"),
            ));
        }
        if theta.iter().any(|v| !v.is_finite()) {
            return Err(Error::Data("the kernel has a non-finite entry".into()));
        }
        let train_block = theta.view((0, 0), (train, train)).into_owned();
        let eigen = SymmetricEigen::new(train_block);
        let cross = theta.columns(0, train) * &eigen.eigenvectors;
        KernelGd {
            basis: eigen.eigenvectors,
            eigenvalues: eigen.eigenvalues,
            cross,
            rate: 0.0,
        }
        .with_lr(lr)
    }

    /// The same kernel with step `lr` (no new eigendecomposition).
    pub fn with_lr(mut self, lr: f64) -> Result<Self> {
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::config(
                "learning rate",
                format!("{lr} must be finite and > 0"),
            ));
        }
        self.rate = 2.0 * lr / self.train() as f64;
        Ok(self)
    }

    /// Number of training inputs m.
    pub fn train(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The step eta.
    pub fn lr(&self) -> f64 {
        self.rate * self.train() as f64 / 2.0
    }

    /// The step above which gradient descent diverges, `m / lambda_max`.
    pub fn critical_lr(&self) -> f64 {
        let top = self.eigenvalues.max();
        self.train() as f64 / top
    }

    /// `A_t = Theta(x, X) Theta^-1 (I - (I - c Theta)^t)` (N x m), so that
    /// `f_t = f_0 + A_t (y - f_0(X))`. Per eigenvalue the factor is
    /// `(1 - (1 - c lambda)^t) / lambda`, which tends to `c t` as `lambda -> 0`: no inverse of a
    /// nearly singular kernel is formed.
    pub fn operator(&self, steps: usize) -> DMatrix<f64> {
        let t = steps as f64;
        let factors = self.eigenvalues.map(|lambda| {
            let x = self.rate * lambda;
            if x.abs() < 1e-300 {
                self.rate * t
            } else if x.abs() < 0.5 {
                // 1 - (1 - x)^t without cancellation for small x.
                -(t * (-x).ln_1p()).exp_m1() / lambda
            } else {
                (1.0 - (1.0 - x).powf(t)) / lambda
            }
        });
        let mut scaled = self.cross.clone();
        for (mut column, factor) in scaled.column_iter_mut().zip(factors.iter()) {
            column *= *factor;
        }
        scaled * self.basis.transpose()
    }

    /// `f_t` on all N inputs from the initial function `f0` (N) and the train targets `y` (m).
    pub fn predict(
        &self,
        steps: usize,
        f0: &DVector<f64>,
        y: &DVector<f64>,
    ) -> Result<DVector<f64>> {
        self.check(f0.len(), y)?;
        let residual = y - f0.rows(0, self.train());
        Ok(f0 + self.operator(steps) * residual)
    }

    /// Mean and variance of `f_t` on all N inputs when `f_0 ~ GP(0, nngp)`.
    pub fn gaussian(
        &self,
        steps: usize,
        nngp: &DMatrix<f64>,
        y: &DVector<f64>,
    ) -> Result<(DVector<f64>, DVector<f64>)> {
        self.check(nngp.nrows(), y)?;
        if nngp.ncols() != nngp.nrows() {
            return Err(Error::Data("the NNGP kernel must be square".into()));
        }
        let m = self.train();
        let a = self.operator(steps);
        let mean = &a * y;
        let k_train_all = nngp.rows(0, m);
        let k_train = nngp.view((0, 0), (m, m));
        let a_k = &a * k_train_all;
        let a_k_a = &a * k_train * a.transpose();
        let variance = DVector::from_fn(nngp.nrows(), |i, _| {
            (nngp[(i, i)] - 2.0 * a_k[(i, i)] + a_k_a[(i, i)]).max(0.0)
        });
        Ok((mean, variance))
    }

    /// Expected train loss `E (1/m) ||f_t(X) - y||^2` when `f_0 ~ GP(0, nngp)`:
    /// `(1/m) (||U_t y||^2 + tr(U_t K(X, X) U_t^T))` with `U_t = (I - c Theta)^t`.
    pub fn expected_loss(
        &self,
        steps: usize,
        nngp: &DMatrix<f64>,
        y: &DVector<f64>,
    ) -> Result<f64> {
        self.check(nngp.nrows(), y)?;
        let m = self.train();
        let decay = self
            .eigenvalues
            .map(|lambda| (1.0 - self.rate * lambda).powf(steps as f64));
        let mut u = self.basis.clone();
        for (mut column, d) in u.column_iter_mut().zip(decay.iter()) {
            column *= *d;
        }
        let u = u * self.basis.transpose();
        let k = nngp.view((0, 0), (m, m));
        let noise = (&u * k * u.transpose()).trace();
        Ok(((&u * y).norm_squared() + noise) / m as f64)
    }

    fn check(&self, n: usize, y: &DVector<f64>) -> Result<()> {
        if n != self.cross.nrows() {
            return Err(Error::Data(format!(
                "{n} function values for a kernel over {} inputs",
                self.cross.nrows()
            )));
        }
        if y.len() != self.train() {
            return Err(Error::Data(format!(
                "{} targets for {} training inputs",
                y.len(),
                self.train()
            )));
        }
        Ok(())
    }
}
