//! Directions in parameter space for looking at a loss surface (Li et al. 2018, "Visualizing the
//! Loss Landscape of Neural Nets"): Gaussian directions with filter normalization (section 4),
//! the top principal directions of the training trajectory (section 7), and the projection of
//! points onto a plane spanned by two directions.

use super::mlp::{LayerParams, Mlp};
use super::rng::Rng;
use super::vocabulary::{Choice, Entry};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// What filter normalization does with the biases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BiasDirection {
    /// Zero in the direction (Li et al.'s `ignore='biasbn'`): biases stay at the solution's.
    #[default]
    Zero,
    /// The direction's bias entries equal the biases themselves (their code's default for
    /// one-dimensional tensors: each bias is "one filter of one entry").
    Keep,
}

impl Choice for BiasDirection {
    const WHAT: &'static str = "bias direction";
    const TABLE: &'static [Entry<Self>] = &[
        Entry::new(BiasDirection::Zero, "zero", "biases fixed (zero)"),
        Entry::new(BiasDirection::Keep, "keep", "biases move (kept)"),
    ];
}
crate::choice_by_name!(BiasDirection);

/// A direction with i.i.d. standard normal entries, shaped like `mlp`'s parameters.
pub fn gaussian_direction(mlp: &Mlp<f64>, rng: &mut Rng) -> Vec<LayerParams<f64>> {
    mlp.layers
        .iter()
        .map(|layer| {
            let mut d = layer.params.zeros_like();
            for slice in d.slices_mut() {
                slice.iter_mut().for_each(|x| *x = rng.normal());
            }
            d
        })
        .collect()
}

/// Filter normalization: each row of a direction's weight (the filter of one output unit, the
/// row `W[i, :]` in PyTorch's `[fan_out, fan_in]` layout) is rescaled to the norm of the same
/// row of the weights, `d_i <- d_i ||w_i|| / ||d_i||`; biases as `bias` says.
pub fn filter_normalize(direction: &mut [LayerParams<f64>], mlp: &Mlp<f64>, bias: BiasDirection) {
    for (d, layer) in direction.iter_mut().zip(&mlp.layers) {
        let w = &layer.params.weight;
        for i in 0..w.nrows() {
            let target = w.row(i).norm();
            let norm = d.weight.row(i).norm();
            // Li et al. divide by ||d_i|| + 1e-10; a zero row stays zero.
            let scale = target / (norm + 1e-10);
            d.weight.row_mut(i).scale_mut(scale);
        }
        if let (Some(db), Some(b)) = (d.bias.as_mut(), layer.params.bias.as_ref()) {
            match bias {
                BiasDirection::Zero => db.fill(0.0),
                BiasDirection::Keep => db.copy_from(b),
            }
        }
    }
}

/// A filter-normalized Gaussian direction, flat in [`Mlp::flatten`]'s layout.
pub fn filter_normalized_direction(
    mlp: &Mlp<f64>,
    bias: BiasDirection,
    rng: &mut Rng,
) -> DVector<f64> {
    let mut d = gaussian_direction(mlp, rng);
    filter_normalize(&mut d, mlp, bias);
    Mlp::flatten_like(&d)
}

/// The top two principal directions of a trajectory's offsets from its end point.
#[derive(Clone, Debug, PartialEq)]
pub struct TrajectoryPca {
    /// Unit principal directions, first the one of largest variance.
    pub directions: [DVector<f64>; 2],
    /// Fraction of the offsets' variance each direction explains.
    pub explained: [f64; 2],
}

/// PCA of the matrix whose rows are `theta_i - end` (centred, as scikit-learn's PCA that Li et
/// al. use), through the `T x T` Gram matrix so that it costs `O(T^2 D)` for T checkpoints of D
/// parameters.
pub fn trajectory_pca(trajectory: &[DVector<f64>], end: &DVector<f64>) -> Result<TrajectoryPca> {
    let t = trajectory.len();
    if t < 3 {
        return Err(Error::config(
            "trajectory",
            format!("PCA directions need at least 3 checkpoints, got {t}"),
        ));
    }
    if let Some(bad) = trajectory.iter().find(|p| p.len() != end.len()) {
        return Err(Error::Shape {
            what: "trajectory checkpoint".into(),
            expected: format!("{} parameters", end.len()),
            found: bad.len().to_string(),
        });
    }
    let offsets: Vec<DVector<f64>> = trajectory.iter().map(|p| p - end).collect();
    let mean = offsets.iter().fold(DVector::zeros(end.len()), |s, o| s + o) / t as f64;
    let centred: Vec<DVector<f64>> = offsets.iter().map(|o| o - &mean).collect();
    let gram = DMatrix::from_fn(t, t, |i, j| centred[i].dot(&centred[j]));
    let eigen = SymmetricEigen::new(gram);
    let mut order: Vec<usize> = (0..t).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let total: f64 = eigen.eigenvalues.iter().map(|x| x.max(0.0)).sum();
    let direction = |k: usize| -> Result<(DVector<f64>, f64)> {
        let i = order[k];
        let lambda = eigen.eigenvalues[i];
        let v = centred
            .iter()
            .enumerate()
            .fold(DVector::zeros(end.len()), |s, (r, c)| {
                s + c * eigen.eigenvectors[(r, i)]
            });
        let norm = v.norm();
        if !(lambda > 1e-14 * total && norm > 0.0) {
            return Err(Error::Data(format!(
                "the trajectory has no variance along a principal direction {} (it moved along a line or not at all)",
                k + 1
            )));
        }
        Ok((v / norm, lambda / total))
    };
    let (d1, e1) = direction(0)?;
    let (d2, e2) = direction(1)?;
    Ok(TrajectoryPca {
        directions: [d1, d2],
        explained: [e1, e2],
    })
}

/// Coordinates `(a, b)` of each `point - origin` in the plane of `d1, d2`: the least-squares
/// solution of `[d1 d2] (a, b)^T = point - origin` (Li et al.'s `project_2D`).
pub fn project(
    points: &[DVector<f64>],
    origin: &DVector<f64>,
    d1: &DVector<f64>,
    d2: &DVector<f64>,
) -> Result<Vec<(f64, f64)>> {
    let (g11, g12, g22) = (d1.dot(d1), d1.dot(d2), d2.dot(d2));
    let det = g11 * g22 - g12 * g12;
    if det.partial_cmp(&(1e-12 * g11 * g22)) != Some(std::cmp::Ordering::Greater) {
        return Err(Error::Data(
            "the two directions are parallel: they span no plane".into(),
        ));
    }
    Ok(points
        .iter()
        .map(|p| {
            let offset = p - origin;
            let (r1, r2) = (d1.dot(&offset), d2.dot(&offset));
            ((g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det)
        })
        .collect())
}
