// task_route: level 1 of the TGH-MoE, the hard task router. From the task
// router's logits l (G) (a GEMV of the mean-pooled prompt embedding, done
// elsewhere):
//   task_probs[i] = exp(l_i − m) / Σ_i exp(l_i − m),  m = max_i l_i   (i ascending)
//   task[0] = force if 0 ≤ force < G (the app's manual override), else
//             argmax_i l_i, ties → lower index, compared in the
//             order-preserving u32 key of the f32 bits (exact).
// task[0] stays on the GPU: moe_route reads it, so the forward pass never
// waits for a readback; the app reads task and task_probs afterwards.
//
// bindings: 0 Params { groups G, force (i32, < 0: argmax) }
//           1 logits:     (G) f32, finite
//           2 task:       (1) u32
//           3 task_probs: (G) f32
// grid: (1, 1, 1): one thread; G is a handful of task groups.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> task: array<u32>;
@group(0) @binding(3) var<storage, read_write> task_probs: array<f32>;

fn f32_key(f: f32) -> u32 {
    let b = bitcast<u32>(f);
    return select(b | 0x80000000u, ~b, (b >> 31u) == 1u);
}

@compute @workgroup_size(1)
fn main() {
    var best = 0u;
    var best_key = f32_key(logits[0]);
    var m = logits[0];
    for (var i = 1u; i < P.groups; i = i + 1u) {
        let key = f32_key(logits[i]);
        if (key > best_key) {
            best = i;
            best_key = key;
        }
        m = max(m, logits[i]);
    }
    var s = 0.0;
    for (var i = 0u; i < P.groups; i = i + 1u) {
        s = s + exp(logits[i] - m);
    }
    for (var i = 0u; i < P.groups; i = i + 1u) {
        task_probs[i] = exp(logits[i] - m) / s;
    }
    if (P.force >= 0i && u32(P.force) < P.groups) {
        best = u32(P.force);
    }
    task[0] = best;
}
