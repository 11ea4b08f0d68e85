// sample: pick the next token id from one row of logits, on the GPU, so a
// decode loop keeps ids on the GPU and reads back only 4 bytes. Every step
// is exact or in a fixed order, mirrored by SampleRef, so the kernel and the
// reference agree except where a random draw falls within float rounding
// of a boundary (the cases keep a margin from every boundary).
//
// l_i = logits[logits_offset + i], i < V. key(f) maps f32 bits to a u32
// whose unsigned order is the float order (exact comparisons, a 32-bit
// search space). The search passes stride the row (thread c reads
// i = c, c + WG, …: coalesced); the draw gives thread c the contiguous chunk
// [c·L, min((c+1)·L, V)), L = ceil(V / WG), so that its running sum follows
// index order.
//
// GREEDY, or inv_temp ≤ 0: out[out_index] = argmax_i key(l_i), ties → lowest i.
// Otherwise, with z_i = l_i · inv_temp (a multiply: correctly rounded on
// every device, unlike a division) and m = max z:
//  top-k (1 ≤ top_k < V): thr_k = the top_k-th largest key(z) exactly: the
//        largest c with #{i : key(z_i) ≥ c} ≥ top_k, found bit by bit from
//        the MSB in 32 counting passes; ties with it are kept (so more than
//        top_k may survive). Else thr_k = 0 (everything).
//  weights w_i = exp(z_i − m) where key(z_i) ≥ thr, else 0.
//  top-p (0 < top_p < 1): M(c) = Σ_{key(z_i) ≥ max(c, thr_k)} exp(z_i − m),
//        summed per thread over i ≡ lid (mod WG) ascending, then by a tree
//        over the WG partial sums (s = WG/2 … 1: p[l] += p[l+s]);
//        W = M(thr_k); thr_p = the largest c with M(c) ≥ top_p · W (32 passes;
//        M is monotone in c because float rounding is monotone).
//        thr = max(thr_k, thr_p). Else thr = thr_k.
//  draw: u = f32(pcg(seed ^ pcg(step)) >> 8) · 2⁻²⁴ ∈ [0, 1), PCG hash of
//        Jarzynski & Olano (2020). Chunk sums S_c of w (index order), an
//        exclusive prefix P_c over chunks summed sequentially by thread 0,
//        total = P_WG, target = u · total. Thread c runs r = P_c, r += w_i
//        over its chunk; the result is the lowest i with w_i > 0 whose r
//        exceeds target; if none (rounding at the very end), the last i with
//        w_i > 0.
//
// bindings: 0 Params { vocab V, logits_offset, out_index, top_k, top_p,
//                      inv_temp (1/temperature; ≤ 0: greedy), seed, step }
//           1 logits: f32, at least logits_offset + V (e.g. (T, V), row T−1)
//           2 out:    u32, out[out_index] = the token id
// grid: (1, 1, 1), one workgroup of WG threads. Workgroup memory 3·WG·4 bytes.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

var<workgroup> ru: array<u32, WG>;
var<workgroup> rf: array<f32, WG>;
var<workgroup> prefix: array<f32, WG>;
var<workgroup> total_sum: f32;

fn f32_key(f: f32) -> u32 {
    let b = bitcast<u32>(f);
    return select(b | 0x80000000u, ~b, (b >> 31u) == 1u);
}

fn key_f32(k: u32) -> f32 {
    return bitcast<f32>(select(~k, k & 0x7fffffffu, (k >> 31u) == 1u));
}

fn pcg(v: u32) -> u32 {
    let s = v * 747796405u + 2891336453u;
    let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
    return (w >> 22u) ^ w;
}

fn z_at(i: u32) -> f32 {
    return logits[P.logits_offset + i] * P.inv_temp;
}

// Workgroup reductions; every thread gets the result. All are called from
// uniform control flow.
fn red_max_u(lid: u32, v: u32) -> u32 {
    ru[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            ru[lid] = max(ru[lid], ru[lid + s]);
        }
        workgroupBarrier();
    }
    let r = ru[0];
    workgroupBarrier();
    return r;
}

fn red_min_u(lid: u32, v: u32) -> u32 {
    ru[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            ru[lid] = min(ru[lid], ru[lid + s]);
        }
        workgroupBarrier();
    }
    let r = ru[0];
    workgroupBarrier();
    return r;
}

fn red_sum_u(lid: u32, v: u32) -> u32 {
    ru[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            ru[lid] = ru[lid] + ru[lid + s];
        }
        workgroupBarrier();
    }
    let r = ru[0];
    workgroupBarrier();
    return r;
}

// red_sum_f's pairing is part of the definition: SampleRef repeats it.
fn red_sum_f(lid: u32, v: f32) -> f32 {
    rf[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            rf[lid] = rf[lid] + rf[lid + s];
        }
        workgroupBarrier();
    }
    let r = rf[0];
    workgroupBarrier();
    return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let nv = P.vocab;
    let greedy = GREEDY || P.inv_temp <= 0.0;

    // The largest key and the lowest index holding it: the argmax (of l
    // when greedy, of z otherwise; m = max z).
    var mk = 0u;
    for (var i = lid; i < nv; i = i + WG) {
        var k = f32_key(logits[P.logits_offset + i]);
        if (!greedy) {
            k = f32_key(z_at(i));
        }
        mk = max(mk, k);
    }
    let gmax = red_max_u(lid, mk);
    if (greedy) {
        var first = 0xFFFFFFFFu;
        for (var i = lid; i < nv; i = i + WG) {
            if (f32_key(logits[P.logits_offset + i]) == gmax) {
                first = i;
                break;
            }
        }
        let amax = red_min_u(lid, first);
        if (lid == 0u) {
            out[P.out_index] = amax;
        }
        return;
    }
    let m = key_f32(gmax);

    // top-k: the k-th largest key, bit by bit.
    var thr = 0u;
    if (P.top_k > 0u && P.top_k < nv) {
        var c = 0u;
        for (var b = 0u; b < 32u; b = b + 1u) {
            let cand = c | (0x80000000u >> b);
            var n = 0u;
            for (var i = lid; i < nv; i = i + WG) {
                if (f32_key(z_at(i)) >= cand) {
                    n = n + 1u;
                }
            }
            if (red_sum_u(lid, n) >= P.top_k) {
                c = cand;
            }
        }
        thr = c;
    }

    // top-p: the largest cutoff keeping at least top_p of the mass.
    if (P.top_p > 0.0 && P.top_p < 1.0) {
        var ws = 0.0;
        for (var i = lid; i < nv; i = i + WG) {
            let z = z_at(i);
            if (f32_key(z) >= thr) {
                ws = ws + exp(z - m);
            }
        }
        let goal = P.top_p * red_sum_f(lid, ws);
        var c = 0u;
        for (var b = 0u; b < 32u; b = b + 1u) {
            let cand = c | (0x80000000u >> b);
            let cut = max(cand, thr);
            var s = 0.0;
            for (var i = lid; i < nv; i = i + WG) {
                let z = z_at(i);
                if (f32_key(z) >= cut) {
                    s = s + exp(z - m);
                }
            }
            if (red_sum_f(lid, s) >= goal) {
                c = cand;
            }
        }
        thr = max(thr, c);
    }

    // The draw: contiguous chunks' sums, their exclusive prefix in thread
    // order, then a running sum inside each chunk.
    let len = (nv + WG - 1u) / WG;
    let i0 = min(lid * len, nv);
    let i1 = min(i0 + len, nv);
    var cs = 0.0;
    for (var i = i0; i < i1; i = i + 1u) {
        let z = z_at(i);
        if (f32_key(z) >= thr) {
            cs = cs + exp(z - m);
        }
    }
    rf[lid] = cs;
    workgroupBarrier();
    if (lid == 0u) {
        var run = 0.0;
        for (var c = 0u; c < WG; c = c + 1u) {
            prefix[c] = run;
            run = run + rf[c];
        }
        total_sum = run;
    }
    workgroupBarrier();
    let u = f32(pcg(P.seed ^ pcg(P.step)) >> 8u) * (1.0 / 16777216.0);
    let draw_at = u * total_sum;
    var run = prefix[lid];
    var found = 0xFFFFFFFFu;
    var last = 0u; // last index with a positive weight, plus one
    for (var i = i0; i < i1; i = i + 1u) {
        let z = z_at(i);
        if (f32_key(z) >= thr) {
            let w = exp(z - m);
            if (w > 0.0) {
                last = i + 1u;
                run = run + w;
                if (run > draw_at && found == 0xFFFFFFFFu) {
                    found = i;
                }
            }
        }
    }
    let f = red_min_u(lid, found);
    let l = red_max_u(lid, last);
    if (lid == 0u) {
        var id = f;
        if (id == 0xFFFFFFFFu) {
            id = max(l, 1u) - 1u;
        }
        out[P.out_index] = id;
    }
}
