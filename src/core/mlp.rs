//! Multilayer perceptrons in an abc-parametrization, with a forward pass that keeps every
//! layer's preactivations and activations and a backward pass written by hand.
//!
//! # Shapes
//! Activations are `[width, batch]` (one column per sample). Layer `l` maps `h_{l-1}` to
//! `z_l = m_w W_l h_{l-1} + m_b b_l` with `W_l: [fan_out, fan_in]` (PyTorch's layout) and
//! multipliers `m = n^-a`; hidden layers apply `h_l = phi(z_l)`, or `h_l = h_{l-1} + alpha
//! phi(z_l)` for residual blocks; the last layer's `z` is the output.

use super::abc::{Abc, AbcRules};
use super::activation::Activation;
use super::budget::{Cost, f};
use super::optimizer_kind::OptimizerKind;
use super::parallel;
use super::parametrization::Parametrization;
use super::rng::Rng;
use super::scalar::{Float, Op, gemm};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut, DVector};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Largest weight matrix accepted (2^28 entries: 1 GiB in f32), so that an absurd width is an
/// error message rather than an allocation failure.
pub const MAX_LAYER_WEIGHTS: usize = 1 << 28;

/// Largest total number of weights accepted (2^28), counting all layers.
pub const MAX_TOTAL_WEIGHTS: usize = 1 << 28;

/// Architecture and initialization of an MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Input dimension d.
    pub input_dim: usize,
    /// Hidden widths n_1..n_L (depth L = `hidden.len()` >= 1).
    pub hidden: Vec<usize>,
    /// Output dimension k.
    pub output_dim: usize,
    /// Activation of every hidden layer.
    pub activation: Activation,
    /// Whether layers have biases.
    pub bias: bool,
    /// Branch multiplier alpha of residual hidden blocks `h + alpha phi(W h + b)`, if any.
    pub residual: Option<f64>,
    /// abc exponents per layer type.
    pub rules: AbcRules,
    /// Weight init scale sigma_w (std sigma_w n^-b).
    pub sigma_w: f64,
    /// Bias init scale sigma_b (std sigma_b n^-b; 0 gives zero biases).
    pub sigma_b: f64,
}

impl MlpConfig {
    /// Number of trainable scalars of the network this config draws.
    pub fn num_params(&self) -> usize {
        let mut dims = vec![self.input_dim];
        dims.extend(&self.hidden);
        dims.push(self.output_dim);
        dims.windows(2)
            .map(|w| w[0] * w[1] + if self.bias { w[1] } else { 0 })
            .sum()
    }

    /// What holding this network costs: `copies` copies of its parameters (the network, its
    /// gradient, optimizer moments, snapshots) and every layer's preactivation, activation and
    /// delta over `rows` inputs, at `bytes` per number; and the work of a forward and backward
    /// pass over them (3 multiply-adds per parameter per row). Counted in f64: nothing overflows.
    pub fn cost(&self, copies: usize, rows: usize, bytes: usize) -> Cost {
        let outs = || self.hidden.iter().chain([&self.output_dim]).map(|&n| f(n));
        let ins = std::iter::once(f(self.input_dim)).chain(self.hidden.iter().map(|&n| f(n)));
        let bias = if self.bias { 1.0 } else { 0.0 };
        let params: f64 = ins.zip(outs()).map(|(i, o)| (i + bias) * o).sum();
        let units: f64 = outs().sum();
        let shape = self.shape();
        Cost::new()
            .memory(
                "width",
                format!("{copies} copies of the {params:.0} parameters of {shape}"),
                f(copies) * params * f(bytes),
            )
            .memory(
                "samples",
                format!("the activations of {rows} rows through {shape}"),
                3.0 * f(rows) * units * f(bytes),
            )
            .work(
                "steps",
                format!("a forward and backward pass over {rows} rows"),
                3.0 * f(rows) * params,
            )
    }

    /// The architecture in a few words: `2 -> 3 x 64 -> 10`, or the widths when they differ.
    pub fn shape(&self) -> String {
        let hidden = match self.hidden.as_slice() {
            [first, rest @ ..] if rest.iter().all(|w| w == first) => {
                format!("{} x {first}", self.hidden.len())
            }
            widths if widths.len() <= 8 => format!("{widths:?}"),
            widths => format!("{} layers of widths {}..", widths.len(), widths[0]),
        };
        format!("{} -> {hidden} -> {}", self.input_dim, self.output_dim)
    }

    /// Checks the architecture; every later step trusts it.
    pub fn validate(&self) -> Result<()> {
        if self.input_dim == 0 {
            return Err(Error::config("input dimension", "must be at least 1"));
        }
        if self.hidden.is_empty() {
            return Err(Error::config("depth", "must be at least 1 hidden layer"));
        }
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return Err(Error::config(
                "width",
                format!("hidden layer {} has width 0", i + 1),
            ));
        }
        if self.output_dim == 0 {
            return Err(Error::config("output dimension", "must be at least 1"));
        }
        for (name, value) in [("sigma_w", self.sigma_w), ("sigma_b", self.sigma_b)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(
                    name,
                    format!("{value} must be finite and >= 0"),
                ));
            }
        }
        let mut dims = vec![self.input_dim];
        dims.extend(&self.hidden);
        dims.push(self.output_dim);
        for (l, pair) in dims.windows(2).enumerate() {
            let weights = pair[0].saturating_mul(pair[1]);
            if weights > MAX_LAYER_WEIGHTS {
                return Err(Error::config(
                    "width",
                    format!(
                        "layer {} would have {} x {} = {weights} weights, more than the {MAX_LAYER_WEIGHTS} that fit in memory here",
                        l + 1,
                        pair[1],
                        pair[0]
                    ),
                ));
            }
        }
        let total = dims.windows(2).fold(0usize, |sum, w| {
            sum.saturating_add(w[0].saturating_mul(w[1]))
        });
        if total > MAX_TOTAL_WEIGHTS {
            return Err(Error::config(
                "width",
                format!(
                    "the network would have {total} weights, more than the {MAX_TOTAL_WEIGHTS} that fit in memory here"
                ),
            ));
        }
        let rules = [self.rules.input, self.rules.hidden, self.rules.output];
        if rules
            .iter()
            .any(|r| !(r.a.is_finite() && r.b.is_finite() && r.c.is_finite()))
        {
            return Err(Error::config("abc", "exponents must be finite"));
        }
        if let Some(alpha) = self.residual {
            if !alpha.is_finite() {
                return Err(Error::config(
                    "residual",
                    format!("branch multiplier {alpha} is not finite"),
                ));
            }
            if self.hidden.windows(2).any(|w| w[0] != w[1]) {
                return Err(Error::config(
                    "residual",
                    format!(
                        "residual blocks need equal hidden widths, got {:?}",
                        self.hidden
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The trainable tensors of one layer (also the shape of its gradient and optimizer state).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerParams<T: Float> {
    /// `w`, `[fan_out, fan_in]`.
    pub weight: DMatrix<T>,
    /// `b`, `[fan_out]`, if the network has biases.
    pub bias: Option<DVector<T>>,
}

impl<T: Float> LayerParams<T> {
    /// Zeros of the same shape.
    pub fn zeros_like(&self) -> Self {
        LayerParams {
            weight: DMatrix::zeros(self.weight.nrows(), self.weight.ncols()),
            bias: self.bias.as_ref().map(|b| DVector::zeros(b.len())),
        }
    }

    /// Weight entries then bias entries, as slices.
    pub fn slices(&self) -> impl Iterator<Item = &[T]> {
        std::iter::once(self.weight.as_slice()).chain(self.bias.as_ref().map(|b| b.as_slice()))
    }

    /// Mutable [`Self::slices`].
    pub fn slices_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        std::iter::once(self.weight.as_mut_slice())
            .chain(self.bias.as_mut().map(|b| b.as_mut_slice()))
    }
}

/// One linear layer with its abc scalings.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer<T: Float> {
    /// Trainable weight and bias.
    pub params: LayerParams<T>,
    /// `n^-a` for the weight.
    pub weight_multiplier: T,
    /// `n^-a` for the bias.
    pub bias_multiplier: T,
    /// `n^-c` for the weight's learning rate.
    pub weight_lr_scale: T,
    /// `n^-c` for the bias's learning rate.
    pub bias_lr_scale: T,
    /// Branch multiplier alpha if this layer is a residual block.
    pub residual: Option<T>,
    /// A hidden layer with no activation (`h = z`) in a network whose other hidden layers have
    /// one: the linear layers at the end of a partly deep-linear network.
    pub linear: bool,
}

impl<T: Float> Layer<T> {
    /// `z = m_w W h + m_b b 1^T` into `z`, the column-major `[fan_out, columns]` block of the
    /// columns `h` holds.
    fn linear_into(&self, h: DMatrixView<'_, T>, z: &mut [T]) {
        let rows = self.params.weight.nrows();
        gemm(
            &mut DMatrixViewMut::from_slice(z, rows, h.ncols()),
            self.weight_multiplier,
            &self.params.weight,
            Op::N,
            &h,
            Op::N,
            T::zero(),
        );
        if let Some(b) = &self.params.bias {
            for column in z.chunks_exact_mut(rows) {
                for (z, &b) in column.iter_mut().zip(b.iter()) {
                    *z = self.bias_multiplier * b + *z;
                }
            }
        }
    }

    /// Rows of the output, `fan_out`.
    fn fan_out(&self) -> usize {
        self.params.weight.nrows()
    }

    /// Columns of the input, `fan_in`.
    fn fan_in(&self) -> usize {
        self.params.weight.ncols()
    }

    /// Effective weight `m_w W` (what PyTorch would store).
    pub fn effective_weight(&self) -> DMatrix<T> {
        &self.params.weight * self.weight_multiplier
    }

    /// Effective bias `m_b b`.
    pub fn effective_bias(&self) -> Option<DVector<T>> {
        self.params.bias.as_ref().map(|b| b * self.bias_multiplier)
    }
}

/// A multilayer perceptron.
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T: Float> {
    /// Input layer, hidden layers, output layer.
    pub layers: Vec<Layer<T>>,
    /// Activation of the hidden layers.
    pub activation: Activation,
}

/// One piece of [`Mlp::backward`]'s work: some columns of a layer's weight gradient, or its
/// bias gradient.
enum GradientBlock<'a, T> {
    Weight {
        l: usize,
        cols: Range<usize>,
        block: &'a mut [T],
    },
    Bias {
        l: usize,
        block: &'a mut [T],
    },
}

/// Everything the forward pass computed.
#[derive(Clone, Debug)]
pub struct Forward<T: Float> {
    /// `h_0 = x, h_1, ..., h_L`, each `[width, batch]`.
    pub activations: Vec<DMatrix<T>>,
    /// `z_1, ..., z_{L+1}`; the last one is the network output `[k, batch]`.
    pub preactivations: Vec<DMatrix<T>>,
}

impl<T: Float> Forward<T> {
    /// The network output `[k, batch]`.
    pub fn output(&self) -> &DMatrix<T> {
        &self.preactivations[self.preactivations.len() - 1]
    }
}

impl<T: Float> Mlp<T> {
    /// Draws a network: `w ~ N(0, (sigma n^-b)^2)` per layer, with `n` and the bias rules as in
    /// [`crate::core::parametrization`].
    pub fn init(config: &MlpConfig, rng: &mut Rng) -> Result<Self> {
        config.validate()?;
        let mut dims = vec![config.input_dim];
        dims.extend(&config.hidden);
        dims.push(config.output_dim);
        let last = dims.len() - 2;
        let power = |n: usize, e: f64| T::of_f64((n as f64).powf(-e));
        let mut layers = Vec::with_capacity(last + 1);
        for l in 0..=last {
            let (fan_in, fan_out) = (dims[l], dims[l + 1]);
            let (rule, n, fan_in_scale) = if l == 0 {
                (config.rules.input, fan_out, 1.0 / (fan_in as f64).sqrt())
            } else if l == last {
                (config.rules.output, fan_in, 1.0)
            } else {
                (config.rules.hidden, fan_in, 1.0)
            };
            let std = config.sigma_w * (n as f64).powf(-rule.b) * fan_in_scale;
            let weight = DMatrix::from_fn(fan_out, fan_in, |_, _| T::of_f64(std * rng.normal()));
            let (bias_rule, bias_n) = if l == last {
                (
                    Abc {
                        a: 0.0,
                        b: 0.0,
                        c: 0.0,
                    },
                    1,
                )
            } else {
                (config.rules.input, fan_out)
            };
            let bias_std = config.sigma_b * (bias_n as f64).powf(-bias_rule.b);
            let bias = config
                .bias
                .then(|| DVector::from_fn(fan_out, |_, _| T::of_f64(bias_std * rng.normal())));
            let is_hidden_block = l > 0 && l < last;
            layers.push(Layer {
                params: LayerParams { weight, bias },
                weight_multiplier: power(n, rule.a),
                bias_multiplier: power(bias_n, bias_rule.a),
                weight_lr_scale: power(n, rule.c),
                bias_lr_scale: power(bias_n, bias_rule.c),
                residual: config.residual.filter(|_| is_hidden_block).map(T::of_f64),
                linear: false,
            });
        }
        Ok(Mlp {
            layers,
            activation: config.activation,
        })
    }

    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        self.layers[0].params.weight.ncols()
    }

    /// Output dimension k.
    pub fn output_dim(&self) -> usize {
        self.layers[self.layers.len() - 1].params.weight.nrows()
    }

    /// [`MlpConfig::cost`] of this network's architecture.
    pub fn cost(&self, copies: usize, rows: usize, bytes: usize) -> Cost {
        let last = self.layers.len() - 1;
        MlpConfig {
            input_dim: self.input_dim(),
            hidden: self.layers[..last]
                .iter()
                .map(|l| l.params.weight.nrows())
                .collect(),
            output_dim: self.output_dim(),
            activation: self.activation,
            bias: self.layers.iter().any(|l| l.params.bias.is_some()),
            residual: None,
            rules: Parametrization::Sp.rules(OptimizerKind::Sgd),
            sigma_w: 1.0,
            sigma_b: 0.0,
        }
        .cost(copies, rows, bytes)
    }

    /// Number of hidden layers L.
    pub fn depth(&self) -> usize {
        self.layers.len() - 1
    }

    /// The activation of `layer` (one of this network's hidden layers): the network's, or the
    /// identity for a [`Layer::linear`] one.
    pub fn activation_of(&self, layer: &Layer<T>) -> Activation {
        if layer.linear {
            Activation::Linear
        } else {
            self.activation
        }
    }

    /// This network with its last `k` hidden layers linear (no activation), the rest as they
    /// are; an error if it has fewer than `k` hidden layers.
    pub fn with_linear_tail(mut self, k: usize) -> Result<Self> {
        let hidden = self.layers.len() - 1;
        if k > hidden {
            return Err(Error::config(
                "linear layers",
                format!("{k} is more than the network's {hidden} hidden layers"),
            ));
        }
        for layer in &mut self.layers[hidden - k..hidden] {
            layer.linear = true;
        }
        Ok(self)
    }

    /// Number of trainable scalars.
    pub fn num_params(&self) -> usize {
        self.layers
            .iter()
            .flat_map(|l| l.params.slices())
            .map(<[T]>::len)
            .sum()
    }

    fn check_input(&self, x: &DMatrix<T>) -> Result<()> {
        if x.nrows() != self.input_dim() {
            return Err(Error::Shape {
                what: "network input".into(),
                expected: format!("{} features", self.input_dim()),
                found: format!("{}", x.nrows()),
            });
        }
        Ok(())
    }

    /// `h_l` from `h_{l-1}` and `z_l` for hidden layer `layer`, on one block of columns
    /// (`h_prev` is read by residual blocks only, which are never the input layer).
    fn activate(&self, layer: &Layer<T>, h_prev: &[T], z: &[T], h: &mut [T]) {
        self.activation_of(layer).apply_to(z, h);
        if let Some(alpha) = layer.residual {
            debug_assert_eq!(h_prev.len(), z.len(), "a residual block maps h to h");
            for (h, &h_prev) in h.iter_mut().zip(h_prev) {
                *h = h_prev + alpha * *h;
            }
        }
    }

    /// Multiply-adds of one pass over `batch` inputs, one per parameter per input: what decides
    /// whether the pass is split over the CPU's threads.
    fn pass_work(&self, batch: usize) -> f64 {
        self.num_params() as f64 * batch as f64
    }

    /// Forward pass on `x: [d, batch]` keeping every `z_l` and `h_l`. The batch is split by
    /// columns over the CPU's threads; each input's column is computed as on one thread.
    pub fn forward(&self, x: &DMatrix<T>) -> Result<Forward<T>> {
        self.check_input(x)?;
        let batch = x.ncols();
        let last = self.layers.len() - 1;
        let mut preactivations: Vec<DMatrix<T>> = self
            .layers
            .iter()
            .map(|l| DMatrix::zeros(l.fan_out(), batch))
            .collect();
        let mut hidden: Vec<DMatrix<T>> = self.layers[..last]
            .iter()
            .map(|l| DMatrix::zeros(l.fan_out(), batch))
            .collect();
        let work = self.pass_work(batch);
        let ranges = parallel::ranges(batch, work, 16);
        let z_blocks = parallel::blocks_by_range(&mut preactivations, &ranges);
        let h_blocks = parallel::blocks_by_range(&mut hidden, &ranges);
        let tasks: Vec<_> = ranges.iter().cloned().zip(z_blocks).zip(h_blocks).collect();
        parallel::for_each(tasks, work, |((cols, mut zs), mut hs)| {
            let x = x.columns(cols.start, cols.len());
            for (l, layer) in self.layers.iter().enumerate() {
                let (done, rest) = hs.split_at_mut(l);
                let h_prev: &[T] = done.last().map_or(&[], |h| h);
                let input = match l {
                    0 => x,
                    _ => DMatrixView::from_slice(h_prev, layer.fan_in(), cols.len()),
                };
                layer.linear_into(input, zs[l]);
                if let Some(h) = rest.first_mut() {
                    self.activate(layer, h_prev, zs[l], h);
                }
            }
        });
        let mut activations = Vec::with_capacity(self.layers.len());
        activations.push(x.clone());
        activations.extend(hidden);
        Ok(Forward {
            activations,
            preactivations,
        })
    }

    /// Network output `[k, batch]` without keeping intermediates (split by columns as
    /// [`Self::forward`] is).
    pub fn predict(&self, x: &DMatrix<T>) -> Result<DMatrix<T>> {
        self.check_input(x)?;
        let batch = x.ncols();
        let last = self.layers.len() - 1;
        let mut output = DMatrix::zeros(self.output_dim(), batch);
        let work = self.pass_work(batch);
        let ranges = parallel::ranges(batch, work, 16);
        let blocks = parallel::column_blocks(&mut output, &ranges);
        let tasks: Vec<_> = ranges.into_iter().zip(blocks).collect();
        parallel::for_each(tasks, work, |(cols, out)| {
            let mut h: Option<Vec<T>> = None;
            for (l, layer) in self.layers.iter().enumerate() {
                let input = match &h {
                    Some(h) => DMatrixView::from_slice(h, layer.fan_in(), cols.len()),
                    None => x.columns(cols.start, cols.len()),
                };
                if l == last {
                    layer.linear_into(input, out);
                    break;
                }
                let mut z = vec![T::zero(); layer.fan_out() * cols.len()];
                layer.linear_into(input, &mut z);
                let mut next = vec![T::zero(); z.len()];
                self.activate(layer, h.as_deref().unwrap_or(&[]), &z, &mut next);
                h = Some(next);
            }
        });
        Ok(output)
    }

    /// Backpropagated errors `delta_l = dLoss/dz_l` `[fan_out, batch]` of every layer, one
    /// column per sample, given `d_output = dLoss/dz_{L+1}`: `dL/dh_{l-1} = m_w W_l^T delta_l`,
    /// `delta_{l-1} = dL/dh_{l-1} * phi'(z_{l-1})` (times alpha, plus the skip path, for
    /// residual blocks). Split by columns over the CPU's threads, as [`Self::forward`] is.
    pub fn backpropagate(&self, forward: &Forward<T>, d_output: &DMatrix<T>) -> Vec<DMatrix<T>> {
        let batch = d_output.ncols();
        let last = self.layers.len() - 1;
        let mut deltas: Vec<DMatrix<T>> = self.layers[..last]
            .iter()
            .map(|l| DMatrix::zeros(l.fan_out(), batch))
            .collect();
        let work = self.pass_work(batch);
        let ranges = parallel::ranges(batch, work, 16);
        let blocks = parallel::blocks_by_range(&mut deltas, &ranges);
        let tasks: Vec<_> = ranges.into_iter().zip(blocks).collect();
        parallel::for_each(tasks, work, |(cols, mut blocks)| {
            let n = cols.len();
            let widest = self.layers.iter().map(Layer::fan_in).max().unwrap_or(0);
            let mut dh = vec![T::zero(); widest * n]; // dL/dh_{l-1}
            // dL/dh_l, carried along the skip path of residual blocks.
            let mut skip: Option<Vec<T>> = None;
            for l in (1..=last).rev() {
                let layer = &self.layers[l];
                let (below, above) = blocks.split_at_mut(l);
                let dz = match above.first() {
                    Some(d) => DMatrixView::from_slice(d, layer.fan_out(), n),
                    None => d_output.columns(cols.start, n),
                };
                let dh = &mut dh[..layer.fan_in() * n];
                gemm(
                    &mut DMatrixViewMut::from_slice(dh, layer.fan_in(), n),
                    layer.weight_multiplier,
                    &layer.params.weight,
                    Op::T,
                    &dz,
                    Op::N,
                    T::zero(),
                );
                if let Some(s) = &skip {
                    for (g, &s) in dh.iter_mut().zip(s) {
                        *g += s;
                    }
                }
                let z_prev = &forward.preactivations[l - 1];
                let z_prev =
                    &z_prev.as_slice()[cols.start * z_prev.nrows()..cols.end * z_prev.nrows()];
                let alpha = self.layers[l - 1].residual;
                if let Some(delta) = below.last_mut() {
                    self.activation_of(&self.layers[l - 1])
                        .backpropagate_into(dh, z_prev, alpha, delta);
                }
                match (alpha, &mut skip) {
                    (Some(_), Some(s)) => s.copy_from_slice(dh),
                    (Some(_), None) => skip = Some(dh.to_vec()),
                    (None, _) => skip = None,
                }
            }
        });
        deltas.push(d_output.clone());
        deltas
    }

    /// Gradients of a loss with respect to every `w` and `b`, given `d_output = dLoss/dz_{L+1}`
    /// `[k, batch]` and the forward pass that produced it. Chain rule through `W = m w`:
    /// `dL/dw_l = m_w delta_l h_{l-1}^T`, `dL/db_l = m_b delta_l 1` with the errors `delta_l` of
    /// [`Self::backpropagate`]. The weight gradients are split by columns (input units) over the
    /// CPU's threads: each entry is still one sum over the batch, in order.
    pub fn backward(&self, forward: &Forward<T>, d_output: &DMatrix<T>) -> Vec<LayerParams<T>> {
        let deltas = self.backpropagate(forward, d_output);
        let batch = d_output.ncols();
        let mut gradients: Vec<LayerParams<T>> =
            self.layers.iter().map(|l| l.params.zeros_like()).collect();
        let mut tasks = Vec::new();
        for (l, gradient) in gradients.iter_mut().enumerate() {
            let (rows, cols) = gradient.weight.shape();
            let ranges = parallel::ranges(cols, (rows * cols * batch) as f64, 16);
            let blocks = parallel::column_blocks(&mut gradient.weight, &ranges);
            tasks.extend(
                ranges
                    .into_iter()
                    .zip(blocks)
                    .map(|(cols, block)| GradientBlock::Weight { l, cols, block }),
            );
            if let Some(bias) = &mut gradient.bias {
                tasks.push(GradientBlock::Bias {
                    l,
                    block: bias.as_mut_slice(),
                });
            }
        }
        let work = self.pass_work(batch);
        parallel::for_each(tasks, work, |task| match task {
            GradientBlock::Weight { l, cols, block } => {
                let layer = &self.layers[l];
                gemm(
                    &mut DMatrixViewMut::from_slice(block, layer.fan_out(), cols.len()),
                    layer.weight_multiplier,
                    &deltas[l],
                    Op::N,
                    &forward.activations[l].rows(cols.start, cols.len()),
                    Op::T,
                    T::zero(),
                );
            }
            GradientBlock::Bias { l, block } => {
                let multiplier = self.layers[l].bias_multiplier;
                for (b, row) in block.iter_mut().zip(deltas[l].row_iter()) {
                    *b = row.sum() * multiplier;
                }
            }
        });
        gradients
    }

    /// All trainable scalars in one vector: per layer, the weight (column-major) then the bias.
    pub fn flatten(&self) -> DVector<T> {
        let values: Vec<T> = self
            .layers
            .iter()
            .flat_map(|l| l.params.slices())
            .flatten()
            .copied()
            .collect();
        DVector::from_vec(values)
    }

    /// Sets all trainable scalars from a vector laid out as [`Self::flatten`].
    pub fn set_flat(&mut self, flat: &DVector<T>) -> Result<()> {
        if flat.len() != self.num_params() {
            return Err(Error::Shape {
                what: "flat parameter vector".into(),
                expected: format!("{} entries", self.num_params()),
                found: format!("{}", flat.len()),
            });
        }
        let mut rest = flat.as_slice();
        for slice in self.layers.iter_mut().flat_map(|l| l.params.slices_mut()) {
            let (head, tail) = rest.split_at(slice.len());
            slice.copy_from_slice(head);
            rest = tail;
        }
        Ok(())
    }

    /// Flattens per-layer tensors (e.g. a gradient) in the layout of [`Self::flatten`].
    pub fn flatten_like(tensors: &[LayerParams<T>]) -> DVector<T> {
        DVector::from_vec(
            tensors
                .iter()
                .flat_map(|t| t.slices())
                .flatten()
                .copied()
                .collect(),
        )
    }

    /// The same network in another float type (rounding when narrowing).
    pub fn cast<U: Float>(&self) -> Mlp<U> {
        let convert = |x: &T| U::of_f64(x.as_f64());
        Mlp {
            layers: self
                .layers
                .iter()
                .map(|l| Layer {
                    params: LayerParams {
                        weight: l.params.weight.map(|x| convert(&x)),
                        bias: l.params.bias.as_ref().map(|b| b.map(|x| convert(&x))),
                    },
                    weight_multiplier: convert(&l.weight_multiplier),
                    bias_multiplier: convert(&l.bias_multiplier),
                    weight_lr_scale: convert(&l.weight_lr_scale),
                    bias_lr_scale: convert(&l.bias_lr_scale),
                    residual: l.residual.as_ref().map(convert),
                    linear: l.linear,
                })
                .collect(),
            activation: self.activation,
        }
    }
}
