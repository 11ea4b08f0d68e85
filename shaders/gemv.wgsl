// gemv: matrix-vector product for decode (a few rows of x):
//   y[m, n] = act(Σ_k x[m, k]·W[n, k] + b[n])   (+ y[m, n] when ACCUM)
// with x (M, K) f32 at row stride ldx, W (N, K) row-major in the weight
// dtype (dequantized by w_load4 / w_load, or a group at a time by w_qoct /
// w_gscale), y written at m·ldy + ycol + n.
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
// coalesced; int8 and int4 walk groups of 32 strided by 32·TPR, adjacent
// threads reading adjacent groups) and keeps ACC = RPT·MT partial sums (index r·MT + i): each
// weight vec4 it loads serves MT rows of x, each x vec4 serves RPT rows of
// W. RPT·MT is 4 whatever the Rows, so registers and the reduction's
// workgroup memory stay the same. The reduction over the TPR threads
// of a group is the entry point's business: workgroup memory
// (gemv_workgroup.wgsl) or subgroups (gemv_subgroups.wgsl).
//
// gemv_dot(n, lid, rows), thread lid's ACC partial sums, comes from one of
// three files: gemv_dot.wgsl dequantizes f32 and f16 weights (every
// device); gemv_group.wgsl walks int8 and int4 weights a group of 32 at a
// time, strided by TPR groups, and scales each group's sum once (every
// device); gemv_dp4.wgsl multiplies int8 weights with int8-quantized x through
// packed dot products (browser only). The entry points call it in
// workgroup-uniform control flow, so it may hold barriers.

// gemv_rows is the [first, end) range of x rows of z-tile `tile`; empty when
// the tile lies past the row count (a segment smaller than the grid).
fn gemv_rows(tile: u32) -> vec2<u32> {
    let r = row_range();
    let first = r.x + tile * MT;
    return vec2<u32>(first, min(r.y, first + MT));
}
