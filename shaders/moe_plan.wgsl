// moe_plan: the dispatch plan of a mixture of experts, built on the GPU from
// the routing decisions, deterministically (no atomics, no order races).
// From ids (T, K) (expert e = ids[t·K + j] of token t's j-th choice, e < E):
//   count_e   = #{(t, j) : ids[t·K + j] = e}
//   seg[2e]   = offset_e = Σ_{e' < e} count_e'   (exclusive prefix sum)
//   seg[2e+1] = count_e
//   perm[offset_e + r] = t  for the r-th assignment to e in (t, j) order, so
//                           rows of one expert are contiguous and in token order
//   slot[t·K + j] = the position i in perm of assignment (t, j)
// so perm[slot[t·K + j]] = t for every (t, j), and perm is a permutation of
// the T·K assignments grouped by expert. Consumers:
//   row gather:     xg[i, :] = x[perm[i], :]             i < T·K
//   expert GEMM:    rows seg[2e] .. seg[2e] + seg[2e+1] − 1 of xg use expert e
//   moe_combine:    out[t, :] += Σ_j gate[t, j] · y[slot[t·K + j], :]
// An id ≥ E (a routing bug) is treated as E − 1, so nothing is written out of
// bounds. Empty experts have count 0 (offset = the next expert's offset).
//
// Algorithm, one workgroup of WG threads: thread c owns the contiguous token
// chunk [c·L, min((c+1)·L, T)), L = ceil(T / WG). (1) each thread counts its
// chunk per expert in a private array; (2) for each expert, an exclusive
// scan over the threads' counts (blocks of EB experts staged in workgroup
// memory, EB threads each scanning one expert serially) gives each thread
// its starting rank, and thread 0 scans the totals into seg; (3) each thread
// walks its chunk again in order, placing (t, j) at offset_e + rank.
//
// bindings: 0 Params { tokens T, k K, experts E (1..EMAX) }
//           1 ids:  (T·K) u32
//           2 seg:  (E, 2) u32 (offset, count)
//           3 perm: (T·K) u32 token index per row of the gathered matrix
//           4 slot: (T·K) u32 row of the gathered matrix per (t, j)
// grid: (1, 1, 1), one workgroup.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read_write> seg: array<u32>;
@group(0) @binding(3) var<storage, read_write> perm: array<u32>;
@group(0) @binding(4) var<storage, read_write> slot: array<u32>;

// EB experts' per-thread counts (EB·WG·4 bytes) and the totals per expert.
var<workgroup> stage: array<u32, STAGE>; // STAGE = EB·WG: old naga takes no expression here
var<workgroup> totals: array<u32, EMAX>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let ne = P.experts;
    let len = (P.tokens + WG - 1u) / WG;
    let t0 = min(lid * len, P.tokens);
    let t1 = min(t0 + len, P.tokens);

    // (1) private counts of this thread's chunk (zero-initialised).
    var cnt: array<u32, EMAX>;
    for (var t = t0; t < t1; t = t + 1u) {
        for (var j = 0u; j < P.k; j = j + 1u) {
            let e = min(ids[t * P.k + j], ne - 1u);
            cnt[e] = cnt[e] + 1u;
        }
    }

    // (2) cnt[e] becomes the number of assignments to e in earlier chunks.
    for (var b = 0u; b < EMAX; b = b + EB) {
        if (b < ne) {
            for (var i = 0u; i < EB; i = i + 1u) {
                stage[i * WG + lid] = cnt[b + i];
            }
            workgroupBarrier();
            if (lid < EB) {
                var run = 0u;
                for (var c = 0u; c < WG; c = c + 1u) {
                    let v = stage[lid * WG + c];
                    stage[lid * WG + c] = run;
                    run = run + v;
                }
                totals[b + lid] = run;
            }
            workgroupBarrier();
            for (var i = 0u; i < EB; i = i + 1u) {
                cnt[b + i] = stage[i * WG + lid];
            }
            workgroupBarrier();
        }
    }
    if (lid == 0u) {
        var off = 0u;
        for (var e = 0u; e < ne; e = e + 1u) {
            let n = totals[e];
            seg[2u * e] = off;
            seg[2u * e + 1u] = n;
            totals[e] = off;
            off = off + n;
        }
    }
    workgroupBarrier();

    // (3) place every assignment of the chunk, in (t, j) order.
    for (var t = t0; t < t1; t = t + 1u) {
        for (var j = 0u; j < P.k; j = j + 1u) {
            let e = min(ids[t * P.k + j], ne - 1u);
            let pos = totals[e] + cnt[e];
            cnt[e] = cnt[e] + 1u;
            perm[pos] = t;
            slot[t * P.k + j] = pos;
        }
    }
}
