//! Infinite-width NNGP and NTK of a fully connected network (Neal 1996; Lee et al. 2018; Jacot et
//! al. 2018), and the empirical kernels of finite networks that converge to them.
//!
//! Conventions are neural-tangents' (Novak et al. 2020), for
//! `stax.serial(*[Dense(n, W_std, b_std), act] * depth, Dense(1, W_std, b_std))` with
//! `weight_var = W_std^2`, `bias_var = b_std^2` and input kernel `x . x' / d`:
//! - Dense, NTK parametrization: `K <- W K + B`, `Theta <- K_new + W Theta`.
//! - Dense, standard parametrization (Sohl-Dickstein et al. 2020, arXiv:2001.07301) at fan-in
//!   `n_in`: `Theta <- n_in K + W Theta + 1`, `K <- W K + B`.
//! - Activation phi: `K <- E[phi(u) phi(v)]`, `Theta <- Theta * E[phi'(u) phi'(v)]`, with
//!   `(u, v) ~ N(0, [[K_xx, K_xy], [K_xy, K_yy]])`.

use super::activation::Activation;
use super::mlp::{Layer, LayerParams, Mlp, MlpConfig};
use super::optim::OptimizerKind;
use super::parametrization::Parametrization;
use super::quadrature::bivariate_expectation;
use super::rng::Rng;
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Relative accuracy asked of the quadrature (activations without a closed form).
pub const QUADRATURE_TOL: f64 = 1e-11;

/// Most inputs of one kernel (two N x N f64 matrices of 4096^2 entries are 256 MiB).
pub const MAX_KERNEL_POINTS: usize = 4096;

/// How the finite network that the kernel describes is parametrized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum KernelParametrization {
    /// `z = sqrt(W / n_in) w h + sqrt(B) b`, `w, b ~ N(0, 1)`: width-independent NTK.
    #[default]
    Ntk,
    /// `z = w h + b`, `w ~ N(0, W / n_in)`, `b ~ N(0, B)`: the NTK grows with `width`.
    Standard {
        /// Hidden width n.
        width: usize,
    },
}

/// The architecture whose kernels are computed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KernelSpec {
    /// Hidden layers L (each Dense then activation), then a Dense readout to one output.
    pub depth: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Weight variance `W_std^2`.
    pub weight_var: f64,
    /// Bias variance `b_std^2`.
    pub bias_var: f64,
    /// NTK or standard parametrization.
    pub parametrization: KernelParametrization,
}

impl Default for KernelSpec {
    fn default() -> Self {
        KernelSpec {
            depth: 2,
            activation: Activation::Relu,
            weight_var: 2.0,
            bias_var: 0.0,
            parametrization: KernelParametrization::Ntk,
        }
    }
}

impl KernelSpec {
    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        super::bounds::DEPTH.check(self.depth)?;
        for (name, value) in [
            ("weight variance", self.weight_var),
            ("bias variance", self.bias_var),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(Error::config(
                    name,
                    format!("{value} must be finite and >= 0"),
                ));
            }
            super::bounds::check_scale(name, value)?;
            if value != 0.0 && value < MIN_VARIANCE {
                return Err(Error::config(
                    name,
                    format!(
                        "{value:e} is below {MIN_VARIANCE:e}: use 0 or a variance whose kernel products stay normal f64 numbers"
                    ),
                ));
            }
        }
        if self.weight_var == 0.0 && self.bias_var == 0.0 {
            return Err(Error::config(
                "weight variance",
                "weight and bias variances are both 0: every kernel vanishes",
            ));
        }
        if let KernelParametrization::Standard { width: 0 } = self.parametrization {
            return Err(Error::config("width", "must be at least 1"));
        }
        Ok(())
    }
}

/// Smallest positive variance accepted: the recursion multiplies kernels (products of two
/// variances, 1e-200 here) and below that they fall into subnormal numbers with no precision.
pub const MIN_VARIANCE: f64 = 1e-100;

/// The NNGP kernel `K` and the NTK `Theta` on a set of inputs, each `N x N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kernels {
    /// `K(x_i, x_j)`: covariance of the outputs of a random network.
    pub nngp: DMatrix<f64>,
    /// `Theta(x_i, x_j)`: the tangent kernel `<df(x_i)/dtheta, df(x_j)/dtheta>`.
    pub ntk: DMatrix<f64>,
}

/// `E[phi(u) phi(v)]` and `E[phi'(u) phi'(v)]` for one pair of inputs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dual {
    /// `E[phi(u) phi(v)]`.
    pub value: f64,
    /// `E[phi'(u) phi'(v)]`.
    pub derivative: f64,
}

/// The dual of `activation` at variances `q1`, `q2` and covariance `c`: closed forms for relu
/// (Cho & Saul 2009, with `theta = atan2(sqrt(q1 q2 - c^2), c)` so that theta = 0 and pi are
/// exact), erf (Williams 1997), gelu (Tsuchida et al. 2020, arXiv:2002.08517, as in
/// neural-tangents) and linear; adaptive quadrature for tanh.
pub fn dual(activation: Activation, q1: f64, q2: f64, c: f64) -> Dual {
    match activation {
        Activation::Relu => {
            let s = (q1 * q2 - c * c).max(0.0).sqrt();
            let theta = s.atan2(c);
            Dual {
                value: (s + (PI - theta) * c) / (2.0 * PI),
                derivative: (PI - theta) / (2.0 * PI),
            }
        }
        Activation::Erf => {
            let prod = (1.0 + 2.0 * q1) * (1.0 + 2.0 * q2);
            Dual {
                value: 2.0 / PI * (2.0 * c / prod.sqrt()).clamp(-1.0, 1.0).asin(),
                derivative: 4.0 / PI / (prod - 4.0 * c * c).sqrt(),
            }
        }
        Activation::Gelu => {
            let prod = q1 * q2;
            let prod_plus_1 = (1.0 + q1) * (1.0 + q2);
            let delta_squared = prod_plus_1 - c * c;
            let delta = delta_squared.max(0.0).sqrt();
            let angle = c.atan2(delta);
            let value = ((c * c + prod * delta_squared) / (prod_plus_1 * delta) + c * angle)
                / (2.0 * PI)
                + 0.25 * c;
            let first =
                (1.0 / delta_squared + (1.0 - prod) / prod_plus_1 + 1.0) * c / delta / (2.0 * PI);
            Dual {
                value,
                derivative: first + 0.25 + angle / (2.0 * PI),
            }
        }
        Activation::Linear => Dual {
            value: c,
            derivative: 1.0,
        },
        Activation::Tanh => dual_by_quadrature(activation, q1, q2, c),
    }
}

/// The dual by adaptive quadrature ([`bivariate_expectation`]), for any activation.
pub fn dual_by_quadrature(activation: Activation, q1: f64, q2: f64, c: f64) -> Dual {
    let phi = |x: f64| activation.apply(x);
    let dphi = |x: f64| accurate_derivative(activation, x);
    Dual {
        value: bivariate_expectation(&phi, &phi, q1, q2, c, QUADRATURE_TOL),
        derivative: bivariate_expectation(&dphi, &dphi, q1, q2, c, QUADRATURE_TOL),
    }
}

/// phi'(x) to full relative accuracy in the tails, where the quadrature needs it: the
/// training code's `1 - tanh^2` and `Phi(x) = (1 + erf(x/sqrt 2))/2` cancel to multiples of
/// 1e-16 there, noise that adaptive bisection would chase forever.
pub(crate) fn accurate_derivative(activation: Activation, x: f64) -> f64 {
    match activation {
        Activation::Tanh => {
            let c = x.cosh();
            1.0 / (c * c)
        }
        Activation::Gelu => {
            let cdf = 0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2);
            let density = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
            cdf + x * density
        }
        other => other.derivative(x),
    }
}

/// Checks the inputs `x: [d, N]` of a kernel.
fn check_inputs(x: &DMatrix<f64>) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::Data(
            "the kernel needs at least one input of dimension >= 1".into(),
        ));
    }
    if x.ncols() > MAX_KERNEL_POINTS {
        return Err(Error::Data(format!(
            "{} inputs give a kernel too large for memory here (at most {MAX_KERNEL_POINTS})",
            x.ncols()
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data(format!(
            "input {} has a non-finite feature",
            i / x.nrows() + 1
        )));
    }
    // The recursion starts from |x|^2 / d: it must not overflow.
    for (i, column) in x.column_iter().enumerate() {
        let q = column.norm_squared() / x.nrows() as f64;
        if !q.is_finite() {
            return Err(Error::Data(format!(
                "input {} has |x|^2 / d = {q} (its features are too large to square in f64): rescale the inputs",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The infinite-width NNGP and NTK on the columns of `x: [d, N]` (see module docs).
pub fn analytic(spec: &KernelSpec, x: &DMatrix<f64>) -> Result<Kernels> {
    let mut recursion = Recursion::new(spec, x)?;
    while !recursion.advance(usize::MAX) {}
    let kernels = recursion.kernels;
    let bad = kernels
        .nngp
        .iter()
        .chain(kernels.ntk.iter())
        .find(|v| !v.is_finite());
    if let Some(bad) = bad {
        return Err(Error::config(
            "weight variance",
            format!(
                "the kernels overflow f64 (an entry is {bad}) with weight variance {:e} and bias variance {:e} over {} layers: lower them, or rescale the inputs",
                spec.weight_var, spec.bias_var, spec.depth
            ),
        ));
    }
    Ok(kernels)
}

/// The layer recursion of [`analytic`], advanced a bounded number of kernel entries at a time
/// (with quadrature, one entry of a tanh network costs milliseconds: the browser computes the
/// kernel across frames).
#[derive(Clone, Debug)]
pub struct Recursion {
    spec: KernelSpec,
    kernels: Kernels,
    /// Diagonal of the NNGP entering the current activation layer.
    q: Vec<f64>,
    /// Activation layers done.
    layer: usize,
    /// Next upper-triangle entry `(i, j)`, `i <= j`, of the current layer.
    next: (usize, usize),
    done: bool,
}

impl Recursion {
    /// Validates and applies the first Dense layer.
    pub fn new(spec: &KernelSpec, x: &DMatrix<f64>) -> Result<Self> {
        spec.validate()?;
        check_inputs(x)?;
        let n = x.ncols();
        let mut recursion = Recursion {
            spec: *spec,
            kernels: Kernels {
                nngp: x.transpose() * x / x.nrows() as f64,
                ntk: DMatrix::zeros(n, n),
            },
            q: Vec::new(),
            layer: 0,
            next: (0, 0),
            done: false,
        };
        recursion.dense(x.nrows());
        Ok(recursion)
    }

    /// Kernel entries (per layer, upper triangle) in the whole recursion.
    pub fn total_entries(&self) -> usize {
        let n = self.kernels.nngp.nrows();
        self.spec.depth * n * (n + 1) / 2
    }

    /// Entries done so far.
    pub fn entries_done(&self) -> usize {
        if self.done {
            return self.total_entries();
        }
        let (i, j) = self.next;
        let n = self.kernels.nngp.nrows();
        self.layer * n * (n + 1) / 2 + j * (j + 1) / 2 + i
    }

    /// The kernels, once [`Self::advance`] has returned true.
    pub fn kernels(&self) -> Option<&Kernels> {
        self.done.then_some(&self.kernels)
    }

    /// `Dense` at fan-in `fan_in`, then the diagonal for the next activation.
    fn dense(&mut self, fan_in: usize) {
        let (w, b) = (self.spec.weight_var, self.spec.bias_var);
        let Kernels { nngp, ntk } = &mut self.kernels;
        match self.spec.parametrization {
            KernelParametrization::Ntk => {
                nngp.apply(|k| *k = w * *k + b);
                ntk.zip_apply(nngp, |t, k| *t = k + w * *t);
            }
            KernelParametrization::Standard { .. } => {
                ntk.zip_apply(nngp, |t, k| *t = fan_in as f64 * k + w * *t + 1.0);
                nngp.apply(|k| *k = w * *k + b);
            }
        }
        self.q = nngp.diagonal().iter().copied().collect();
    }

    /// Computes up to `entries` more entries; returns whether the kernels are complete.
    pub fn advance(&mut self, entries: usize) -> bool {
        let n = self.kernels.nngp.nrows();
        let width = match self.spec.parametrization {
            KernelParametrization::Standard { width } => width,
            KernelParametrization::Ntk => 1,
        };
        let per_layer = n * (n + 1) / 2;
        let mut entries = entries;
        while !self.done && self.next == (0, 0) && entries >= per_layer {
            self.whole_layer();
            entries -= per_layer;
            self.layer += 1;
            self.dense(width);
            self.done = self.layer == self.spec.depth;
        }
        for _ in 0..entries {
            if self.done {
                break;
            }
            let (i, j) = self.next;
            let Kernels { nngp, ntk } = &mut self.kernels;
            let dual = dual(self.spec.activation, self.q[i], self.q[j], nngp[(i, j)]);
            nngp[(i, j)] = dual.value;
            ntk[(i, j)] *= dual.derivative;
            nngp[(j, i)] = nngp[(i, j)];
            ntk[(j, i)] = ntk[(i, j)];
            self.next = if i < j { (i + 1, j) } else { (0, j + 1) };
            if self.next.1 == n {
                self.layer += 1;
                self.next = (0, 0);
                // The next Dense reads this layer's output: the hidden width, or d before the
                // first layer (already applied in `new`).
                self.dense(width);
                self.done = self.layer == self.spec.depth;
            }
        }
        self.done
    }
}

impl Recursion {
    /// One activation layer on every entry at once: the upper triangle's columns split among
    /// the available cores (one on wasm32), then mirrored. Each entry is computed exactly as
    /// [`Recursion::advance`] computes it one at a time.
    fn whole_layer(&mut self) {
        let n = self.kernels.nngp.nrows();
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(8)
            .min(n.div_ceil(64))
            .max(1);
        let (activation, q) = (self.spec.activation, &self.q);
        let Kernels { nngp, ntk } = &mut self.kernels;
        // Columns j..end of the upper triangle, given their slices of both matrices.
        let columns = |start: usize, k: &mut [f64], t: &mut [f64]| {
            for (offset, (k, t)) in k.chunks_mut(n).zip(t.chunks_mut(n)).enumerate() {
                let j = start + offset;
                for i in 0..=j {
                    let d = dual(activation, q[i], q[j], k[i]);
                    k[i] = d.value;
                    t[i] *= d.derivative;
                }
            }
        };
        if threads == 1 {
            columns(0, nngp.as_mut_slice(), ntk.as_mut_slice());
        } else {
            // Column j costs j + 1 entries: cut where the triangle's area splits evenly.
            let cuts: Vec<usize> = (0..=threads)
                .map(|k| ((n as f64) * (k as f64 / threads as f64).sqrt()).round() as usize)
                .collect();
            let columns = &columns;
            std::thread::scope(|scope| {
                let (mut k_rest, mut t_rest) = (nngp.as_mut_slice(), ntk.as_mut_slice());
                for pair in cuts.windows(2) {
                    let (k_part, k_tail) = k_rest.split_at_mut((pair[1] - pair[0]) * n);
                    let (t_part, t_tail) = t_rest.split_at_mut((pair[1] - pair[0]) * n);
                    (k_rest, t_rest) = (k_tail, t_tail);
                    let start = pair[0];
                    scope.spawn(move || columns(start, k_part, t_part));
                }
            });
        }
        mirror_upper(nngp.as_mut_slice(), n);
        mirror_upper(ntk.as_mut_slice(), n);
    }
}

/// Copies the upper triangle of the column-major `n x n` matrix `m` onto its lower triangle, in
/// 32 x 32 blocks so that both the strided reads and the contiguous writes stay in cache.
fn mirror_upper(m: &mut [f64], n: usize) {
    const BLOCK: usize = 32;
    for jb in (0..n).step_by(BLOCK) {
        for ib in (0..=jb).step_by(BLOCK) {
            for i in ib..(ib + BLOCK).min(n) {
                for j in jb.max(i + 1)..(jb + BLOCK).min(n) {
                    // (j, i) <- (i, j)
                    m[j + i * n] = m[i + j * n];
                }
            }
        }
    }
}

/// The architecture [`network`] draws, for pricing it: `input_dim -> depth x width -> 1`.
pub fn network_shape(spec: &KernelSpec, input_dim: usize, width: usize) -> MlpConfig {
    MlpConfig {
        input_dim,
        hidden: vec![width; spec.depth],
        output_dim: 1,
        activation: spec.activation,
        bias: true,
        residual: None,
        rules: Parametrization::Ntk.rules(OptimizerKind::Sgd),
        sigma_w: spec.weight_var.sqrt(),
        sigma_b: spec.bias_var.sqrt(),
    }
}

/// A finite network of hidden width `width` whose kernels converge to [`analytic`]'s: layers
/// exactly as neural-tangents' `Dense` draws and applies them (weights and biases in our
/// [`Mlp`], learning-rate scales 1, biases always present and trainable).
pub fn network(
    spec: &KernelSpec,
    input_dim: usize,
    width: usize,
    rng: &mut Rng,
) -> Result<Mlp<f64>> {
    spec.validate()?;
    if width == 0 {
        return Err(Error::config("width", "must be at least 1"));
    }
    let mut dims = vec![input_dim];
    dims.extend(std::iter::repeat_n(width, spec.depth));
    dims.push(1);
    let layers = dims
        .windows(2)
        .map(|pair| {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let (w_mult, w_std, b_mult, b_std) = match spec.parametrization {
                KernelParametrization::Ntk => (
                    (spec.weight_var / fan_in as f64).sqrt(),
                    1.0,
                    spec.bias_var.sqrt(),
                    1.0,
                ),
                KernelParametrization::Standard { .. } => (
                    1.0,
                    (spec.weight_var / fan_in as f64).sqrt(),
                    1.0,
                    spec.bias_var.sqrt(),
                ),
            };
            Layer {
                params: LayerParams {
                    weight: DMatrix::from_fn(fan_out, fan_in, |_, _| w_std * rng.normal()),
                    bias: Some(DVector::from_fn(fan_out, |_, _| b_std * rng.normal())),
                },
                weight_multiplier: w_mult,
                bias_multiplier: b_mult,
                weight_lr_scale: 1.0,
                bias_lr_scale: 1.0,
                residual: None,
                linear: false,
            }
        })
        .collect();
    Ok(Mlp {
        layers,
        activation: spec.activation,
    })
}

/// The empirical NTK `Theta(x, x') = sum_theta eta_theta df(x)/dtheta df(x')/dtheta` of a network
/// with one output, on the columns of `x`, weighting each tensor by its learning-rate scale
/// `eta_theta = n^-c` (so that it is the kernel of the gradient-flow dynamics). Per layer, from
/// backpropagated errors `delta_l = df/dz_l` and inputs `h_{l-1}`, without Jacobians:
/// `Theta = sum_l (delta_l^T delta_l) o (eta_w m_w^2 h_{l-1}^T h_{l-1} + eta_b m_b^2 1 1^T)`.
pub fn empirical_ntk(mlp: &Mlp<f64>, x: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    check_inputs(x)?;
    if mlp.output_dim() != 1 {
        return Err(Error::Data(format!(
            "the empirical NTK is defined here for one output, the network has {}",
            mlp.output_dim()
        )));
    }
    let forward = mlp.forward(x)?;
    let deltas = mlp.backpropagate(&forward, &DMatrix::from_element(1, x.ncols(), 1.0));
    let mut ntk = DMatrix::zeros(x.ncols(), x.ncols());
    for ((layer, delta), h_in) in mlp.layers.iter().zip(&deltas).zip(&forward.activations) {
        let mut inputs =
            h_in.transpose() * h_in * (layer.weight_multiplier.powi(2) * layer.weight_lr_scale);
        if layer.params.bias.is_some() {
            inputs.add_scalar_mut(layer.bias_multiplier.powi(2) * layer.bias_lr_scale);
        }
        ntk += (delta.transpose() * delta).component_mul(&inputs);
    }
    Ok(ntk)
}

/// The NNGP of a finite network's last hidden features with the readout integrated out:
/// `K(x, x') = W <h_L(x), h_L(x')> / n + B`, the kernel of `f` over a fresh readout layer.
pub fn feature_nngp(spec: &KernelSpec, mlp: &Mlp<f64>, x: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    check_inputs(x)?;
    let forward = mlp.forward(x)?;
    let features = &forward.activations[forward.activations.len() - 1];
    let mut nngp = features.transpose() * features * (spec.weight_var / features.nrows() as f64);
    nngp.add_scalar_mut(spec.bias_var);
    Ok(nngp)
}

/// `||A - B||_F / ||B||_F`.
pub fn relative_error(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    (a - b).norm() / b.norm()
}
