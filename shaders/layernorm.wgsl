// layernorm: per row t of x (T, C), CLIP's pre-LN
//   y[t, c] = (x[t, c] − μ_t) / sqrt(σ²_t + eps) · w[c] + b[c]
// with μ and σ² by the corrected two-pass algorithm (Chan, Golub & LeVeque
// 1983), all in f32:
//   m = Σ x / C                         a first mean, off by the rounding of the sum
//   d = Σ (x − m),  q = Σ (x − m)²      one pass, two sums
//   δ = d / C,      σ² = q / C − δ²     δ is what m lost: μ = m + δ
//   x − μ = (x − m) − δ                 never formed as x − (m + δ)
// A row with a large common offset (CLIP's residual stream has channels in
// the hundreds) keeps its small deviations: x − m is exact when x and m are
// close, and δ, a sum of small terms, is accurate, whereas m + δ would round
// back to m's grid. Σ(x − m)² cannot go negative the way E[x²] − E[x]² does.
//
// bindings: 0 Params { rows T, cols C, eps }
//           1 x: (T, C) f32   2 w: (C) f32 γ   3 b: (C) f32 β
//           4 y: (T, C) f32 output
// grid: Grid1D(T) workgroups of WG threads; one workgroup per row, tree
// reductions over WG partial sums (both of the second pass at once, as a vec2).

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<vec2<f32>, WG>;

fn row_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = partial[lid] + partial[lid + s];
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
    let n = f32(P.cols);
    var s = 0.0;
    for (var c = lid; c < P.cols; c = c + WG) {
        s = s + x[base + c];
    }
    let m = row_sum2(lid, vec2<f32>(s, 0.0)).x / n;
    var dq = vec2<f32>(0.0, 0.0);
    for (var c = lid; c < P.cols; c = c + WG) {
        let v = x[base + c] - m;
        dq = dq + vec2<f32>(v, v * v);
    }
    let tot = row_sum2(lid, dq);
    let delta = tot.x / n;
    let variance = max(tot.y / n - delta * delta, 0.0);
    let inv = inverseSqrt(variance + P.eps);
    for (var c = lid; c < P.cols; c = c + WG) {
        y[base + c] = ((x[base + c] - m) - delta) * inv * w[c] + b[c];
    }
}
