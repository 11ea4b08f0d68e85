// attn_decode: attention of one query token per head over a preallocated KV
// cache (decode). For head h (kv head hk = h / (H/Hkv)):
//   out[h,:] = Σ_{j ≤ n_past} softmax_j(scale · q[h,:]·K[j,hk,:]) · V[j,hk,:]
// One workgroup per head (and, when SPLIT, per range of split_len keys along
// grid y), walking the keys in chunks of CH = WG·KPT with an online softmax,
// so any context length works with fixed workgroup memory:
//   1. thread i scores keys i, i+WG, … of the chunk (a whole K row each,
//      against q staged in workgroup memory), keeping its own max;
//   2. a tree reduction gives the chunk max; m_new = max(m, chunk max);
//   3. each thread turns its scores into p = exp2(s − m_new) in workgroup
//      memory;
//   4. thread (d4, g) — d4 = i mod DH4 owns output dims 4·d4..4·d4+3, g =
//      i / DH4 < G = WG / DH4 is its key group — rescales its acc and l by
//      exp2(m − m_new) and adds p_j·V[j, d4] for the chunk's keys j ≡ g mod G
//      (consecutive threads read consecutive vec4s of one V row).
// At the end the G partial (acc, l) are summed in workgroup memory (all share
// m) and thread d4 of group 0 writes acc/l, or, when SPLIT, the unnormalised
// acc with m and l for attn_decode_combine. Scores are in the log2 domain (q
// is pre-multiplied by scale·log2 e).
//
// bindings: 0 Params { n_past, h, hkv, q_off, k_stride, k_off, v_stride,
//                      v_off, o_off, split_len, scale }
//           1 q: f32 as vec4, read; head h at q_off + h·DH
//           2 k: cache (max_T, ·) f32 as vec4, read; key j, head hk at
//                j·k_stride + k_off + hk·DH
//           3 v: cache, read; as k with v_stride, v_off
//           4 o: f32 as vec4, read_write; !SPLIT: head h at o_off + h·DH;
//                SPLIT: record (h, s) of DH + 4 floats at (h·S + s)·(DH + 4):
//                acc[DH], then (m, l, 0, 0)
// Strides and offsets are f32 elements, multiples of 4.
// grid: (H, 1, 1), or (H, S, 1) with S = ceil((n_past + 1) / split_len) when
// SPLIT; WG threads each.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> qsh: array<vec4<f32>, DH4>;
var<workgroup> ps: array<f32, CH>;
var<workgroup> red: array<f32, WG>;
var<workgroup> wacc: array<vec4<f32>, WG>;
var<workgroup> wl: array<f32, WG>;

const NEG_BIG: f32 = -1.0e30;
const LOG2E: f32 = 1.4426950408889634;

fn chunk_max(lid: u32, x: f32) -> f32 {
    red[lid] = x;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            red[lid] = max(red[lid], red[lid + s]);
        }
        workgroupBarrier();
    }
    return red[0];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let h = wid.x;
    let hk = h / (P.h / P.hkv);
    let n = P.n_past + 1u;
    var jb = 0u;
    var je = n;
    if (SPLIT) {
        jb = min(n, wid.y * P.split_len);
        je = min(n, jb + P.split_len);
    }

    if (lid < DH4) {
        qsh[lid] = q[(P.q_off + h * DH) / 4u + lid] * (P.scale * LOG2E);
    }

    let d4 = lid % DH4;
    let g = lid / DH4;
    let kcol = (P.k_off + hk * DH) / 4u;
    let vcol = (P.v_off + hk * DH) / 4u;
    let kst = P.k_stride / 4u;
    let vst = P.v_stride / 4u;
    var m = NEG_BIG;
    var l = 0.0;
    var acc = vec4<f32>(0.0);
    for (var c0 = jb; c0 < je; c0 = c0 + CH) {
        // q is staged (first pass) and the previous chunk's p are consumed.
        workgroupBarrier();
        let cnt = min(CH, je - c0);
        var sc: array<f32, KPT>;
        var mt = NEG_BIG;
        for (var u = 0u; u < KPT; u = u + 1u) {
            let i = lid + u * WG;
            var x = NEG_BIG;
            if (i < cnt) {
                let kb = (c0 + i) * kst + kcol;
                var d = vec4<f32>(0.0);
                for (var c = 0u; c < DH4; c = c + 1u) {
                    d = d + qsh[c] * k[kb + c];
                }
                x = d.x + d.y + d.z + d.w;
            }
            sc[u] = x;
            mt = max(mt, x);
        }
        let mn = max(m, chunk_max(lid, mt));
        for (var u = 0u; u < KPT; u = u + 1u) {
            // Keys past the chunk: exp2(NEG_BIG − mn) = 0.
            ps[lid + u * WG] = exp2(sc[u] - mn);
        }
        workgroupBarrier();
        let alpha = exp2(m - mn);
        acc = acc * alpha;
        l = l * alpha;
        if (g < G) {
            for (var i = g; i < cnt; i = i + G) {
                let p = ps[i];
                l = l + p;
                acc = acc + p * v[(c0 + i) * vst + vcol + d4];
            }
        }
        m = mn;
    }

    // Sum the G key groups' partial results; they share m.
    wacc[lid] = acc;
    wl[lid] = l;
    workgroupBarrier();
    if (lid < DH4) {
        var a = vec4<f32>(0.0);
        var lt = 0.0;
        for (var gg = 0u; gg < G; gg = gg + 1u) {
            a = a + wacc[gg * DH4 + lid];
            lt = lt + wl[gg * DH4 + lid];
        }
        if (SPLIT) {
            let rec = ((h * nwg.y + wid.y) * (DH + 4u)) / 4u;
            o[rec + lid] = a;
            if (lid == 0u) {
                o[rec + DH4] = vec4<f32>(m, lt, 0.0, 0.0);
            }
        } else {
            o[(P.o_off + h * DH) / 4u + lid] = a / lt;
        }
    }
}
