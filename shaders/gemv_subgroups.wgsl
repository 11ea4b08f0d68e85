// gemv entry point reducing with subgroupAdd (browser only: `enable
// subgroups;`). Correct for any subgroup size (4 to 128) and any mapping of
// invocations to subgroups, which WGSL leaves to the implementation:
//  1. for each of the NG thread groups and ACC sums, subgroupAdd of the
//     thread's partial masked to the threads of that group: a subgroup may
//     hold threads of several groups (size > TPR) or part of one (size <
//     TPR), and the mask keeps groups apart either way;
//  2. lane 0 of each subgroup claims a slot with an atomic counter and
//     writes its NG·ACC sums there;
//  3. after one barrier, thread t < NG·ACC adds the slots' sums for (group
//     t / ACC, sum t % ACC) and stores that output.
// Every subgroup call sits in workgroup-uniform control flow (after
// returns that depend only on the workgroup id and uniform or read-only
// values, in loops with constant bounds), as WGSL requires.
// The order slots are claimed in may vary between runs, and with it the
// last bits of a sum; the reduction is exact up to f32 rounding either way.
// Workgroup memory: SG_SLOTS·NG·ACC f32 (SG_SLOTS = WG / 4, the most
// subgroups of size ≥ 4) and one counter.

var<workgroup> sg_count: atomic<u32>;
var<workgroup> sg_sums: array<f32, SG_SUMS>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>,
        @builtin(subgroup_invocation_id) sg_lane: u32) {
    let n0 = (wid.x + wid.y * nwg.x) * RPW;
    let rows = gemv_rows(wid.z);
    if (n0 >= P.n || rows.x >= rows.y) {
        return;
    }
    let lid = lid3.x;
    let group = lid / TPR;
    var acc = gemv_dot(n0 + group * RPT, lid, rows);

    var slot = 0u;
    if (sg_lane == 0u) {
        slot = atomicAdd(&sg_count, 1u);
    }
    for (var g = 0u; g < NG; g = g + 1u) {
        for (var a = 0u; a < ACC; a = a + 1u) {
            let s = subgroupAdd(select(0.0, acc[a], group == g));
            if (sg_lane == 0u) {
                sg_sums[(slot * NG + g) * ACC + a] = s;
            }
        }
    }
    workgroupBarrier();
    let slots = atomicLoad(&sg_count);
    if (lid < NG * ACC) {
        let g = lid / ACC;
        let a = lid % ACC;
        var sum = 0.0;
        for (var s = 0u; s < slots; s = s + 1u) {
            sum = sum + sg_sums[(s * NG + g) * ACC + a];
        }
        let n = n0 + g * RPT + a / MT;
        let m = rows.x + a % MT;
        if (n < P.n && m < rows.y) {
            mm_store(m, n, sum);
        }
    }
}
