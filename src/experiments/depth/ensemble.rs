//! An ensemble of random networks at initialization: every layer's preactivation moments at a
//! fixed input, the correlation with a second input, the gradient norms and the tangent kernel
//! Theta(x, x), beside the finite-width theory (`core::nearly_gaussian`) and the mean-field maps
//! (`core::criticality`).

use crate::core::activation::Activation;
use crate::core::bounds;
use crate::core::criticality::MeanField;
use crate::core::init_sampler::{InitSampler, NetworkSample};
use crate::core::nearly_gaussian::{DepthSpec, LayerTheory, layer_theory, recursion_applies};
use crate::core::stepper::{Progress, Stepper};
use crate::error::{Error, Result};
use crate::experiments::sweep::check_counts;
use crate::gpu::{GpuContext, GpuInitSampler};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most networks of one ensemble: [`bounds::ENSEMBLE`].
pub const MAX_SAMPLES: usize = bounds::ENSEMBLE.max;
/// Most hidden layers.
pub const MAX_DEPTH: usize = bounds::DEPTH.max;
/// Most neurons per layer.
pub const MAX_WIDTH: usize = bounds::WIDTH.max;
/// Most network-layer-neurons of one ensemble (S (L + 1) n; 2^31 is about a minute natively).
pub const MAX_WORK: u64 = 1 << 31;
/// Readout values kept for the histogram.
pub const HISTOGRAM_VALUES: usize = 20_000;
/// Work per slice (network-layer-neurons): a few milliseconds.
const SLICE_WORK: usize = 1 << 16;

/// What to sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnsembleConfig {
    /// phi.
    pub activation: Activation,
    /// Hidden layers L.
    pub depth: usize,
    /// Width n of every hidden layer and of the readout.
    pub width: usize,
    /// Networks S.
    pub samples: usize,
    /// `C_W`.
    pub weight_var: f64,
    /// `C_b`.
    pub bias_var: f64,
    /// Skip weight gamma in `[0, 1)`.
    pub residual: f64,
    /// `|x|^2 / n_0` of both inputs.
    pub q_input: f64,
    /// Correlation of the two inputs, in `[-1, 1]`.
    pub input_correlation: f64,
    /// Seed of the networks.
    pub seed: u64,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        EnsembleConfig {
            activation: Activation::Relu,
            depth: 8,
            width: 64,
            samples: 10_000,
            weight_var: 2.0,
            bias_var: 0.0,
            residual: 0.0,
            q_input: 1.0,
            input_correlation: 0.5,
            seed: 0,
        }
    }
}

/// Checks an architecture's fields, naming the bad one.
pub fn check_spec(spec: &DepthSpec) -> Result<()> {
    check_counts(&[
        ("depth", spec.depth, 1..=MAX_DEPTH),
        ("width", spec.width, 1..=MAX_WIDTH),
    ])?;
    MeanField {
        activation: spec.activation,
        weight_var: spec.weight_var,
        bias_var: spec.bias_var,
    }
    .validate()?;
    if !(spec.residual.is_finite() && (0.0..1.0).contains(&spec.residual)) {
        return Err(Error::config(
            "residual",
            format!("skip weight {} must be in [0, 1)", spec.residual),
        ));
    }
    if !(spec.q_input.is_finite() && spec.q_input > 0.0 && spec.q_input <= 1e6) {
        return Err(Error::config(
            "q_input",
            format!("{} must be a number in (0, 1e6]", spec.q_input),
        ));
    }
    // Fourth moments square the kernel: it must stay well inside f64 at every layer, or the
    // measured and predicted kurtoses become 0/0.
    let kernels = layer_theory(spec);
    if let Some((l, k)) = kernels
        .iter()
        .map(|t| t.kernel)
        .enumerate()
        .find(|(_, k)| !(KERNEL_RANGE.0..=KERNEL_RANGE.1).contains(k))
    {
        let option = if l == 0 { "q_input" } else { "weight_var" };
        return Err(Error::config(
            option,
            format!(
                "the preactivation variance K at layer {} would be {k:e}, outside [{:e}, {:e}] where fourth moments stay finite: raise or lower C_W = {:e}, C_b = {:e} or q_input = {:e} for depth {}",
                l + 1,
                KERNEL_RANGE.0,
                KERNEL_RANGE.1,
                spec.weight_var,
                spec.bias_var,
                spec.q_input,
                spec.depth
            ),
        ));
    }
    Ok(())
}

/// Where every layer's kernel must lie: its square (in the fourth moments) then stays a normal
/// f64 number, between 1e-200 and 1e200.
const KERNEL_RANGE: (f64, f64) = (1e-100, 1e100);

impl EnsembleConfig {
    /// The architecture.
    pub fn spec(&self) -> DepthSpec {
        DepthSpec {
            activation: self.activation,
            weight_var: self.weight_var,
            bias_var: self.bias_var,
            residual: self.residual,
            depth: self.depth,
            width: self.width,
            q_input: self.q_input,
        }
    }

    /// Checks every field's domain and the total work.
    pub fn validate(&self) -> Result<()> {
        check_spec(&self.spec())?;
        check_counts(&[("samples", self.samples, 2..=MAX_SAMPLES)])?;
        if !(self.input_correlation.is_finite() && self.input_correlation.abs() <= 1.0) {
            return Err(Error::config(
                "input_correlation",
                format!("{} must be in [-1, 1]", self.input_correlation),
            ));
        }
        let work = self.samples as u64 * (self.depth as u64 + 1) * self.width as u64;
        if work > MAX_WORK {
            return Err(Error::config(
                "samples",
                format!(
                    "{} networks of {} layers of width {} are {work} neuron draws, above the {MAX_WORK} one run allows",
                    self.samples,
                    self.depth + 1,
                    self.width
                ),
            ));
        }
        Ok(())
    }
}

/// Sums over networks of per-network statistics `a` and `b` (`b` a mean of squares, `a` of
/// fourth powers), for the ratio `E a / (factor (E b)^2)` and its delta-method standard error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RatioSums {
    /// Networks.
    pub count: f64,
    /// Sum of a.
    pub a: f64,
    /// Sum of b.
    pub b: f64,
    /// Sum of a^2.
    pub aa: f64,
    /// Sum of b^2.
    pub bb: f64,
    /// Sum of a b.
    pub ab: f64,
}

impl RatioSums {
    /// Adds one network.
    pub fn add(&mut self, a: f64, b: f64) {
        self.count += 1.0;
        self.a += a;
        self.b += b;
        self.aa += a * a;
        self.bb += b * b;
        self.ab += a * b;
    }

    /// `(E a / (factor (E b)^2), its standard error)`: the delta method on the two sample
    /// means, `Var R = (g_a^2 Var a + g_b^2 Var b + 2 g_a g_b Cov(a, b)) / S` with `g_a = 1 /
    /// (factor B^2)`, `g_b = -2 A / (factor B^3)` (sample variances with S - 1).
    pub fn ratio(&self, factor: f64) -> (f64, f64) {
        let s = self.count;
        let (ma, mb) = (self.a / s, self.b / s);
        let r = ma / (factor * mb * mb);
        let var = |sum_sq: f64, m: f64| (sum_sq - s * m * m) / (s - 1.0);
        let (va, vb) = (var(self.aa, ma), var(self.bb, mb));
        let cab = (self.ab - s * ma * mb) / (s - 1.0);
        let (ga, gb) = (
            1.0 / (factor * mb * mb),
            -2.0 * ma / (factor * mb * mb * mb),
        );
        let v = (ga * ga * va + gb * gb * vb + 2.0 * ga * gb * cab) / s;
        (r, v.max(0.0).sqrt())
    }
}

/// Moments of one layer's preactivation, measured and predicted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MomentStats {
    /// Networks measured.
    pub samples: usize,
    /// `E[z^2]`.
    pub second_moment: f64,
    /// `E[z^4]`.
    pub fourth_moment: f64,
    /// `E[z^4] / (3 E[z^2]^2)`.
    pub kurtosis_ratio: f64,
    /// Standard error of `kurtosis_ratio` (delta method over networks).
    pub stderr: f64,
    /// The lab's prediction of `kurtosis_ratio`: the exact law where the integrals close
    /// (ReLU, linear at `C_b = 0`, no skip), else PDLT's leading order `1 + V / (n K^2)`; null
    /// where the recursion does not apply (ReLU or GELU with a skip, see
    /// `nearly_gaussian::recursion_applies`).
    pub theory: Option<f64>,
    /// The leading order `1 + V / (n K^2)` (null where it does not apply).
    pub theory_leading: Option<f64>,
    /// Infinite-width `K^(l)`.
    pub kernel: f64,
}

/// One layer's statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// Layer l (1 = first hidden, L + 1 = readout).
    pub layer: usize,
    /// Moments at the first input.
    #[serde(flatten)]
    pub moments: MomentStats,
    /// Measured correlation `E[z z'] / sqrt(E[z^2] E[z'^2])` of the two inputs.
    pub correlation: f64,
    /// Infinite-width correlation (the exact iteration of the maps).
    pub correlation_theory: f64,
    /// `E |df / dz^(l)|^2`.
    pub gradient_norm: f64,
    /// Its infinite-width value.
    pub gradient_theory: f64,
}

/// The tangent kernel's fluctuations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NtkStats {
    /// `E[Theta]`.
    pub mean: f64,
    /// `E[Theta^2] / E[Theta]^2`.
    pub ratio: f64,
    /// Its standard error.
    pub stderr: f64,
    /// The lab's prediction ([`ntk_ratio_theory`]; ReLU at C_b = 0 without skip), else null.
    pub theory: Option<f64>,
    /// Hanin & Nica's growth law `exp(5 L / n)` (same domain).
    pub growth_law: Option<f64>,
}

/// What the ensemble measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleResult {
    /// The config that produced it.
    pub config: EnsembleConfig,
    /// The readout's moments.
    #[serde(flatten)]
    pub output: MomentStats,
    /// Every layer `1..=L+1`.
    pub layers: Vec<LayerStats>,
    /// Theta(x, x).
    pub ntk: NtkStats,
    /// Readout values of the first networks (all neurons of each), for the histogram.
    pub output_values: Vec<f64>,
    /// Where the networks were sampled: `cpu (f64)`, `gpu: <adapter> (f32)`, or the CPU with
    /// the reason a GPU offered was declined.
    pub backend: String,
}

/// Where the networks are drawn: the same counter-based draws on either.
#[derive(Debug)]
enum Sampler {
    /// [`InitSampler`] in f64, a slice of networks per step.
    Cpu(InitSampler),
    /// `shaders/init_sampler.wgsl` in f32, one dispatch of many networks per step.
    Gpu(GpuInitSampler),
}

/// Network-layer-neurons of one GPU dispatch: a few milliseconds on a real GPU, a fraction of a
/// second on lavapipe.
const GPU_SLICE_WORK: usize = 1 << 22;

/// Per-layer sums over networks.
#[derive(Clone, Debug, Default)]
struct LayerSums {
    moments: RatioSums,
    cross: f64,
    second_other: f64,
    gradient: f64,
}

/// The ensemble as a [`Stepper`]: a few thousand neuron draws per slice.
#[derive(Debug)]
pub struct Ensemble {
    config: EnsembleConfig,
    sampler: Sampler,
    /// Why a GPU that was offered is not used.
    fallback: Option<String>,
    theory: Vec<LayerTheory>,
    correlation_theory: Vec<f64>,
    layers: Vec<LayerSums>,
    ntk: RatioSums,
    output_values: Vec<f64>,
    done: usize,
}

/// Whether the ReLU tangent-kernel laws apply (ReLU, `C_b = 0`, no skip).
fn relu_ntk(spec: &DepthSpec) -> bool {
    spec.activation == Activation::Relu && spec.bias_var == 0.0 && spec.residual == 0.0
}

/// `E[Theta^2] / E[Theta]^2` of a ReLU network at `C_b = 0`, derived in
/// `docs/depth-theory.md`: `Theta = sum_(l=1)^(L+1) T_l` with `T_l = N_(l-1) |delta^l|^2` a
/// product over the L hidden layers of one factor each, the forward norm ratio `X_k` for `k < l`
/// and the backward one `Y_k` for `k >= l`; `E X^2 = E Y^2 = 1 + 5/n`, `E X Y = 1 + 1/n` (they
/// share layer k's ReLU mask), so `E[T_l T_m] / E[T]^2 = (1 + 5/n)^(L - |l-m|) (1 + 1/n)^|l-m|`
/// and the ratio is the mean of that over `l, m`. To leading order `1 + (11/3) L/n`; at large
/// L/n it grows like `exp(5 L/n) 2 (4b - 1 + e^-4b) / (4b)^2`, `b = L/n`: Hanin & Nica's
/// `exp(5 beta)` rate (2019, Theorem 1) with a prefactor from the sum over layers. It neglects
/// the coupling of the backward pass to the forward pass through the one direction
/// `phi(z^(l))`, a relative `O(n^-3/2)` per layer.
pub fn ntk_ratio_theory(spec: &DepthSpec) -> Option<f64> {
    if !relu_ntk(spec) {
        return None;
    }
    let (depth, n) = (spec.depth as i32, spec.width as f64);
    let mut sum = 0.0;
    for l in 0..=depth {
        for m in 0..=depth {
            let d = (l - m).abs();
            sum += (1.0 + 5.0 / n).powi(depth - d) * (1.0 + 1.0 / n).powi(d);
        }
    }
    Some(sum / f64::from(depth + 1).powi(2))
}

/// Hanin & Nica's growth law `exp(5 L / n)` (ReLU, `C_b = 0`, no skip).
pub fn ntk_growth_law(spec: &DepthSpec) -> Option<f64> {
    relu_ntk(spec).then(|| (5.0 * spec.depth as f64 / spec.width as f64).exp())
}

/// Infinite-width correlation of the two inputs per layer `1..=L+1`. Layer 1 has `(C_W q c +
/// C_b) / (C_W q + C_b)`; each step maps `(K, K_xy)` by `K' = gamma^2 K + a <phi phi> + beta`.
pub fn correlation_theory(spec: &DepthSpec, input_correlation: f64) -> Vec<f64> {
    let (cw, cb, q) = (spec.weight_var, spec.bias_var, spec.q_input);
    let (mut k, mut kxy) = (cw * q + cb, cw * q * input_correlation + cb);
    let mut out = Vec::with_capacity(spec.depth + 1);
    for l in 1..=spec.depth + 1 {
        out.push(if k > 0.0 { kxy / k } else { 1.0 });
        let gamma = if l < spec.depth { spec.residual } else { 0.0 };
        let g2 = gamma * gamma;
        let (a, beta) = ((1.0 - g2) * cw, (1.0 - g2) * cb);
        // tanh's bivariate average by the Gauss–Hermite rule (1e-7 relative, see
        // `criticality::dual_hermite`): the adaptive one takes milliseconds per layer.
        let cross = if spec.activation == Activation::Tanh && k > 0.0 {
            crate::core::criticality::dual_hermite(spec.activation, k, kxy / k).0
        } else {
            crate::core::kernels::dual(spec.activation, k, k, kxy).value
        };
        let phi2 = crate::core::nearly_gaussian::averages(spec.activation, k).phi2;
        (k, kxy) = (g2 * k + a * phi2 + beta, g2 * kxy + a * cross + beta);
    }
    out
}

impl Ensemble {
    /// Validates the config and computes the theory; the networks on the CPU.
    pub fn new(config: &EnsembleConfig) -> Result<Self> {
        Ensemble::on(config, None)
    }

    /// The same ensemble with its networks on `gpu` when given (the same draws in f32), else on
    /// the CPU.
    pub fn on(config: &EnsembleConfig, gpu: Option<Arc<GpuContext>>) -> Result<Self> {
        config.validate()?;
        let spec = config.spec();
        let (corr, seed) = (config.input_correlation, config.seed);
        // An architecture whose numbers f32 cannot hold runs on the CPU, and says why.
        let (sampler, fallback) = match gpu.map(|ctx| GpuInitSampler::new(ctx, spec, corr, seed)) {
            Some(Ok(gpu)) => (Sampler::Gpu(gpu), None),
            Some(Err(why)) => (Sampler::Cpu(InitSampler::new(spec, corr, seed)), Some(why)),
            None => (Sampler::Cpu(InitSampler::new(spec, corr, seed)), None),
        };
        Ok(Ensemble {
            config: config.clone(),
            sampler,
            fallback: fallback.map(|e| e.to_string()),
            theory: layer_theory(&spec),
            correlation_theory: correlation_theory(&spec, config.input_correlation),
            layers: vec![LayerSums::default(); config.depth + 1],
            ntk: RatioSums::default(),
            output_values: Vec::new(),
            done: 0,
        })
    }

    /// Networks sampled so far.
    pub fn done(&self) -> usize {
        self.done
    }

    fn add(&mut self, s: &NetworkSample) {
        for (l, sums) in self.layers.iter_mut().enumerate() {
            sums.moments.add(s.fourth[l], s.second[l]);
            sums.cross += s.cross[l];
            sums.second_other += s.second_other[l];
            sums.gradient += s.gradient[l];
        }
        self.ntk.add(s.ntk * s.ntk, s.ntk);
        let room = HISTOGRAM_VALUES.saturating_sub(self.output_values.len());
        self.output_values
            .extend(s.output.iter().take(room).copied());
    }

    fn moments(&self, l: usize) -> MomentStats {
        let sums = &self.layers[l].moments;
        let (ratio, stderr) = if sums.count >= 2.0 {
            sums.ratio(3.0)
        } else {
            (f64::NAN, f64::NAN)
        };
        let t = &self.theory[l];
        let applies = recursion_applies(&self.config.spec());
        MomentStats {
            samples: self.done,
            second_moment: sums.b / sums.count,
            fourth_moment: sums.a / sums.count,
            kurtosis_ratio: ratio,
            stderr,
            theory: applies.then(|| t.kurtosis_ratio()),
            theory_leading: applies.then_some(t.kurtosis_ratio_leading),
            kernel: t.kernel,
        }
    }
}

impl Stepper for Ensemble {
    type Output = EnsembleResult;

    async fn step(&mut self) -> Result<Progress> {
        let per_network = (self.config.depth + 1) * self.config.width;
        let left = self.config.samples - self.done;
        let first = self.done as u32;
        let samples = match &self.sampler {
            Sampler::Cpu(sampler) => {
                let networks = (SLICE_WORK / per_network).max(1).min(left) as u32;
                (first..first + networks)
                    .map(|k| sampler.sample(k))
                    .collect()
            }
            Sampler::Gpu(sampler) => {
                let networks = (GPU_SLICE_WORK / per_network).max(1).min(left);
                let room = HISTOGRAM_VALUES.saturating_sub(self.output_values.len());
                let keep = room.div_ceil(self.config.width);
                sampler.sample(first, networks, keep).await?
            }
        };
        for s in &samples {
            self.add(s);
        }
        self.done += samples.len();
        Ok(Progress {
            done: self.done,
            total: self.config.samples,
        })
    }

    fn result(&self) -> EnsembleResult {
        let count = self.done.max(1) as f64;
        let layers: Vec<LayerStats> = (0..self.layers.len())
            .map(|l| {
                let sums = &self.layers[l];
                let m = self.moments(l);
                LayerStats {
                    layer: l + 1,
                    correlation: sums.cross / (sums.moments.b * sums.second_other).sqrt(),
                    correlation_theory: self.correlation_theory[l],
                    gradient_norm: sums.gradient / count,
                    gradient_theory: self.theory[l].gradient,
                    moments: m,
                }
            })
            .collect();
        let (ratio, stderr) = if self.done >= 2 {
            self.ntk.ratio(1.0)
        } else {
            (f64::NAN, f64::NAN)
        };
        EnsembleResult {
            config: self.config.clone(),
            output: self.moments(self.layers.len() - 1),
            layers,
            ntk: NtkStats {
                mean: self.ntk.b / count,
                ratio,
                stderr,
                theory: ntk_ratio_theory(&self.config.spec()),
                growth_law: ntk_growth_law(&self.config.spec()),
            },
            output_values: self.output_values.clone(),
            backend: match &self.sampler {
                Sampler::Cpu(_) => match &self.fallback {
                    Some(why) => format!("cpu (f64) instead of the GPU ({why})"),
                    None => "cpu (f64)".into(),
                },
                Sampler::Gpu(g) => format!("gpu: {} (f32)", g.adapter()),
            },
        }
    }
}
