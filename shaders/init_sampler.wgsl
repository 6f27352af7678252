// Random networks at initialization, sampled exactly in law in O(n) per layer: the GPU twin of
// src/core/init_sampler.rs (read its doc for the algorithm), one workgroup per network, every
// draw the counter-based normal of src/core/counter_rng.rs. phi and phi_prime come from
// shaders/phi.wgsl (prepended). Keep `SamplerParams` in sync with src/gpu/init_sampler.rs.

struct SamplerParams {
    depth: u32,            // hidden layers L; layers = L + 1
    width: u32,            // n
    activation: u32,       // codes of shaders/phi.wgsl
    first_network: u32,    // index of this dispatch's first network
    key: u32,              // counter_rng::seed_key(seed)
    keep_outputs: u32,     // networks (from the first of the dispatch) whose readout is written
    _pad0: u32,
    _pad1: u32,
    q_input: f32,
    input_correlation: f32,
    weight_var: f32,
    bias_var: f32,
    residual: f32,
    _pad2: f32,
    _pad3: f32,
    _pad4: f32,
}

@group(0) @binding(0) var<uniform> p: SamplerParams;
// Per network: pre-activations z^(l) (layers x n), the basis and draws of each step (4 x layers
// x n: e1, e2, u1, u2), then z' (n), delta (n), the next delta (n), and per step whether it
// has a second direction e2 (layers).
@group(0) @binding(1) var<storage, read_write> scratch: array<f32>;
// Per network: second, fourth, cross, second_other, gradient (layers each), then Theta.
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> outputs: array<f32>;

const THREADS: u32 = 64u;
const SLOTS: u32 = 8u;
var<workgroup> red: array<vec4<f32>, 64>;

fn pcg4d(input: vec4<u32>) -> vec4<u32> {
    var v = input * 1664525u + 1013904223u;
    v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
    v = v ^ (v >> vec4<u32>(16u));
    v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
    return v;
}

// (cos t, sin t) for t in [-pi, pi), to f32 rounding on every device (WGSL lets cos and sin
// err by 2^-11, and SwiftShader's do by 2e-4): Taylor series of the half angle u = t / 2 in
// [-pi/2, pi/2) to degrees 12 and 11 (next terms below 6e-8), then the double-angle formulas.
fn cos_sin(t: f32) -> vec2<f32> {
    let u = 0.5 * t;
    let v = u * u;
    let s = u * (1.0 + v * (-1.0 / 6.0 + v * (1.0 / 120.0 + v * (-1.0 / 5040.0
        + v * (1.0 / 362880.0 + v * (-1.0 / 39916800.0))))));
    let c = 1.0 + v * (-0.5 + v * (1.0 / 24.0 + v * (-1.0 / 720.0 + v * (1.0 / 40320.0
        + v * (-1.0 / 3628800.0 + v * (1.0 / 479001600.0))))));
    return vec2<f32>(c * c - s * s, 2.0 * s * c);
}

// counter_rng::normal_pair in f32.
fn normal_pair(network: u32, layer: u32, neuron: u32, slot: u32) -> vec2<f32> {
    let h = pcg4d(vec4<u32>(network, neuron, layer * SLOTS + slot, p.key));
    let u1 = f32((h.x >> 8u) + 1u) / 16777216.0;
    let u2 = f32(h.y >> 8u) / 16777216.0;
    // WGSL's log may err by 2^-21 near 1, where -log(u1) is as small: keep it non-negative.
    let radius = sqrt(max(-2.0 * log(u1), 0.0));
    let angle = 6.283185307179586 * u2 - 3.141592653589793;
    return radius * cos_sin(angle);
}

// Sum of v over the workgroup (called by every thread).
fn reduce(lid: u32, v: vec4<f32>) -> vec4<f32> {
    red[lid] = v;
    workgroupBarrier();
    for (var s = THREADS / 2u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            red[lid] = red[lid] + red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

// The branch variance a, bias variance beta and skip gamma of step l -> l + 1 (l = 0: input).
fn step_params(l: u32) -> vec3<f32> {
    var gamma = 0.0;
    if (l >= 1u && l < p.depth) {
        gamma = p.residual;
    }
    let keep = 1.0 - gamma * gamma;
    return vec3<f32>(keep * p.weight_var, keep * p.bias_var, gamma);
}

@compute @workgroup_size(64)
fn sample_networks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let n = p.width;
    let layers = p.depth + 1u;
    let local = wid.x;
    let network = p.first_network + local;
    let per_net = (5u * layers + 3u) * n + layers;
    let base = local * per_net;
    let z_at = base;                       // + l * n + i
    let e1_at = base + layers * n;
    let e2_at = base + 2u * layers * n;
    let u1_at = base + 3u * layers * n;
    let u2_at = base + 4u * layers * n;
    let zo_at = base + 5u * layers * n;
    let d_at = zo_at + n;
    let next_at = d_at + n;
    let flag_at = next_at + n;
    let st = local * (5u * layers + 1u);
    let nf = f32(n);

    // Layer 1 from the input: covariance C_W q [[1, c], [c, 1]] per neuron, plus the bias.
    let s0 = step_params(0u);
    let s = sqrt(s0.x * p.q_input);
    let c = p.input_correlation;
    let perp = sqrt(max(1.0 - c * c, 0.0));
    var acc = vec4<f32>(0.0);
    for (var i = lid; i < n; i += THREADS) {
        let g = normal_pair(network, 0u, i, 0u);
        let b = sqrt(s0.y) * normal_pair(network, 0u, i, 1u).x;
        let z = s * g.x + b;
        let zo = s * (c * g.x + perp * g.y) + b;
        scratch[z_at + i] = z;
        scratch[zo_at + i] = zo;
        acc += vec4<f32>(z * z, z * z * z * z, z * zo, zo * zo);
    }
    acc = reduce(lid, acc) / nf;
    if (lid == 0u) {
        stats[st] = acc.x;
        stats[st + layers] = acc.y;
        stats[st + 2u * layers] = acc.z;
        stats[st + 3u * layers] = acc.w;
    }
    // Theta's terms: the forward weights (C_W |x|^2 / n_0 + C_b, then a |h|^2 / n + beta),
    // kept in the stats' gradient slots until the backward pass multiplies them in.
    let weight_first = s0.x * p.q_input + s0.y;

    for (var l = 1u; l < layers; l++) {
        let sp = step_params(l);
        let below = z_at + (l - 1u) * n;
        // |h|^2 and, after e1, h'.e1.
        var part = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let h = phi(p.activation, scratch[below + i]);
            part.x += h * h;
        }
        let h_norm2 = reduce(lid, part).x;
        let h_norm = sqrt(h_norm2);
        part = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let h = phi(p.activation, scratch[below + i]);
            var e1 = 0.0;
            if (h_norm > 0.0) {
                e1 = h / h_norm;
            }
            scratch[e1_at + l * n + i] = e1;
            part.x += phi(p.activation, scratch[zo_at + i]) * e1;
        }
        let along = reduce(lid, part).x;
        part = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let rest = phi(p.activation, scratch[zo_at + i]) - along * scratch[e1_at + l * n + i];
            scratch[e2_at + l * n + i] = rest;
            part.x += rest * rest;
        }
        let rest_norm = sqrt(reduce(lid, part).x);
        // h' parallel to h to 1e-4: no second direction (init_sampler::PARALLEL, as the CPU).
        let has_e2 = rest_norm > 1e-4 * (h_norm + abs(along));
        let sd = sqrt(sp.x / nf);
        acc = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            var e2 = 0.0;
            if (has_e2) {
                e2 = scratch[e2_at + l * n + i] / rest_norm;
            }
            scratch[e2_at + l * n + i] = e2;
            let g = normal_pair(network, l, i, 0u);
            let u1 = sd * g.x;
            let u2 = sd * g.y;
            scratch[u1_at + l * n + i] = u1;
            scratch[u2_at + l * n + i] = u2;
            let b = sqrt(sp.y) * normal_pair(network, l, i, 1u).x;
            var w_ho = along * u1;
            if (has_e2) {
                w_ho += rest_norm * u2;
            }
            let z = sp.z * scratch[below + i] + h_norm * u1 + b;
            let zo = sp.z * scratch[zo_at + i] + w_ho + b;
            scratch[z_at + l * n + i] = z;
            scratch[zo_at + i] = zo;
            acc += vec4<f32>(z * z, z * z * z * z, z * zo, zo * zo);
        }
        acc = reduce(lid, acc) / nf;
        if (lid == 0u) {
            stats[st + l] = acc.x;
            stats[st + layers + l] = acc.y;
            stats[st + 2u * layers + l] = acc.z;
            stats[st + 3u * layers + l] = acc.w;
            // Forward weight of layer l + 1's Theta term.
            stats[st + 4u * layers + l] = sp.x * h_norm2 / nf + sp.y;
            scratch[flag_at + l] = select(0.0, 1.0, has_e2);
        }
        workgroupBarrier();
    }
    // The readout, for the histogram.
    if (local < p.keep_outputs) {
        for (var i = lid; i < n; i += THREADS) {
            outputs[local * n + i] = scratch[z_at + (layers - 1u) * n + i];
        }
    }

    // Backward from f = z^(L+1)_1: delta = e_1.
    for (var i = lid; i < n; i += THREADS) {
        scratch[d_at + i] = select(0.0, 1.0, i == 0u);
    }
    storageBarrier();
    workgroupBarrier();
    // The readout's term: its forward weight times |delta^(L+1)|^2 = 1 (thread 0 keeps Theta).
    var theta = 0.0;
    if (lid == 0u) {
        theta = stats[st + 4u * layers + layers - 1u];
    }
    for (var l = layers - 1u; l >= 1u; l--) {
        let sp = step_params(l);
        let has_e2 = scratch[flag_at + l] > 0.5;
        workgroupBarrier();
        // |delta|^2, then xi . e1, u1 . delta, xi . e2, u2 . delta.
        var part = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let d = scratch[d_at + i];
            part.x += d * d;
        }
        let delta_norm2 = reduce(lid, part).x;
        let sd = sqrt(sp.x / nf * delta_norm2);
        var dots = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let xi = sd * normal_pair(network, l, i, 1u).y;
            let d = scratch[d_at + i];
            dots += vec4<f32>(
                xi * scratch[e1_at + l * n + i],
                scratch[u1_at + l * n + i] * d,
                xi * scratch[e2_at + l * n + i],
                scratch[u2_at + l * n + i] * d,
            );
        }
        dots = reduce(lid, dots);
        part = vec4<f32>(0.0);
        for (var i = lid; i < n; i += THREADS) {
            let xi = sd * normal_pair(network, l, i, 1u).y;
            var back = xi + (dots.y - dots.x) * scratch[e1_at + l * n + i];
            if (has_e2) {
                back += (dots.w - dots.z) * scratch[e2_at + l * n + i];
            }
            let zb = scratch[z_at + (l - 1u) * n + i];
            let d = sp.z * scratch[d_at + i] + phi_prime(p.activation, zb) * back;
            scratch[next_at + i] = d;
            part.x += d * d;
        }
        let gradient = reduce(lid, part).x;
        for (var i = lid; i < n; i += THREADS) {
            scratch[d_at + i] = scratch[next_at + i];
        }
        workgroupBarrier();
        // Layer l's gradient |delta^l|^2 (1-based l) times its Theta term's forward weight,
        // read before thread 0 overwrites that slot with the gradient.
        if (lid == 0u) {
            let weight = select(stats[st + 4u * layers + l - 1u], weight_first, l == 1u);
            theta += weight * gradient;
            stats[st + 4u * layers + l - 1u] = gradient;
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        stats[st + 4u * layers + layers - 1u] = 1.0;
        stats[st + 5u * layers] = theta;
    }
}
