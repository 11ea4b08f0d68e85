// softmax: per row t of x (T, N), with a scale s (1/√d for scores, 1 for
// router logits, 1/temperature):
//   y[t, j] = exp(s·x[t, j] − m_t) / Σ_k exp(s·x[t, k] − m_t),  m_t = max_k s·x[t, k]
// The max is taken of s·x, not x, so a negative s is handled too. Every
// exponent is ≤ 0: nothing overflows, and the largest term is exactly 1, so
// the sum is ≥ 1. Masked entries must be finite (e.g. −1e30 with s·x finite):
// −inf is not portable in WGSL, where implementations may assume no infinities.
//
// bindings: 0 Params { rows T, cols N, scale s }
//           1 x: (T, N) f32   2 y: (T, N) f32 output
// grid: Grid1D(T) workgroups of WG threads; one workgroup per row. Three
// passes: the max, then exp written to y and summed, then y scaled by
// 1/sum; each thread re-reads only what it wrote, so y needs no barrier.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

// The most negative finite f32: the identity of max for finite inputs.
const LOWEST: f32 = -3.4028234663852886e38;

fn row_reduce(lid: u32, v: f32, is_max: bool) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            let o = partial[lid + s];
            partial[lid] = select(partial[lid] + o, max(partial[lid], o), is_max);
        }
        workgroupBarrier();
    }
    let total = partial[0];
    // Nobody may overwrite partial (the next reduction) before all have read it.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= P.rows) {
        return;
    }
    let lid = lid3.x;
    let base = row * P.cols;
    var m = LOWEST;
    for (var c = lid; c < P.cols; c = c + WG) {
        m = max(m, P.scale * x[base + c]);
    }
    m = row_reduce(lid, m, true);
    var s = 0.0;
    for (var c = lid; c < P.cols; c = c + WG) {
        let e = exp(P.scale * x[base + c] - m);
        y[base + c] = e;
        s = s + e;
    }
    let inv = 1.0 / row_reduce(lid, s, false);
    for (var c = lid; c < P.cols; c = c + WG) {
        y[base + c] = y[base + c] * inv;
    }
}
