// attention: flash-style tiled scaled-dot-product attention (prefill and the
// vision encoder). For batch b, query row t, head h (kv head hk = h / (H/Hkv)):
//   out[b,t,h,:] = Σ_j softmax_j(scale · q[b,t,h,:]·k[b,j,hk,:]) · v[b,j,hk,:]
// over keys j < Tk, and, when CAUSAL, only j ≤ q_pos + t (q_pos = the length of
// a cached prefix the queries follow). No T×Tk matrix exists anywhere: each
// query row keeps a running max m, running sum l and unnormalised output acc
// (online softmax, Milakov & Gimelshein 2018; FlashAttention-2's loop order),
// rescaled once per key tile by exp(m_old − m_new).
// Scores live in the log2 domain (q is pre-multiplied by scale·log2 e) so
// every exponential is an exp2.
//
// Layout: token-major with heads contiguous, element (row, head, d) of q at
//   q[row·q_stride + q_off + head·DH + d], row = b·T + t   (k, v: row = b·Tk + j)
// and the same for k, v (with hk) and out, so q, k and v can be three views of
// one fused qkv buffer (T, (H+2Hkv)·DH) and out may be a column slice of a
// wider buffer. Strides and offsets are in f32 elements and must be
// multiples of 4 (vec4 bindings); DH is a multiple of 4.
//
// bindings: 0 Params { t, tk, h, hkv, q_stride, q_off, k_stride, k_off,
//                      v_stride, v_off, o_stride, o_off, q_pos, scale }
//           1 q: f32 as vec4, read      2 k: f32 as vec4, read
//           3 v: f32 as vec4, read      4 o: f32 as vec4, read_write
// grid: (ceil(T / BR), H, batches) workgroups of NT threads; thread i of
// workgroup x owns the RQ query rows x·BR + i + r·NT, r < RQ (BR = RQ·NT).
// The workgroup walks the keys in tiles of BC rows, staging the K and V tile
// of its kv head in workgroup memory (2·BC·DH·4 ≤ 16384 bytes) where every
// thread reads them as broadcasts. Per thread: RQ·DH floats of q, RQ·DH of
// acc and RQ·BC scores; RQ = max(1, 128/DH) and RQ·BC ≤ 64 bound the
// registers (attention.go chooses RQ, BC and BR from DH).

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> o: array<vec4<f32>>;

var<workgroup> ktile: array<vec4<f32>, TILE4>;
var<workgroup> vtile: array<vec4<f32>, TILE4>;

// A finite "minus infinity": exp2(NEG_BIG − m) is 0 without inf − inf = NaN.
const NEG_BIG: f32 = -1.0e30;
const LOG2E: f32 = 1.4426950408889634;

@compute @workgroup_size(NT)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let h = wid.y;
    let b = wid.z;
    let hk = h / (P.h / P.hkv);
    let t0 = wid.x * BR;

    // Keys the whole block may see. Loop bounds are the same for every
    // thread (the tile loop holds barriers, and uniform inner loops let the
    // shared-memory reads be broadcasts); causal masking is a select.
    var kend = P.tk;
    if (CAUSAL) {
        kend = min(kend, P.q_pos + min(t0 + BR, P.t));
    }

    // Thread lid owns rows t0 + lid + i·NT, i < RQ. Each K/V element read
    // from workgroup memory feeds RQ rows: register blocking, the main
    // lever on both GPUs (shared-memory bandwidth) and lavapipe (whose
    // shared loads cost several FMAs each).
    let qs = P.scale * LOG2E;
    var qv: array<vec4<f32>, QA>;
    var acc: array<vec4<f32>, QA>;
    var kmine: array<u32, RQ>; // keys this row may see: j < kmine
    var m: array<f32, RQ>;     // running max (log2 domain)
    var l: array<f32, RQ>;     // running sum of exp2(score − m)
    for (var i = 0u; i < RQ; i = i + 1u) {
        let t = t0 + lid + i * NT;
        kmine[i] = kend;
        if (CAUSAL) {
            kmine[i] = min(kend, P.q_pos + t + 1u);
        }
        // Rows past T compute on row T−1, so every read stays in bounds;
        // they never write.
        let qbase = ((b * P.t + min(t, P.t - 1u)) * P.q_stride + P.q_off + h * DH) / 4u;
        for (var c = 0u; c < DH4; c = c + 1u) {
            qv[i * DH4 + c] = q[qbase + c] * qs;
            acc[i * DH4 + c] = vec4<f32>(0.0);
        }
        m[i] = NEG_BIG;
        l[i] = 0.0;
    }
    var s: array<f32, SA>; // scores of the tile, row i at i·BC

    let kcol = (P.k_off + hk * DH) / 4u;
    let vcol = (P.v_off + hk * DH) / 4u;
    let kst = P.k_stride / 4u;
    let vst = P.v_stride / 4u;
    let krow0 = b * P.tk;
    for (var j0 = 0u; j0 < kend; j0 = j0 + BC) {
        // Everyone is done reading the previous tile before it is replaced.
        workgroupBarrier();
        for (var e = lid; e < TILE4; e = e + NT) {
            let j = j0 + e / DH4;
            let c = e % DH4;
            if (j < kend) {
                ktile[e] = k[(krow0 + j) * kst + kcol + c];
                vtile[e] = v[(krow0 + j) * vst + vcol + c];
            } else {
                ktile[e] = vec4<f32>(0.0);
                vtile[e] = vec4<f32>(0.0);
            }
        }
        workgroupBarrier();

        let n = min(BC, kend - j0);
        var mt: array<f32, RQ>;
        for (var i = 0u; i < RQ; i = i + 1u) {
            mt[i] = NEG_BIG;
        }
        for (var r = 0u; r < n; r = r + 1u) {
            var d: array<vec4<f32>, RQ>;
            for (var i = 0u; i < RQ; i = i + 1u) {
                d[i] = vec4<f32>(0.0);
            }
            for (var c = 0u; c < DH4; c = c + 1u) {
                let kk = ktile[r * DH4 + c];
                for (var i = 0u; i < RQ; i = i + 1u) {
                    d[i] = d[i] + qv[i * DH4 + c] * kk;
                }
            }
            for (var i = 0u; i < RQ; i = i + 1u) {
                let sc = select(d[i].x + d[i].y + d[i].z + d[i].w, NEG_BIG, j0 + r >= kmine[i]);
                s[i * BC + r] = sc;
                mt[i] = max(mt[i], sc);
            }
        }
        // One rescale per tile: acc and l were relative to the old max.
        // A row whose keys in this tile are all masked keeps m (mt is
        // NEG_BIG): alpha = 1 and its p below are exp2(NEG_BIG − m) = 0.
        // Key 0 is in the first tile and visible to every row, so m is a
        // real score from then on.
        var mn: array<f32, RQ>;
        for (var i = 0u; i < RQ; i = i + 1u) {
            mn[i] = max(m[i], mt[i]);
            let alpha = exp2(m[i] - mn[i]);
            l[i] = l[i] * alpha;
            for (var c = 0u; c < DH4; c = c + 1u) {
                acc[i * DH4 + c] = acc[i * DH4 + c] * alpha;
            }
            m[i] = mn[i];
        }
        for (var r = 0u; r < n; r = r + 1u) {
            var p: array<f32, RQ>;
            for (var i = 0u; i < RQ; i = i + 1u) {
                p[i] = exp2(s[i * BC + r] - mn[i]);
                l[i] = l[i] + p[i];
            }
            for (var c = 0u; c < DH4; c = c + 1u) {
                let vv = vtile[r * DH4 + c];
                for (var i = 0u; i < RQ; i = i + 1u) {
                    acc[i * DH4 + c] = acc[i * DH4 + c] + p[i] * vv;
                }
            }
        }
    }

    for (var i = 0u; i < RQ; i = i + 1u) {
        let t = t0 + lid + i * NT;
        if (t < P.t) {
            let inv = 1.0 / l[i];
            let obase = ((b * P.t + t) * P.o_stride + P.o_off + h * DH) / 4u;
            for (var c = 0u; c < DH4; c = c + 1u) {
                o[obase + c] = acc[i * DH4 + c] * inv;
            }
        }
    }
}
