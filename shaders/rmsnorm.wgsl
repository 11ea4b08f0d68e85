// rmsnorm: per row t of x (T, C)
//   RESIDUAL: x[t] += r[t]  (written back: the residual stream)
//   y[t, c] = x[t, c] / sqrt(mean_c(x[t]²) + eps) * w[c]
// Llama / Phi-3 RMSNorm; the residual add is fused so the stream is read once.
//
// bindings: 0 Params { rows T, cols C, eps }
//           1 x: (T, C) f32, read_write when RESIDUAL else read
//           2 r: (T, C) f32 residual            (RESIDUAL only)
//           2|3 w: (C) f32 weight
//           3|4 y: (T, C) f32 output
// grid: Grid1D(T) workgroups of WG threads; one workgroup per row, a tree
// reduction over WG partial sums in workgroup memory.

var<workgroup> partial: array<f32, WG>;

fn row_sum(lid: u32, v: f32) -> f32 {
    partial[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = partial[lid] + partial[lid + s];
        }
        workgroupBarrier();
    }
    let total = partial[0];
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
    var ss = 0.0;
    for (var c = lid; c < P.cols; c = c + WG) {
        var v = x[base + c];
        if (RESIDUAL) {
            v = v + load_r(base + c);
            store_x(base + c, v);
        }
        ss = ss + v * v;
    }
    let total = row_sum(lid, ss);
    let inv = inverseSqrt(total / f32(P.cols) + P.eps);
    for (var c = lid; c < P.cols; c = c + WG) {
        y[base + c] = x_after(base + c) * inv * w[c];
    }
}
