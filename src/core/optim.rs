//! Optimizers with PyTorch's update rules (`torch.optim.SGD`, `torch.optim.Adam`), applied per
//! tensor with the layer's abc learning-rate scale `n^-c`.

use super::mlp::{Layer, LayerParams, Mlp};
pub use super::optimizer_kind::OptimizerKind;
use super::parallel;
use super::scalar::Float;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Optimizer hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Which update rule.
    pub kind: OptimizerKind,
    /// Base learning rate eta (each tensor uses eta n^-c).
    pub lr: f64,
    /// SGD momentum mu.
    pub momentum: f64,
    /// L2 weight decay lambda (added to the gradient).
    pub weight_decay: f64,
    /// Adam beta_1.
    pub beta1: f64,
    /// Adam beta_2.
    pub beta2: f64,
    /// Adam epsilon.
    pub eps: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::Adam,
            lr: 0.01,
            momentum: 0.0,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl OptimizerConfig {
    /// Checks every hyperparameter's domain.
    pub fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::config(
                "learning rate",
                format!("{} must be finite and > 0", self.lr),
            ));
        }
        let unit = |name: &str, x: f64| {
            if (0.0..1.0).contains(&x) {
                Ok(())
            } else {
                Err(Error::config(name, format!("{x} is not in [0, 1)")))
            }
        };
        unit("momentum", self.momentum)?;
        unit("beta1", self.beta1)?;
        unit("beta2", self.beta2)?;
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::config(
                "weight decay",
                format!("{} must be finite and >= 0", self.weight_decay),
            ));
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::config(
                "eps",
                format!("{} must be finite and > 0", self.eps),
            ));
        }
        Ok(())
    }
}

/// Optimizer state for one network.
#[derive(Clone, Debug)]
pub struct Optimizer<T: Float> {
    config: OptimizerConfig,
    /// SGD momentum buffer, or Adam's first moment.
    first: Vec<LayerParams<T>>,
    /// Adam's second moment (empty for SGD).
    second: Vec<LayerParams<T>>,
    /// Steps taken.
    steps: usize,
}

impl<T: Float> Optimizer<T> {
    /// Fresh state (zero moments) for `mlp`.
    pub fn new(config: OptimizerConfig, mlp: &Mlp<T>) -> Result<Self> {
        config.validate()?;
        let zeros: Vec<LayerParams<T>> = mlp.layers.iter().map(|l| l.params.zeros_like()).collect();
        let second = if config.kind == OptimizerKind::Adam {
            zeros.clone()
        } else {
            Vec::new()
        };
        Ok(Optimizer {
            config,
            first: zeros,
            second,
            steps: 0,
        })
    }

    /// The hyperparameters.
    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Applies one update with gradients laid out like `mlp.layers` (the layers are updated on
    /// the CPU's threads, each by itself).
    pub fn step(&mut self, mlp: &mut Mlp<T>, gradients: &[LayerParams<T>]) {
        assert_eq!(gradients.len(), mlp.layers.len(), "one gradient per layer");
        self.steps += 1;
        let (config, steps) = (self.config, self.steps);
        // About 4 multiply-adds per parameter.
        let work = 4.0 * mlp.num_params() as f64;
        let seconds = self
            .second
            .iter_mut()
            .map(Some)
            .chain(std::iter::repeat_with(|| None));
        let tasks: Vec<_> = mlp
            .layers
            .iter_mut()
            .zip(gradients)
            .zip(self.first.iter_mut())
            .zip(seconds)
            .collect();
        parallel::for_each(tasks, work, |(((layer, gradient), first), second)| {
            update(config, steps, layer, gradient, first, second);
        });
    }
}

/// One layer's update, the `steps`-th: SGD with momentum and weight decay (`v = mu v + g + wd
/// w`, `w -= lr n^-c v`), or Adam (Kingma & Ba 2015, Algorithm 1, with L2 weight decay added to
/// the gradient).
fn update<T: Float>(
    c: OptimizerConfig,
    steps: usize,
    layer: &mut Layer<T>,
    gradient: &LayerParams<T>,
    first: &mut LayerParams<T>,
    second: Option<&mut LayerParams<T>>,
) {
    let f = T::of_f64;
    let (lr, mu, wd) = (c.lr, f(c.momentum), f(c.weight_decay));
    let scales = [layer.weight_lr_scale, layer.bias_lr_scale];
    let params = layer.params.slices_mut();
    let grads = gradient.slices();
    let firsts = first.slices_mut();
    match (c.kind, second) {
        (OptimizerKind::Adam, Some(second)) => {
            let correction1 = 1.0 - c.beta1.powi(steps as i32);
            let correction2 = 1.0 - c.beta2.powi(steps as i32);
            let (b1, b2, eps) = (f(c.beta1), f(c.beta2), f(c.eps));
            let sqrt_c2 = f(correction2.sqrt());
            for ((((w, g), m), v), scale) in params
                .zip(grads)
                .zip(firsts)
                .zip(second.slices_mut())
                .zip(scales)
            {
                let step = f(lr / correction1) * scale;
                for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
                    let g = g + wd * *w;
                    *m = b1 * *m + (T::one() - b1) * g;
                    *v = b2 * *v + (T::one() - b2) * g * g;
                    *w -= step * *m / (v.sqrt() / sqrt_c2 + eps);
                }
            }
        }
        _ => {
            for (((w, g), v), scale) in params.zip(grads).zip(firsts).zip(scales) {
                let step = f(lr) * scale;
                for ((w, &g), v) in w.iter_mut().zip(g).zip(v.iter_mut()) {
                    let g = g + wd * *w;
                    *v = mu * *v + g;
                    *w -= step * *v;
                }
            }
        }
    }
}
