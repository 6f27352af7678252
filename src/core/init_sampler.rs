//! Random networks at initialization, sampled exactly in law at a fixed input (and a second
//! input) in O(n) per layer instead of drawing the n x n weight matrices.
//!
//! Given layer l, the next layer's preactivations at two inputs depend on `W` only through
//! `W e_1` and `W e_2`, with `(e_1, e_2)` an orthonormal basis of `span(phi(z), phi(z'))`: two
//! independent `N(0, a / n I)` vectors. So `W phi(z) = |phi(z)| u_1` and `W phi(z') = (phi(z') .
//! e_1) u_1 + |phi(z')_perp| u_2`, exactly. The backward pass needs `W^T delta = e_1 (u_1 .
//! delta) + e_2 (u_2 . delta) + P_perp xi` where `W P_perp` is independent of everything the
//! forward pass saw, so `xi ~ N(0, (a / n) |delta|^2 I)` is drawn fresh (the same
//! decomposition as Gaussian conditioning in Hanin & Nica 2019, section 3). The result has the
//! distribution of a network with explicit weights; `tests/depth.rs` checks it against one.
//!
//! Conventions: [`super::nearly_gaussian`] (PDLT's, with an optional skip gamma); the tangent
//! kernel is taken in the NTK parametrization, `Theta(x, x) = sum_l (a_l |phi(z^(l-1))|^2 /
//! n_(l-1) + beta_l) |d f / d z^(l)|^2` with `f = z^(L+1)_1` and `phi(z^(0)) = x`, which is
//! neural-tangents' NTK for gamma = 0.

use super::activation::Activation;
use super::counter_rng::{normal_pairs, seed_key};
use super::nearly_gaussian::DepthSpec;

/// One sampled network's statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NetworkSample {
    /// Per layer `l = 1..=L+1`: `mean_i z_i^2` at the first input.
    pub second: Vec<f64>,
    /// Per layer: `mean_i z_i^4` at the first input.
    pub fourth: Vec<f64>,
    /// Per layer: `mean_i z_i z'_i` over the two inputs.
    pub cross: Vec<f64>,
    /// Per layer: `mean_i z'_i^2` at the second input.
    pub second_other: Vec<f64>,
    /// Per layer: `|d f / d z^(l)|^2`.
    pub gradient: Vec<f64>,
    /// `Theta(x, x)`.
    pub ntk: f64,
    /// The readout `z^(L+1)` at the first input.
    pub output: Vec<f64>,
}

/// Samples networks of one architecture at inputs with `|x|^2 / n_0 = |x'|^2 / n_0 =
/// q_input` and correlation `input_correlation`.
///
/// Every draw is a counter-based normal ([`super::counter_rng`]) keyed by the network's index,
/// the layer, the neuron and a slot, so `shaders/init_sampler.wgsl` draws the same networks:
/// slot 0 of layer index 0 gives the input directions `(g1, g2)` and slot 1 its bias; slot 0 of
/// step `l` gives `(u1_i, u2_i)`, slot 1 its bias and the backward pass's `xi_i`.
#[derive(Clone, Debug)]
pub struct InitSampler {
    spec: DepthSpec,
    input_correlation: f64,
    key: u32,
}

/// Below this relative size the part of `phi(z')` perpendicular to `phi(z)` is dropped (the
/// second input then moves with the first): the sampler is exact in law to this relative
/// accuracy when the two inputs' activations are nearly parallel, and exact otherwise.
pub const PARALLEL: f64 = 1e-4;

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// One step's branch variances `(a, beta)` and skip gamma into layer `l + 1` (1-based `l`; `l =
/// 0` is the input layer).
fn step(spec: &DepthSpec, l: usize) -> (f64, f64, f64) {
    let gamma = if l >= 1 && l < spec.depth {
        spec.residual
    } else {
        0.0
    };
    let keep = 1.0 - gamma * gamma;
    (keep * spec.weight_var, keep * spec.bias_var, gamma)
}

impl InitSampler {
    /// A sampler of networks drawn from `seed` (the spec is checked by the experiment's config).
    pub fn new(spec: DepthSpec, input_correlation: f64, seed: u64) -> Self {
        InitSampler {
            spec,
            input_correlation,
            key: seed_key(seed),
        }
    }

    /// Draws network number `network`.
    pub fn sample(&self, network: u32) -> NetworkSample {
        let draw = |layer: usize, slot: u32| {
            normal_pairs(self.key, network, layer as u32, slot, self.spec.width)
        };
        let spec = &self.spec;
        let n = spec.width;
        let layers = spec.depth + 1;
        let act: Activation = spec.activation;
        let mut out = NetworkSample {
            second: Vec::with_capacity(layers),
            fourth: Vec::with_capacity(layers),
            cross: Vec::with_capacity(layers),
            second_other: Vec::with_capacity(layers),
            gradient: vec![0.0; layers],
            ..NetworkSample::default()
        };
        // Per step l -> l+1 (0-based index l): the basis coordinates and draws the backward
        // pass reuses.
        struct Saved {
            e1: Vec<f64>,
            e2: Option<Vec<f64>>,
            u1: Vec<f64>,
            u2: Vec<f64>,
            xi: Vec<f64>,
        }
        let mut saved: Vec<Saved> = Vec::with_capacity(layers);
        let mut pre: Vec<Vec<f64>> = Vec::with_capacity(layers);
        // Layer 1 from the input: W x and W x' have per-neuron covariance C_W q [[1, c], [c, 1]].
        let (a, beta, _) = step(spec, 0);
        let q = spec.q_input;
        let c = self.input_correlation;
        let s = (a * q).sqrt();
        let perp = (1.0 - c * c).max(0.0).sqrt();
        let mut z = Vec::with_capacity(n);
        let mut z_other = Vec::with_capacity(n);
        let ((g1s, g2s), (bs, _)) = (draw(0, 0), draw(0, 1));
        for i in 0..n {
            let (g1, g2) = (g1s[i], g2s[i]);
            let b = beta.sqrt() * bs[i];
            z.push(s * g1 + b);
            z_other.push(s * (c * g1 + perp * g2) + b);
        }
        let record = |out: &mut NetworkSample, z: &[f64], z_other: &[f64]| {
            let k = z.len() as f64;
            out.second.push(z.iter().map(|v| v * v).sum::<f64>() / k);
            out.fourth
                .push(z.iter().map(|v| (v * v) * (v * v)).sum::<f64>() / k);
            out.cross.push(dot(z, z_other) / k);
            out.second_other
                .push(z_other.iter().map(|v| v * v).sum::<f64>() / k);
        };
        record(&mut out, &z, &z_other);
        // Theta's first-layer term: (C_W |x|^2 / n_0 + C_b) |delta^1|^2.
        let mut ntk_weights = vec![a * q + beta];
        for l in 1..layers {
            let (a, beta, gamma) = step(spec, l);
            let h: Vec<f64> = z.iter().map(|&v| act.apply(v)).collect();
            let h_other: Vec<f64> = z_other.iter().map(|&v| act.apply(v)).collect();
            let h_norm2 = dot(&h, &h);
            let h_norm = h_norm2.sqrt();
            let sd = (a / n as f64).sqrt();
            let (mut u1, mut u2) = draw(l, 0);
            u1.iter_mut().chain(u2.iter_mut()).for_each(|u| *u *= sd);
            // Gram-Schmidt of h' against h.
            let e1: Vec<f64> = if h_norm > 0.0 {
                h.iter().map(|v| v / h_norm).collect()
            } else {
                vec![0.0; n]
            };
            let along = dot(&h_other, &e1);
            let rest: Vec<f64> = h_other
                .iter()
                .zip(&e1)
                .map(|(v, e)| v - along * e)
                .collect();
            let rest_norm = dot(&rest, &rest).sqrt();
            // h' parallel to h to 1e-4 (the same test as the GPU's, where f32 rounding makes a
            // smaller perpendicular part noise): u2 does not enter the forward pass.
            let e2 = (rest_norm > PARALLEL * (h_norm + along.abs()))
                .then(|| rest.iter().map(|v| v / rest_norm).collect::<Vec<f64>>());
            let mut z_next = Vec::with_capacity(n);
            let mut z_other_next = Vec::with_capacity(n);
            // The bias and the backward pass's xi: one pair per neuron.
            let (g_b, xi) = draw(l, 1);
            for i in 0..n {
                let b = beta.sqrt() * g_b[i];
                let w_h = h_norm * u1[i];
                let w_h_other = along * u1[i] + if e2.is_some() { rest_norm * u2[i] } else { 0.0 };
                z_next.push(gamma * z[i] + w_h + b);
                z_other_next.push(gamma * z_other[i] + w_h_other + b);
            }
            ntk_weights.push(a * h_norm2 / n as f64 + beta);
            saved.push(Saved { e1, e2, u1, u2, xi });
            pre.push(std::mem::replace(&mut z, z_next));
            z_other = z_other_next;
            record(&mut out, &z, &z_other);
        }
        out.output = z;
        // Backward from f = z^(L+1)_1.
        let mut delta = vec![0.0; n];
        delta[0] = 1.0;
        out.gradient[layers - 1] = 1.0;
        for l in (1..layers).rev() {
            let (a, _, gamma) = step(spec, l);
            let s = &saved[l - 1];
            let delta_norm2 = dot(&delta, &delta);
            let sd = (a / n as f64 * delta_norm2).sqrt();
            let xi: Vec<f64> = s.xi.iter().map(|g| sd * g).collect();
            // W^T delta = e1 (u1 . delta) + e2 (u2 . delta) + P_perp xi.
            let mut back: Vec<f64> = xi.clone();
            let xi_e1 = dot(&xi, &s.e1);
            let u1_delta = dot(&s.u1, &delta);
            for (b, e) in back.iter_mut().zip(&s.e1) {
                *b += (u1_delta - xi_e1) * e;
            }
            if let Some(e2) = &s.e2 {
                let xi_e2 = dot(&xi, e2);
                let u2_delta = dot(&s.u2, &delta);
                for (b, e) in back.iter_mut().zip(e2) {
                    *b += (u2_delta - xi_e2) * e;
                }
            }
            let below = &pre[l - 1];
            delta = below
                .iter()
                .zip(&back)
                .zip(&delta)
                .map(|((&zv, &wb), &d)| gamma * d + act.derivative(zv) * wb)
                .collect();
            out.gradient[l - 1] = dot(&delta, &delta);
        }
        out.ntk = ntk_weights
            .iter()
            .zip(&out.gradient)
            .map(|(w, g)| w * g)
            .sum();
        out
    }
}
