//! Random subspaces of parameter space (Li, Farkhoor, Liu & Yosinski 2018, "Measuring the
//! Intrinsic Dimension of Objective Landscapes"): `theta = theta_0 + P z` with `P` a `D x d`
//! matrix of Gaussian columns scaled to unit norm, so training moves only the `d` coordinates
//! `z`, with gradient `P^T grad_theta` by the chain rule. The span of Gaussian columns is a
//! uniformly random d-dimensional subspace.

use super::rng::Rng;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// Largest `D x d` projection accepted (2^24 entries: 128 MiB in f64).
pub const MAX_ENTRIES: usize = 1 << 24;

/// A random d-dimensional subspace of a D-dimensional parameter space.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomSubspace {
    /// `P`, `[D, d]`, unit columns.
    basis: DMatrix<f64>,
}

impl RandomSubspace {
    /// Draws `P` for `params` parameters and dimension `dim`.
    pub fn new(params: usize, dim: usize, rng: &mut Rng) -> Result<Self> {
        if dim == 0 || dim > params {
            return Err(Error::config(
                "dims",
                format!("subspace dimension {dim} must be between 1 and the {params} parameters"),
            ));
        }
        if params.saturating_mul(dim) > MAX_ENTRIES {
            return Err(Error::config(
                "dims",
                format!(
                    "a {params} x {dim} projection has more than the {MAX_ENTRIES} entries that fit in memory here"
                ),
            ));
        }
        let mut basis = DMatrix::from_fn(params, dim, |_, _| rng.normal());
        for mut column in basis.column_iter_mut() {
            let norm = column.norm();
            column /= norm;
        }
        Ok(RandomSubspace { basis })
    }

    /// The subspace dimension d.
    pub fn dim(&self) -> usize {
        self.basis.ncols()
    }

    /// `theta_0 + P z`.
    pub fn point(&self, origin: &DVector<f64>, z: &DVector<f64>) -> DVector<f64> {
        origin + &self.basis * z
    }

    /// `P^T g`: a parameter-space gradient pulled back to the subspace's coordinates.
    pub fn pullback(&self, gradient: &DVector<f64>) -> DVector<f64> {
        self.basis.tr_mul(gradient)
    }

    /// `P` itself.
    pub fn basis(&self) -> &DMatrix<f64> {
        &self.basis
    }
}
