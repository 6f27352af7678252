// Per-sample loss and its gradient with respect to the output, then a per-member reduction.
// PyTorch's reductions: mse = mean over k * batch entries, cross-entropy = mean over samples.
// Outputs are [member][k + sample * k]; targets are shared by all members: class labels
// (u32 per sample) or values [k + sample * k]. Keep `LossParams` in sync with src/gpu/kernels.rs.

struct LossParams {
    k: u32,
    batch: u32,
    members: u32,
    cross_entropy: u32,   // 0: mse, 1: cross-entropy
    classes: u32,         // 1: targets are labels (one-hot for mse), 0: values
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: LossParams;
@group(0) @binding(1) var<storage, read> output: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<u32>;
@group(0) @binding(3) var<storage, read> values: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
// [member][sample]: (sum of the sample's loss terms, 1 if argmax == label else 0)
@group(0) @binding(5) var<storage, read_write> per_sample: array<vec2<f32>>;

fn target_at(sample: u32, row: u32) -> f32 {
    if (p.classes == 1u) {
        return select(0.0, 1.0, labels[sample] == row);
    }
    return values[sample * p.k + row];
}

@compute @workgroup_size(64)
fn loss_gradient(@builtin(global_invocation_id) gid: vec3<u32>) {
    let sample = gid.x;
    let e = gid.y;
    if (sample >= p.batch || e >= p.members) {
        return;
    }
    let base = e * p.k * p.batch + sample * p.k;
    // argmax (first maximum) for accuracy, and the max for a stable log-sum-exp
    var best = 0u;
    var top = output[base];
    for (var i = 1u; i < p.k; i++) {
        if (output[base + i] > top) {
            top = output[base + i];
            best = i;
        }
    }
    var correct = 0.0;
    if (p.classes == 1u && best == labels[sample]) {
        correct = 1.0;
    }
    var loss = 0.0;
    if (p.cross_entropy == 1u) {
        var sum = 0.0;
        for (var i = 0u; i < p.k; i++) {
            sum += exp(output[base + i] - top);
        }
        let lse = top + log(sum);
        let label = labels[sample];
        loss = lse - output[base + label];
        let scale = 1.0 / f32(p.batch);
        for (var i = 0u; i < p.k; i++) {
            let softmax = exp(output[base + i] - lse);
            grad[base + i] = scale * (softmax - select(0.0, 1.0, i == label));
        }
    } else {
        let scale = 2.0 / f32(p.k * p.batch);
        for (var i = 0u; i < p.k; i++) {
            let residual = output[base + i] - target_at(sample, i);
            loss += residual * residual;
            grad[base + i] = scale * residual;
        }
    }
    per_sample[e * p.batch + sample] = vec2<f32>(loss, correct);
}

// metrics[e] = (loss, accuracy) of member e.
@group(0) @binding(6) var<storage, read_write> metrics: array<vec2<f32>>;

@compute @workgroup_size(64)
fn loss_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if (e >= p.members) {
        return;
    }
    var total = vec2<f32>(0.0, 0.0);
    for (var s = 0u; s < p.batch; s++) {
        total += per_sample[e * p.batch + s];
    }
    var divisor = f32(p.batch);
    if (p.cross_entropy == 0u) {
        divisor = f32(p.k * p.batch);
    }
    metrics[e] = vec2<f32>(total.x / divisor, total.y / f32(p.batch));
}
