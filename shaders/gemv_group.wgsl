// gemv dot products for quantized weights (int8, int4), a group of 32 at a
// time (gemv.wgsl has the thread layout; the dtype's w_qoct and w_gscale
// read a group).

// gemv_dot (every device) is thread lid's share of the ACC dot products of
// W rows n … n + RPT − 1 with x rows `rows`. K is a multiple of 32, and so
// is every row's start: the thread walks groups lane, lane + TPR, … (its
// 32 weights are adjacent to its neighbours': coalesced), sums the raw
// q·x of each group per row pair, and multiplies by the group's scale once.
// It never branches on the row, so every thread reaches the reduction's
// barriers.
fn gemv_dot(n: u32, lid: u32, rows: vec2<u32>) -> array<f32, ACC> {
    let lane = lid % TPR;
    var acc: array<f32, ACC>;
    // Rows of x or W past the end repeat the last one: loads stay in
    // bounds and the loop body has no branch; their sums are never stored.
    var xb: array<u32, MT>;
    for (var i = 0u; i < MT; i = i + 1u) {
        xb[i] = min(rows.x + i, rows.y - 1u) * P.ldx;
    }
    let groups = P.k / 32u;
    var wg: array<u32, RPT>; // the row's first group
    for (var r = 0u; r < RPT; r = r + 1u) {
        wg[r] = min(n + r, P.n - 1u) * groups;
    }
    for (var g = lane; g < groups; g = g + TPR) {
        // Zeroed by hand: a var declared in a loop body is not reliably
        // reinitialized each iteration (naga hoists it to the function).
        var part: array<f32, ACC>;
        for (var a = 0u; a < ACC; a = a + 1u) {
            part[a] = 0.0;
        }
        for (var h = 0u; h < 4u; h = h + 1u) {
            var xv: array<array<vec4<f32>, 2>, MT>;
            for (var i = 0u; i < MT; i = i + 1u) {
                let j = xb[i] + 32u * g + 8u * h;
                xv[i] = array<vec4<f32>, 2>(vec4<f32>(x[j], x[j + 1u], x[j + 2u], x[j + 3u]),
                                            vec4<f32>(x[j + 4u], x[j + 5u], x[j + 6u], x[j + 7u]));
            }
            for (var r = 0u; r < RPT; r = r + 1u) {
                let q = w_qoct(wg[r] + g, h);
                for (var i = 0u; i < MT; i = i + 1u) {
                    part[r * MT + i] = part[r * MT + i] + dot(q[0], xv[i][0]) + dot(q[1], xv[i][1]);
                }
            }
        }
        for (var r = 0u; r < RPT; r = r + 1u) {
            let s = w_gscale(wg[r] + g);
            for (var i = 0u; i < MT; i = i + 1u) {
                acc[r * MT + i] = acc[r * MT + i] + part[r * MT + i] * s;
            }
        }
    }
    return acc;
}
