// Batched strided matrix product: for each ensemble member e (workgroup z),
//   C[e] = alpha * A[e] * B[e] + beta * C[e],   A: m x k, B: k x n, C: m x n.
// Element (i, j) of X[e] sits at X_offset + e * X_batch + i * X_row + j * X_col, so transposes
// and shared operands (batch stride 0) cost nothing.
// Keep in sync with `MatmulParams` in src/gpu/kernels.rs.

struct MatmulParams {
    m: u32,
    n: u32,
    k: u32,
    a_row: u32,
    a_col: u32,
    a_batch: u32,
    b_row: u32,
    b_col: u32,
    b_batch: u32,
    c_row: u32,
    c_col: u32,
    c_batch: u32,
    alpha: f32,
    beta: f32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: MatmulParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn store(e: u32, i: u32, j: u32, acc: f32) {
    let at = e * p.c_batch + i * p.c_row + j * p.c_col;
    if (p.beta == 0.0) {
        c[at] = p.alpha * acc;
    } else {
        c[at] = p.alpha * acc + p.beta * c[at];
    }
}

// One thread per output element: the reference kernel.
@compute @workgroup_size(16, 16, 1)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y;
    let j = gid.x;
    let e = gid.z;
    if (i >= p.m || j >= p.n) {
        return;
    }
    var acc = 0.0;
    let a0 = e * p.a_batch + i * p.a_row;
    let b0 = e * p.b_batch + j * p.b_col;
    for (var t = 0u; t < p.k; t++) {
        acc += a[a0 + t * p.a_col] * b[b0 + t * p.b_row];
    }
    store(e, i, j, acc);
}

// Register blocking: each thread computes a 4 x 4 block of C, so every loaded value of A and B
// is used four times from registers; a 16 x 16 workgroup covers a 64 x 64 tile.
@compute @workgroup_size(16, 16, 1)
fn matmul_blocked(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i0 = gid.y * 4u;
    let j0 = gid.x * 4u;
    let e = gid.z;
    if (i0 >= p.m || j0 >= p.n) {
        return;
    }
    var acc: array<vec4<f32>, 4>;
    let a0 = e * p.a_batch;
    let b0 = e * p.b_batch;
    // Rows and columns past the edge read a clamped index and are never stored.
    let last_i = p.m - 1u;
    let last_j = p.n - 1u;
    for (var t = 0u; t < p.k; t++) {
        let at = a0 + t * p.a_col;
        let av = vec4<f32>(
            a[at + min(i0, last_i) * p.a_row],
            a[at + min(i0 + 1u, last_i) * p.a_row],
            a[at + min(i0 + 2u, last_i) * p.a_row],
            a[at + min(i0 + 3u, last_i) * p.a_row],
        );
        let bt = b0 + t * p.b_row;
        let bv = vec4<f32>(
            b[bt + min(j0, last_j) * p.b_col],
            b[bt + min(j0 + 1u, last_j) * p.b_col],
            b[bt + min(j0 + 2u, last_j) * p.b_col],
            b[bt + min(j0 + 3u, last_j) * p.b_col],
        );
        acc[0] += av.x * bv;
        acc[1] += av.y * bv;
        acc[2] += av.z * bv;
        acc[3] += av.w * bv;
    }
    for (var r = 0u; r < 4u; r++) {
        let i = i0 + r;
        if (i < p.m) {
            for (var s = 0u; s < 4u; s++) {
                let j = j0 + s;
                if (j < p.n) {
                    store(e, i, j, acc[r][s]);
                }
            }
        }
    }
}

// Workgroup-memory tiling: a 16 x 16 workgroup stages 16 x 16 tiles of A and B in shared
// memory and each thread computes one element of C.
var<workgroup> tile_a: array<array<f32, 16>, 16>;
var<workgroup> tile_b: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16, 1)
fn matmul_tiled(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    let i = gid.y;
    let j = gid.x;
    let e = gid.z;
    let a0 = e * p.a_batch;
    let b0 = e * p.b_batch;
    var acc = 0.0;
    let tiles = (p.k + 15u) / 16u;
    for (var tile = 0u; tile < tiles; tile++) {
        let ta = tile * 16u + lid.x;
        let tb = tile * 16u + lid.y;
        var va = 0.0;
        if (i < p.m && ta < p.k) {
            va = a[a0 + i * p.a_row + ta * p.a_col];
        }
        var vb = 0.0;
        if (j < p.n && tb < p.k) {
            vb = b[b0 + tb * p.b_row + j * p.b_col];
        }
        tile_a[lid.y][lid.x] = va;
        tile_b[lid.y][lid.x] = vb;
        workgroupBarrier();
        for (var t = 0u; t < 16u; t++) {
            acc += tile_a[lid.y][t] * tile_b[t][lid.x];
        }
        workgroupBarrier();
    }
    if (i < p.m && j < p.n) {
        store(e, i, j, acc);
    }
}
