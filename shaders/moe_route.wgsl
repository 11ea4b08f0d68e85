// moe_route: level 2 of the TGH-MoE, token routing inside the task group.
// For each token t, with g = min(task[0], groups-1) the group chosen on the
// GPU by task_route (so no readback is needed) and l_e = logits[t, g·Eg + e]:
//   m = max_e l_e,  s = Σ_e exp(l_e − m)                (e ascending)
//   probs[t, e] = exp(l_e − m) / s                       (full softmax, for the heat map)
//   top-k: the K experts with the largest logits, ordered by (logit desc,
//          index asc), so ties go to the lower index. Selection compares the
//          logits themselves (exact: identical on every device and in Go),
//          not the rounded probabilities.
//   gates[t, j] = exp(l_sel(j) − m) / (RENORM ? Σ_j' exp(l_sel(j') − m) : s)
//   ids[t, j]   = sel(j) + (GLOBAL_IDS ? g·Eg : 0)
// Global ids number the experts of all groups 0..groups·Eg−1, so moe_plan
// (E = groups·Eg) and a segmented expert GEMM need not know the group:
// the other groups' segments are simply empty.
// Logits must be finite.
//
// bindings: 0 Params { tokens T, groups G, experts Eg, k K (1..8, ≤ Eg), renorm, global_ids }
//           1 logits: (T, G·Eg) f32, the router GEMM's output (all groups)
//           2 task:   (≥1) u32, task[0] = group id (task_route's output)
//           3 ids:    (T, K) u32 expert ids, rank order
//           4 gates:  (T, K) f32
//           5 probs:  (T, Eg) f32
// grid: Grid1D(ceil(T / WG)) workgroups of WG threads, one thread per token:
// Eg ≤ 64 and K ≤ 8 make a token's work a few hundred operations, and no
// workgroup memory or barrier is needed.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> task: array<u32>;
@group(0) @binding(3) var<storage, read_write> ids: array<u32>;
@group(0) @binding(4) var<storage, read_write> gates: array<f32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;

// f32_key maps f32 bits to a u32 whose unsigned order is the float order.
fn f32_key(f: f32) -> u32 {
    let b = bitcast<u32>(f);
    return select(b | 0x80000000u, ~b, (b >> 31u) == 1u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let t = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (t >= P.tokens) {
        return;
    }
    let eg = P.experts;
    let g = min(task[0], P.groups - 1u);
    let base = (t * P.groups + g) * eg;
    var m = logits[base];
    for (var e = 1u; e < eg; e = e + 1u) {
        m = max(m, logits[base + e]);
    }
    var s = 0.0;
    for (var e = 0u; e < eg; e = e + 1u) {
        s = s + exp(logits[base + e] - m);
    }
    for (var e = 0u; e < eg; e = e + 1u) {
        probs[t * eg + e] = exp(logits[base + e] - m) / s;
    }

    // Selection sort by (key desc, index asc): pass j takes the best pair
    // strictly after pass j−1's pair in that order.
    var sel: array<u32, KMAX>;
    var ex: array<f32, KMAX>;
    var prev_key = 0u;
    var prev_e = 0u;
    var ssel = 0.0;
    for (var j = 0u; j < P.k; j = j + 1u) {
        var best_e = 0xFFFFFFFFu;
        var best_key = 0u;
        for (var e = 0u; e < eg; e = e + 1u) {
            let key = f32_key(logits[base + e]);
            let after = j == 0u || key < prev_key || (key == prev_key && e > prev_e);
            if (after && (best_e == 0xFFFFFFFFu || key > best_key)) {
                best_e = e;
                best_key = key;
            }
        }
        best_e = min(best_e, eg - 1u); // only when K > Eg, which the host forbids
        sel[j] = best_e;
        ex[j] = exp(logits[base + best_e] - m);
        ssel = ssel + ex[j];
        prev_key = best_key;
        prev_e = best_e;
    }
    var den = s;
    if (P.renorm != 0u) {
        den = ssel;
    }
    var off = 0u;
    if (P.global_ids != 0u) {
        off = g * eg;
    }
    for (var j = 0u; j < P.k; j = j + 1u) {
        ids[t * P.k + j] = sel[j] + off;
        gates[t * P.k + j] = ex[j] / den;
    }
}
