//! The unconstrained features model (Mixon et al. 2020; Zhu et al. 2021): the features are free
//! parameters, one column per sample, trained with the classifier by gradient descent on
//! `L(W, b, H) = loss(W H + b 1^T, Y) + (lambda_W/2)(||W||_F^2 + ||b||^2) + (lambda_H/2)||H||_F^2`,
//! where `loss` is `(1/2N)||Z - Y||_F^2` (MSE, Y one-hot) or the mean cross-entropy. With a deep
//! linear head (Dang et al. 2023), `H` first passes through linear layers `A_1, ..., A_k`
//! (`d x d`, weight decay lambda_W each): the logits are `W A_k ... A_1 H + b 1^T` and the
//! penultimate features `A_k ... A_1 H`.

use super::loss::Loss;
use super::rng::Rng;
use nalgebra::{DMatrix, DVector};

/// The model's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Ufm {
    /// `H`, `[d, N]`.
    pub features: DMatrix<f64>,
    /// The linear layers `A_1, ..., A_k`, `[d, d]` each, applied to `H` in this order.
    pub layers: Vec<DMatrix<f64>>,
    /// `W`, `[C, d]`.
    pub weight: DMatrix<f64>,
    /// `b`, `[C]`, if the classifier has one.
    pub bias: Option<DVector<f64>>,
}

/// What one gradient evaluation returns.
#[derive(Clone, Debug)]
pub struct UfmGradient {
    /// The regularized objective L.
    pub objective: f64,
    /// The data term alone.
    pub loss: f64,
    /// Fraction of samples whose largest logit is their label.
    pub accuracy: f64,
    /// dL/dW, dL/db, dL/dH.
    pub d_weight: DMatrix<f64>,
    /// dL/db.
    pub d_bias: Option<DVector<f64>>,
    /// dL/dH.
    pub d_features: DMatrix<f64>,
    /// dL/dA_i.
    pub d_layers: Vec<DMatrix<f64>>,
}

impl Ufm {
    /// Gaussian initialization, zero bias: without linear layers small features and classifier
    /// (entries `N(0, 0.01 / d)`); with them every matrix at unit gain (`N(0, 1 / d)`, as an
    /// MLP's), since a deep head has a second minimum at zero that small starts fall into.
    pub fn init(
        dim: usize,
        samples: usize,
        classes: usize,
        layers: usize,
        bias: bool,
        rng: &mut Rng,
    ) -> Ufm {
        // A deep linear head has a second local minimum at zero (see core::collapse's
        // class_optimum): started small, weight decay pulls every class into it; started at
        // unit gain, the classes the theory keeps stay out of it.
        let std = if layers == 0 { 0.1 } else { 1.0 } / (dim as f64).sqrt();
        let features = DMatrix::from_fn(dim, samples, |_, _| std * rng.normal());
        let weight = DMatrix::from_fn(classes, dim, |_, _| std * rng.normal());
        let unit = 1.0 / (dim as f64).sqrt();
        Ufm {
            features,
            layers: (0..layers)
                .map(|_| DMatrix::from_fn(dim, dim, |_, _| unit * rng.normal()))
                .collect(),
            weight,
            bias: bias.then(|| DVector::zeros(classes)),
        }
    }

    /// `H, A_1 H, ..., A_k ... A_1 H`: the features through each linear layer.
    fn through_layers(&self) -> Vec<DMatrix<f64>> {
        let mut z = vec![self.features.clone()];
        for a in &self.layers {
            let next = a * &z[z.len() - 1];
            z.push(next);
        }
        z
    }

    /// The penultimate features `A_k ... A_1 H`, `[d, N]` (H itself with no linear layer).
    pub fn penultimate(&self) -> DMatrix<f64> {
        self.layers.iter().fold(self.features.clone(), |z, a| a * z)
    }

    /// The logits `W A_k ... A_1 H + b 1^T`, `[C, N]`.
    pub fn logits(&self) -> DMatrix<f64> {
        self.logits_of(&self.penultimate())
    }

    fn logits_of(&self, penultimate: &DMatrix<f64>) -> DMatrix<f64> {
        let mut z = &self.weight * penultimate;
        if let Some(b) = &self.bias {
            for mut column in z.column_iter_mut() {
                column += b;
            }
        }
        z
    }

    /// The objective and its gradient.
    pub fn gradient(
        &self,
        labels: &[usize],
        loss: Loss,
        lambda_w: f64,
        lambda_h: f64,
    ) -> UfmGradient {
        let through = self.through_layers();
        let penultimate = &through[through.len() - 1];
        let z = self.logits_of(penultimate);
        let n = labels.len() as f64;
        let mut g = z.clone();
        let mut data = 0.0;
        let mut correct = 0usize;
        for (j, mut column) in g.column_iter_mut().enumerate() {
            let y = labels[j];
            let logits: Vec<f64> = column.iter().copied().collect();
            let best = logits
                .iter()
                .enumerate()
                .fold(0, |best, (k, &v)| if v > logits[best] { k } else { best });
            correct += usize::from(best == y);
            match loss {
                Loss::Mse => {
                    for (k, value) in column.iter_mut().enumerate() {
                        let residual = logits[k] - f64::from(u8::from(k == y));
                        data += residual * residual / (2.0 * n);
                        *value = residual / n;
                    }
                }
                Loss::CrossEntropy => {
                    let max = logits[best];
                    let log_sum_exp =
                        max + logits.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                    data += (log_sum_exp - logits[y]) / n;
                    for (k, value) in column.iter_mut().enumerate() {
                        let softmax = (logits[k] - log_sum_exp).exp();
                        *value = (softmax - f64::from(u8::from(k == y))) / n;
                    }
                }
            }
        }
        let d_weight = &g * penultimate.transpose() + &self.weight * lambda_w;
        let d_bias = self.bias.as_ref().map(|b| g.column_sum() + b * lambda_w);
        // Back through the linear layers: the gradient at layer i's output is D_i, at its input
        // A_i^T D_i.
        let mut back = self.weight.transpose() * &g;
        let mut d_layers = vec![DMatrix::zeros(0, 0); self.layers.len()];
        for (i, a) in self.layers.iter().enumerate().rev() {
            d_layers[i] = &back * through[i].transpose() + a * lambda_w;
            back = a.transpose() * back;
        }
        let d_features = back + &self.features * lambda_h;
        let weights_sq = self.weight.norm_squared()
            + self.bias.as_ref().map_or(0.0, |b| b.norm_squared())
            + self.layers.iter().map(|a| a.norm_squared()).sum::<f64>();
        let penalty = lambda_w / 2.0 * weights_sq + lambda_h / 2.0 * self.features.norm_squared();
        UfmGradient {
            objective: data + penalty,
            loss: data,
            accuracy: correct as f64 / n,
            d_weight,
            d_bias,
            d_features,
            d_layers,
        }
    }

    /// One gradient-descent step of size `lr` on W, b and the linear layers and `N lr` on H, and
    /// the norm of the step direction `(dL/dW, dL/db, dL/dA_i, N dL/dH)`. The features' gradient carries a factor 1/N
    /// (each feature enters one sample's loss), so the rescaled step gives every block the same
    /// curvature scale; it is gradient descent on the same objective in coordinates
    /// `H = sqrt(N) H'`, with the same minimizers.
    pub fn step(&mut self, gradient: &UfmGradient, lr: f64) -> f64 {
        let n = self.features.ncols() as f64;
        self.weight -= &gradient.d_weight * lr;
        self.features -= &gradient.d_features * (lr * n);
        let mut norm_sq =
            gradient.d_weight.norm_squared() + (gradient.d_features.norm() * n).powi(2);
        for (a, da) in self.layers.iter_mut().zip(&gradient.d_layers) {
            *a -= da * lr;
            norm_sq += da.norm_squared();
        }
        if let (Some(b), Some(db)) = (self.bias.as_mut(), gradient.d_bias.as_ref()) {
            *b -= db * lr;
            norm_sq += db.norm_squared();
        }
        norm_sq.sqrt()
    }
}
