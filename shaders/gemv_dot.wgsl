// gemv dot products with the weights dequantized to f32 (gemv.wgsl has
// the thread layout).

// gemv_dot (every device) is thread lid's share of the ACC dot products of
// W rows n … n + RPT − 1 with x rows `rows`: its lane's vec4 columns, then
// a scalar tail for K not a multiple of 4 (f32 and f16 only: quantized K is
// a multiple of 32). It never branches on the row, so every thread reaches
// the reduction's barriers.
fn gemv_dot(n: u32, lid: u32, rows: vec2<u32>) -> array<f32, ACC> {
    let lane = lid % TPR;
    var acc: array<f32, ACC>;
    // Rows of x or W past the end repeat the last one: loads stay in
    // bounds and the loop body has no branch; their sums are never stored.
    var xb: array<u32, MT>;
    for (var i = 0u; i < MT; i = i + 1u) {
        xb[i] = min(rows.x + i, rows.y - 1u) * P.ldx;
    }
    var wb: array<u32, RPT>;
    for (var r = 0u; r < RPT; r = r + 1u) {
        wb[r] = min(n + r, P.n - 1u) * P.k;
    }
    let k4 = P.k & ~3u;
    for (var k = lane * 4u; k < k4; k = k + 4u * TPR) {
        var xv: array<vec4<f32>, MT>;
        for (var i = 0u; i < MT; i = i + 1u) {
            let j = xb[i] + k;
            xv[i] = vec4<f32>(x[j], x[j + 1u], x[j + 2u], x[j + 3u]);
        }
        for (var r = 0u; r < RPT; r = r + 1u) {
            let wv = w_load4(wb[r] + k);
            for (var i = 0u; i < MT; i = i + 1u) {
                acc[r * MT + i] = acc[r * MT + i] + dot(wv, xv[i]);
            }
        }
    }
    for (var k = k4 + lane; k < P.k; k = k + TPR) {
        for (var r = 0u; r < RPT; r = r + 1u) {
            let wv = w_load(wb[r] + k);
            for (var i = 0u; i < MT; i = i + 1u) {
                acc[r * MT + i] = acc[r * MT + i] + wv * x[xb[i] + k];
            }
        }
    }
    return acc;
}
