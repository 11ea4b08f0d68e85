// gemv: matrix-vector product for decode (a few rows of x):
//   y[m, n] = act(Σ_k x[m, k]·W[n, k] + b[n])   (+ y[m, n] when ACCUM)
// with x (M, K) f32 at row stride ldx, W (N, K) row-major in the weight
// dtype (dequantized by w_load4 / w_load), y written at m·ldy + ycol + n.
//
// bindings: 0 Params (MatMulParams: m, n, k, ldx, ldy, ycol, segment)
//           1 x: f32, rows of ldx
//           2 w (+3 wscale): W (N, K) in the weight dtype (quant.go)
//           next b: (N) f32 bias                          (Bias only)
//           next seg: u32 (offset, count) per expert      (Segmented only)
//           last y: f32, read_write
// grid: x·y = Grid1D(ceil(N / RPW)) blocks of RPW rows of W, z = ceil(M / MT)
// tiles of MT rows of x. Rows of x (and y) are row_range().x + z·MT + i.
//
// A workgroup of WG threads is NG = WG / TPR groups of TPR threads; group g
// owns the RPT rows g·RPT … of the block (RPW = NG·RPT). A thread walks K in
// vec4 steps strided by 4·TPR (adjacent threads read adjacent 16 bytes:
// coalesced) and keeps ACC = RPT·MT partial sums (index r·MT + i): each
// weight vec4 it loads serves MT rows of x, each x vec4 serves RPT rows of
// W. RPT·MT is 4 whatever the Rows, so registers and the reduction's
// workgroup memory stay the same. The reduction over the TPR threads
// of a group is the entry point's business: workgroup memory
// (gemv_workgroup.wgsl) or subgroups (gemv_subgroups.wgsl).

// gemv_rows is the [first, end) range of x rows of z-tile `tile`; empty when
// the tile lies past the row count (a segment smaller than the grid).
fn gemv_rows(tile: u32) -> vec2<u32> {
    let r = row_range();
    let first = r.x + tile * MT;
    return vec2<u32>(first, min(r.y, first + MT));
}

// gemv_dot is one thread's share of the ACC dot products of W rows
// n … n + RPT − 1 with x rows `rows`: the thread's lanes of the rows' vec4
// columns, then a scalar tail for K not a multiple of 4 (f32 and f16 only:
// quantized K is a multiple of 32). It never branches on the row, so every
// thread reaches the reduction's barriers.
fn gemv_dot(n: u32, lane: u32, rows: vec2<u32>) -> array<f32, ACC> {
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
