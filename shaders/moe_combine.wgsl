// moe_combine: the MoE scatter-combine, written as a gather on the output
// side so that each output element is summed by one thread in a fixed order
// (deterministic, no atomics). For each token t and column c:
//   s = Σ_j gates[t, j] · y[slot[t·K + j], c]     (j ascending, from j = 0)
//   out[t, c] = out[t, c] + s
// out already holds the residual plus the shared expert's output; y holds
// the expert FFN outputs in moe_plan's gathered order (row i of y belongs to
// token perm[i]); slot and gates come from moe_plan and moe_route.
//
// bindings: 0 Params { tokens T, cols C (a multiple of VW), k K }
//           1 gates: (T, K) f32
//           2 slot:  (T·K) u32
//           3 y:     (T·K, C) f32, as array<f32> (VW = 1) or array<vec4<f32>> (VW = 4)
//           4 out:   (T, C) f32, read_write, same element type as y
// grid: Grid1D(T) workgroups of WG threads, one workgroup per token; the
// threads stride over the row's C / VW elements.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = wid.x + wid.y * nwg.x;
    if (t >= P.tokens) {
        return;
    }
    let w = P.cols / VW;
    let a = t * P.k;
    for (var c = lid.x; c < w; c = c + WG) {
        var s = gates[a] * y[slot[a] * w + c];
        for (var j = 1u; j < P.k; j = j + 1u) {
            s = s + gates[a + j] * y[slot[a + j] * w + c];
        }
        out[t * w + c] = out[t * w + c] + s;
    }
}
