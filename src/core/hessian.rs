//! Exact Hessian-vector products of a network's loss, by Pearlmutter's R-operator ("Fast Exact
//! Multiplication by the Hessian", Neural Computation 1994) through our own backprop, in f64.
//!
//! # The R-operator
//! For a direction `v` in parameter space, `R{.} = d/dr (.)(theta + r v)` at `r = 0`. With layer
//! `l` computing `z_l = m_w W_l h_l + m_b b_l` and hidden `h_{l+1} = phi(z_l)`:
//! - forward: `R z_l = m_w (V_l h_l + W_l R h_l) + m_b v_l`, `R h_{l+1} = phi'(z_l) R z_l`,
//!   `R h_0 = 0`;
//! - at the output: `R g = (d^2 Loss / d f^2) R f` (MSE: `2 R f / (k B)`; cross-entropy per
//!   sample: `(p * R f - p (p . R f)) / B` with `p` the softmax);
//! - backward: `R dh_l = m_w (V_l^T delta_l + W_l^T R delta_l)`,
//!   `R delta_{l-1} = R dh * phi'(z_{l-1}) + dh * phi''(z_{l-1}) * R z_{l-1}`;
//! - `H v` for layer l: `m_w (R delta_l h_l^T + delta_l (R h_l)^T)` and `m_b R delta_l 1`.
//!
//! One product costs about two forward-backward passes, and is exact up to rounding.

use super::loss::Loss;
use super::mlp::{Forward, LayerParams, Mlp};
use super::scalar::{Op, gemm};
use super::train::Split;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::ops::Range;

/// Most bytes an [`Objective`] may cache for its products.
pub const MAX_CACHE_BYTES: f64 = 2e9;

/// A network's loss on a fixed data set as a function of its parameters, with the forward and
/// backward passes at the current point cached for Hessian-vector products.
#[derive(Clone, Debug)]
pub struct Objective {
    mlp: Mlp<f64>,
    data: Split<f64>,
    loss: Loss,
    forward: Forward<f64>,
    /// `delta_l = dLoss/dz_l` per layer, `[fan_out, batch]`.
    deltas: Vec<DMatrix<f64>>,
    /// `dLoss/dh_l` for every hidden activation `h_l` (l >= 1), `[width, batch]`.
    hidden_grads: Vec<DMatrix<f64>>,
    /// Softmax of the outputs (cross-entropy only), `[k, batch]`.
    softmax: Option<DMatrix<f64>>,
    value: f64,
    gradient: DVector<f64>,
}

impl Objective {
    /// The loss of `mlp` on `data` and everything a Hessian-vector product needs.
    pub fn new(mlp: Mlp<f64>, data: Split<f64>, loss: Loss) -> Result<Self> {
        if mlp.layers.iter().any(|l| l.residual.is_some()) {
            return Err(Error::config(
                "residual",
                "Hessian-vector products are implemented for plain MLPs, not residual blocks",
            ));
        }
        if data.features.ncols() == 0 {
            return Err(Error::Data("no samples to evaluate the loss on".into()));
        }
        // Cached: z, h, delta and dL/dh per layer and sample; a product adds R z, R h, R delta.
        let units: usize = mlp.layers.iter().map(|l| l.params.weight.nrows()).sum();
        let bytes = 8.0 * 7.0 * units as f64 * data.features.ncols() as f64;
        if bytes > MAX_CACHE_BYTES {
            return Err(Error::config(
                "data",
                format!(
                    "{} samples through {units} units need about {:.1} GB for Hessian-vector products, more than the {:.0} GB allowed here: use fewer samples or a smaller network",
                    data.features.ncols(),
                    bytes / 1e9,
                    MAX_CACHE_BYTES / 1e9
                ),
            ));
        }
        let forward = mlp.forward(&data.features)?;
        let (value, d_output) = loss.value_and_gradient(forward.output(), data.target())?;
        if !value.is_finite() {
            return Err(Error::Data(format!(
                "the loss at this point is {value}: no curvature to measure"
            )));
        }
        let deltas = mlp.backpropagate(&forward, &d_output);
        let hidden_grads = (1..mlp.layers.len())
            .map(|l| {
                let layer = &mlp.layers[l];
                let mut dh = DMatrix::zeros(layer.params.weight.ncols(), deltas[l].ncols());
                gemm(
                    &mut dh,
                    layer.weight_multiplier,
                    &layer.params.weight,
                    Op::T,
                    &deltas[l],
                    Op::N,
                    0.0,
                );
                dh
            })
            .collect();
        let gradient = Mlp::flatten_like(&layer_gradients(&mlp, &deltas, &forward.activations));
        let softmax = (loss == Loss::CrossEntropy).then(|| softmax(forward.output()));
        Ok(Objective {
            mlp,
            data,
            loss,
            forward,
            deltas,
            hidden_grads,
            softmax,
            value,
            gradient,
        })
    }

    /// The loss at the current point.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The network's outputs on the data at the current point, `[k, samples]`.
    pub fn output(&self) -> &DMatrix<f64> {
        self.forward.output()
    }

    /// The gradient at the current point, in the layout of [`Mlp::flatten`].
    pub fn gradient(&self) -> &DVector<f64> {
        &self.gradient
    }

    /// The network at the current point.
    pub fn mlp(&self) -> &Mlp<f64> {
        &self.mlp
    }

    /// The data the loss is measured on.
    pub fn data(&self) -> &Split<f64> {
        &self.data
    }

    /// The loss function.
    pub fn loss(&self) -> Loss {
        self.loss
    }

    /// Number of parameters D.
    pub fn num_params(&self) -> usize {
        self.gradient.len()
    }

    /// Where each layer's parameters (weight, then bias) sit in the flat layout.
    pub fn layer_ranges(&self) -> Vec<Range<usize>> {
        layer_ranges(&self.mlp)
    }

    /// The exact Hessian-vector product `H v` (see the module documentation).
    pub fn hvp(&self, v: &DVector<f64>) -> Result<DVector<f64>> {
        if v.len() != self.num_params() {
            return Err(Error::Shape {
                what: "Hessian-vector product direction".into(),
                expected: format!("{} entries", self.num_params()),
                found: v.len().to_string(),
            });
        }
        let mlp = &self.mlp;
        let direction = unflatten(mlp, v);
        let last = mlp.layers.len() - 1;
        let (h, z) = (&self.forward.activations, &self.forward.preactivations);
        let batch = self.data.features.ncols();
        // R-forward: R z_l for every layer, R h_l for every layer's input (R h_0 = 0).
        let mut r_h: Vec<DMatrix<f64>> = vec![DMatrix::zeros(h[0].nrows(), batch)];
        let mut r_z: Vec<DMatrix<f64>> = Vec::with_capacity(last + 1);
        for (l, (layer, dir)) in mlp.layers.iter().zip(&direction).enumerate() {
            let mut rz = DMatrix::zeros(layer.params.weight.nrows(), batch);
            let m = layer.weight_multiplier;
            gemm(&mut rz, m, &dir.weight, Op::N, &h[l], Op::N, 0.0);
            if l > 0 {
                gemm(&mut rz, m, &layer.params.weight, Op::N, &r_h[l], Op::N, 1.0);
            }
            if let Some(b) = &dir.bias {
                for mut column in rz.column_iter_mut() {
                    column.axpy(layer.bias_multiplier, b, 1.0);
                }
            }
            if l < last {
                let act = mlp.activation_of(layer);
                r_h.push(rz.zip_map(&z[l], |r, z| r * act.derivative(z)));
            }
            r_z.push(rz);
        }
        // R at the output: the loss's Hessian in the outputs times R f.
        let r_f = &r_z[last];
        let mut r_delta = match &self.softmax {
            Some(p) => {
                let mut out = r_f.component_mul(p);
                for (mut column, p) in out.column_iter_mut().zip(p.column_iter()) {
                    let dot = column.sum();
                    column.axpy(-dot, &p, 1.0);
                }
                out / batch as f64
            }
            None => r_f * (2.0 / (r_f.nrows() * batch) as f64),
        };
        // R-backward, collecting H v layer by layer from the output down.
        let mut products: Vec<LayerParams<f64>> = Vec::with_capacity(last + 1);
        for l in (0..=last).rev() {
            let layer = &mlp.layers[l];
            let m = layer.weight_multiplier;
            let mut d_weight = DMatrix::zeros(layer.params.weight.nrows(), h[l].nrows());
            gemm(&mut d_weight, m, &r_delta, Op::N, &h[l], Op::T, 0.0);
            if l > 0 {
                gemm(
                    &mut d_weight,
                    m,
                    &self.deltas[l],
                    Op::N,
                    &r_h[l],
                    Op::T,
                    1.0,
                );
            }
            let d_bias = layer.params.bias.as_ref().map(|_| {
                DVector::from_iterator(
                    r_delta.nrows(),
                    r_delta
                        .row_iter()
                        .map(|row| row.sum() * layer.bias_multiplier),
                )
            });
            products.push(LayerParams {
                weight: d_weight,
                bias: d_bias,
            });
            if l > 0 {
                let mut r_dh = DMatrix::zeros(h[l].nrows(), batch);
                gemm(
                    &mut r_dh,
                    m,
                    &direction[l].weight,
                    Op::T,
                    &self.deltas[l],
                    Op::N,
                    0.0,
                );
                gemm(
                    &mut r_dh,
                    m,
                    &layer.params.weight,
                    Op::T,
                    &r_delta,
                    Op::N,
                    1.0,
                );
                let dh = &self.hidden_grads[l - 1];
                let (z_prev, rz_prev) = (&z[l - 1], &r_z[l - 1]);
                let act = mlp.activation_of(&mlp.layers[l - 1]);
                r_delta = DMatrix::from_fn(r_dh.nrows(), batch, |i, j| {
                    let zz = z_prev[(i, j)];
                    r_dh[(i, j)] * act.derivative(zz)
                        + dh[(i, j)] * act.second_derivative(zz) * rz_prev[(i, j)]
                });
            }
        }
        products.reverse();
        Ok(Mlp::flatten_like(&products))
    }

    /// The full Hessian, column by column from D products (for small networks and tests).
    pub fn dense_hessian(&self) -> Result<DMatrix<f64>> {
        let d = self.num_params();
        let mut hessian = DMatrix::zeros(d, d);
        for j in 0..d {
            let mut e = DVector::zeros(d);
            e[j] = 1.0;
            hessian.set_column(j, &self.hvp(&e)?);
        }
        Ok(hessian)
    }
}

/// Per-layer gradients `m_w delta_l h_l^T`, `m_b delta_l 1` (as [`Mlp::backward`]).
fn layer_gradients(
    mlp: &Mlp<f64>,
    deltas: &[DMatrix<f64>],
    activations: &[DMatrix<f64>],
) -> Vec<LayerParams<f64>> {
    mlp.layers
        .iter()
        .zip(deltas)
        .zip(activations)
        .map(|((layer, dz), h_in)| {
            let mut weight = DMatrix::zeros(dz.nrows(), h_in.nrows());
            gemm(
                &mut weight,
                layer.weight_multiplier,
                dz,
                Op::N,
                h_in,
                Op::T,
                0.0,
            );
            let bias = layer.params.bias.as_ref().map(|_| {
                DVector::from_iterator(
                    dz.nrows(),
                    dz.row_iter().map(|row| row.sum() * layer.bias_multiplier),
                )
            });
            LayerParams { weight, bias }
        })
        .collect()
}

/// Column-wise softmax, `[k, batch]`.
fn softmax(output: &DMatrix<f64>) -> DMatrix<f64> {
    let mut p = output.clone();
    for mut column in p.column_iter_mut() {
        let max = column.max();
        column.apply(|x| *x = (*x - max).exp());
        let sum = column.sum();
        column /= sum;
    }
    p
}

/// Where each layer's parameters (weight, then bias) sit in [`Mlp::flatten`]'s layout.
pub fn layer_ranges(mlp: &Mlp<f64>) -> Vec<Range<usize>> {
    let mut start = 0;
    mlp.layers
        .iter()
        .map(|layer| {
            let len: usize = layer.params.slices().map(<[f64]>::len).sum();
            start += len;
            start - len..start
        })
        .collect()
}

/// A flat vector in [`Mlp::flatten`]'s layout as per-layer tensors shaped like `mlp`'s.
/// `flat` must have `mlp.num_params()` entries.
pub fn unflatten(mlp: &Mlp<f64>, flat: &DVector<f64>) -> Vec<LayerParams<f64>> {
    let mut rest = flat.as_slice();
    mlp.layers
        .iter()
        .map(|layer| {
            let mut tensors = layer.params.zeros_like();
            for slice in tensors.slices_mut() {
                let (head, tail) = rest.split_at(slice.len());
                slice.copy_from_slice(head);
                rest = tail;
            }
            tensors
        })
        .collect()
}
