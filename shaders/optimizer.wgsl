// Parameter updates with PyTorch's rules, one dispatch per tensor (all ensemble members).
// Keep `OptimizerParams` in sync with src/gpu/kernels.rs.
//   SGD:  g += wd w; v = mu v + g; w -= lr v
//   Adam: g += wd w; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//         w -= (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)

struct OptimizerParams {
    count: u32,
    adam: u32,
    lr: f32,            // base rate times the tensor's n^-c
    momentum: f32,
    weight_decay: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    correction1: f32,   // 1 - beta1^t
    sqrt_correction2: f32, // sqrt(1 - beta2^t)
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: OptimizerParams;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(256)
fn update(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let t = (wid.y * groups.x + wid.x) * 256u + lid;
    if (t >= p.count || t >= arrayLength(&w)) {
        return;
    }
    let grad = g[t] + p.weight_decay * w[t];
    if (p.adam == 1u) {
        let first = p.beta1 * m[t] + (1.0 - p.beta1) * grad;
        let second = p.beta2 * v[t] + (1.0 - p.beta2) * grad * grad;
        m[t] = first;
        v[t] = second;
        w[t] -= (p.lr / p.correction1) * first / (sqrt(second) / p.sqrt_correction2 + p.eps);
    } else {
        let velocity = p.momentum * m[t] + grad;
        m[t] = velocity;
        w[t] -= p.lr * velocity;
    }
}
