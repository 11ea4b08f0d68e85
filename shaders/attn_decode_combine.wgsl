// attn_decode_combine: merges the S partial results of split-K decode
// attention (attn_decode with SPLIT) for each head h:
//   M = max_s m_s,  w_s = exp2(m_s − M)
//   out[h,:] = Σ_s w_s · acc_s / Σ_s w_s · l_s
// An empty split (m = −1e30, l = 0, acc = 0) gets weight 0. m is in the log2
// domain, as attn_decode writes it.
//
// bindings: 0 Params { h, splits, o_off }
//           1 part: f32 as vec4, read; record (h, s) of DH + 4 floats at
//                   (h·splits + s)·(DH + 4): acc[DH], then (m, l, 0, 0)
//           2 o: f32 as vec4, read_write; head h at o_off + h·DH
// grid: (H, 1, 1) workgroups of DH4 threads; thread d4 owns dims 4·d4..4·d4+3.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> o: array<vec4<f32>>;

const NEG_BIG: f32 = -1.0e30;

@compute @workgroup_size(DH4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let h = wid.x;
    let d4 = lid3.x;
    let rec0 = h * P.splits * (DH4 + 1u);
    var mx = NEG_BIG;
    for (var s = 0u; s < P.splits; s = s + 1u) {
        mx = max(mx, part[rec0 + s * (DH4 + 1u) + DH4].x);
    }
    var a = vec4<f32>(0.0);
    var lt = 0.0;
    for (var s = 0u; s < P.splits; s = s + 1u) {
        let rec = rec0 + s * (DH4 + 1u);
        let ml = part[rec + DH4];
        let w = exp2(ml.x - mx);
        a = a + w * part[rec + d4];
        lt = lt + w * ml.y;
    }
    o[(P.o_off + h * DH) / 4u + d4] = a / lt;
}
