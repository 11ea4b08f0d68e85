// gemv entry point reducing through workgroup memory (every device): each
// thread stores its ACC partial sums, then after one barrier lane a < ACC of
// a group sums the TPR partials of output a (W row group·RPT + a / MT, x row
// a % MT) and stores it. One barrier rather than a log2(TPR)-level tree:
// on lavapipe every barrier switches all of the workgroup's coroutines, and
// the tree cost more than the dot products (f16 3072² ran at half the
// speed). Workgroup memory: WG·ACC f32.

var<workgroup> partial: array<f32, PARTIAL>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid3: vec3<u32>) {
    let n0 = (wid.x + wid.y * nwg.x) * RPW;
    let rows = gemv_rows(wid.z);
    // Both conditions are the same for the whole workgroup (workgroup id,
    // uniform and read-only storage values): the barriers below stay uniform.
    if (n0 >= P.n || rows.x >= rows.y) {
        return;
    }
    let lid = lid3.x;
    let lane = lid % TPR;
    let base = lid - lane; // the group's first slot
    let n = n0 + (lid / TPR) * RPT;
    var acc = gemv_dot(n, lid, rows);
    for (var a = 0u; a < ACC; a = a + 1u) {
        partial[a * WG + lid] = acc[a];
    }
    workgroupBarrier();
    if (lane < ACC) {
        let nr = n + lane / MT;
        let m = rows.x + lane % MT;
        if (nr < P.n && m < rows.y) {
            var t = 0.0;
            for (var j = 0u; j < TPR; j = j + 1u) {
                t = t + partial[lane * WG + base + j];
            }
            mm_store(m, nr, t);
        }
    }
}
