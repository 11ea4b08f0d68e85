// gemm: tiled matrix product for prefill and the vision tower:
//   Y[m, n] = act(Σ_k X[m, k]·W[n, k] + b[n])   (+ Y[m, n] when ACCUM)
// with X (M, K) f32 at row stride ldx, W (N, K) row-major in the weight
// dtype, Y written at m·ldy + ycol + n (MatMulParams in matmul.go).
//
// bindings: 0 Params (MatMulParams: m, n, k, ldx, ldy, ycol, segment)
//           1 x: f32, rows of ldx
//           2 w (+3 wscale): W (N, K) in the weight dtype (quant.go)
//           next b: (N) f32 bias                          (Bias only)
//           next seg: u32 (offset, count) per expert      (Segmented only)
//           last y: f32, read_write
// grid: (ceil(N / BN), ceil(M / BM)) workgroups of WG = TX·TY threads; the
// rows of tile y are row_range().x + y·BM …, and with Segmented the tiles
// past the segment's count return at once.
//
// Each workgroup computes a BM×BN tile of Y in steps of BK along K: every
// thread loads one vec4 (four consecutive k) of the X tile and one of the W
// tile — W dequantized on the way by w_load4 — into workgroup memory, k
// contiguous with one vec4 of padding per row so that the TX threads
// reading rows tx, tx+TX, … hit different banks. Thread (tx, ty) then
// accumulates the TM×TN outputs at rows ty + i·TY and columns tx + j·TX
// (strided, so the final stores of adjacent threads are adjacent).
// Zeros pad the tiles past M, N and K. Workgroup memory: (BM + BN)·XSTR vec4.

var<workgroup> xs: array<vec4<f32>, XS_LEN>;
var<workgroup> ws: array<vec4<f32>, WS_LEN>;

fn x_at(base: u32, k: u32) -> f32 {
    if (k < P.k) {
        return x[base + k];
    }
    return 0.0;
}

// x_tile is X[row, k..k+3], zero past K or for a row outside the range.
fn x_tile(row_ok: bool, base: u32, k: u32) -> vec4<f32> {
    if (!row_ok) {
        return vec4<f32>(0.0);
    }
    if (k + 3u < P.k) {
        let j = base + k;
        return vec4<f32>(x[j], x[j + 1u], x[j + 2u], x[j + 3u]);
    }
    return vec4<f32>(x_at(base, k), x_at(base, k + 1u), x_at(base, k + 2u), x_at(base, k + 3u));
}

fn w_at(base: u32, k: u32) -> f32 {
    if (k < P.k) {
        return w_load(base + k);
    }
    return 0.0;
}

// w_tile is W[n, k..k+3], zero past N or K. A partial vec4 only happens
// for f32 and f16 (quantized K is a multiple of 32, so of BK).
fn w_tile(n: u32, k: u32) -> vec4<f32> {
    if (n >= P.n) {
        return vec4<f32>(0.0);
    }
    let base = n * P.k;
    if (k + 3u < P.k) {
        return w_load4(base + k);
    }
    return vec4<f32>(w_at(base, k), w_at(base, k + 1u), w_at(base, k + 2u), w_at(base, k + 3u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let r = row_range();
    let m0 = r.x + wid.y * BM;
    let n0 = wid.x * BN;
    // Uniform across the workgroup (workgroup id, uniform and read-only
    // storage values), so the barriers below stay in uniform control flow.
    if (m0 >= r.y || n0 >= P.n) {
        return;
    }
    let tx = li % TX;
    let ty = li / TX;
    // Loader: row lr of both tiles, vec4 column lq.
    let lr = li / (BK / 4u);
    let lq = li % (BK / 4u);
    let xrow = m0 + lr;
    let xok = xrow < r.y;
    let xbase = xrow * P.ldx;
    let wn = n0 + lr;

    var acc: array<vec4<f32>, TM>;
    for (var k0 = 0u; k0 < P.k; k0 = k0 + BK) {
        let k = k0 + lq * 4u;
        xs[lr * XSTR + lq] = x_tile(xok, xbase, k);
        ws[lr * XSTR + lq] = w_tile(wn, k);
        workgroupBarrier();
        for (var q = 0u; q < BK / 4u; q = q + 1u) {
            let b0 = ws[tx * XSTR + q];
            let b1 = ws[(tx + TX) * XSTR + q];
            let b2 = ws[(tx + 2u * TX) * XSTR + q];
            let b3 = ws[(tx + 3u * TX) * XSTR + q];
            for (var i = 0u; i < TM; i = i + 1u) {
                let a = xs[(ty + i * TY) * XSTR + q];
                acc[i] = acc[i] + vec4<f32>(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < TM; i = i + 1u) {
        let m = m0 + ty + i * TY;
        if (m < r.y) {
            for (var j = 0u; j < 4u; j = j + 1u) {
                let n = n0 + tx + j * TX;
                if (n < P.n) {
                    mm_store(m, n, acc[i][j]);
                }
            }
        }
    }
}
