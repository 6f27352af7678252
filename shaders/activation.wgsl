// Fused bias + activation (forward) and activation derivative (backward) over an ensemble of
// layers stored [member][row + col * rows]. Keep `ActivationParams` in sync with
// src/gpu/kernels.rs and the activation codes with `activation_code` there:
// 0 relu, 1 tanh, 2 erf, 3 gelu (exact x Phi(x)), 4 linear. phi and phi_prime come from
// shaders/phi.wgsl (prepended).

struct ActivationParams {
    rows: u32,        // layer width
    cols: u32,        // batch
    members: u32,     // ensemble size
    activation: u32,
    has_bias: u32,
    residual: u32,    // 1: h = h_prev + alpha phi(z)
    bias_multiplier: f32,
    alpha: f32,
}

@group(0) @binding(0) var<uniform> p: ActivationParams;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read> h_prev: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;

fn flat_index(wid: vec3<u32>, lid: u32, groups: vec3<u32>) -> u32 {
    return (wid.y * groups.x + wid.x) * 256u + lid;
}

// z += m_b b; h = phi(z), or h = h_prev + alpha phi(z) for residual blocks.
@compute @workgroup_size(256)
fn bias_activation(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = flat_index(wid, lid, groups);
    let per_member = p.rows * p.cols;
    if (t >= per_member * p.members || t >= arrayLength(&z)) {
        return;
    }
    let e = t / per_member;
    let row = (t % per_member) % p.rows;
    var value = z[t];
    if (p.has_bias == 1u) {
        value += p.bias_multiplier * bias[e * p.rows + row];
        z[t] = value;
    }
    if (p.residual == 1u) {
        h[t] = h_prev[t] + p.alpha * phi(p.activation, value);
    } else {
        h[t] = phi(p.activation, value);
    }
}

struct BackwardParams {
    count: u32,       // members * rows * cols
    activation: u32,
    scale: f32,       // alpha for residual blocks, else 1
    _pad: u32,
}

@group(0) @binding(0) var<uniform> q: BackwardParams;
@group(0) @binding(1) var<storage, read> pre: array<f32>;
@group(0) @binding(2) var<storage, read> grad_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad_pre: array<f32>;

// dz = scale * dh * phi'(z).
@compute @workgroup_size(256)
fn activation_backward(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = flat_index(wid, lid, groups);
    if (t >= q.count || t >= arrayLength(&grad_pre)) {
        return;
    }
    grad_pre[t] = q.scale * grad_out[t] * phi_prime(q.activation, pre[t]);
}

struct BiasGradParams {
    rows: u32,
    cols: u32,
    members: u32,
    multiplier: f32,
}

@group(0) @binding(0) var<uniform> r: BiasGradParams;
@group(0) @binding(1) var<storage, read> dz: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

// db[e, row] = m_b sum over the batch of dz[e, row, :].
@compute @workgroup_size(256)
fn bias_gradient(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = flat_index(wid, lid, groups);
    if (t >= r.rows * r.members || t >= arrayLength(&db)) {
        return;
    }
    let e = t / r.rows;
    let row = t % r.rows;
    let base = e * r.rows * r.cols + row;
    var sum = 0.0;
    for (var col = 0u; col < r.cols; col++) {
        sum += dz[base + col * r.rows];
    }
    db[t] = r.multiplier * sum;
}
