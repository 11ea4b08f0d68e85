// gemv dot products for int8 weights through packed int8 dot products:
// dot4I8Packed, of WGSL's packed_4x8_integer_dot_product language extension.
// Chrome's tint takes it without an `enable`; the naga inside wgpu-native
// rejects it, so these variants are browser only (NeedsPackedDot4).
// gemv.wgsl has the thread layout; MatMulDP4Ref (matmul_dp4_ref.go) is the
// reference, rounding for rounding.
//
// x is quantized like the weights: per block of 32 along K, symmetric, with
//   s = max|x| · (1/127)
//   q = the integer in [0, 127] with (q − ½)·s ≤ |x| < (q + ½)·s, signed as x
// both from products, which WGSL rounds correctly, where a division may be
// 2.5 ULP off: a reciprocal guesses q, and the two thresholds settle it, so
// every device and the Go reference agree on every code. A block whose s is
// below the smallest normal f32 (which a GPU may flush to zero) is all
// zeros. Each group of 32 is then 8 dot4I8Packed summed in i32 (exact:
// |Σ| ≤ 32·127² < 2²⁴, so f32(Σ) is exact too) and added to the thread's
// sum as f32(Σ) · (w scale · x scale).
//
// The workgroup quantizes x into workgroup memory a chunk at a time: DP4_KC
// columns of each of its MT rows, DP4_KC·MT = 16·WG elements (4 KiB of
// codes), so any K fits in the WebGPU default of 16 KiB beside either
// reduction. Thread lid quantizes half lid % 2 of chunk block b = lid / 2
// (row b / DP4_KCB of the tile, block b % DP4_KCB of the chunk) and learns
// the block's max|x| from its twin lid ^ 1 through dp4_amax. Then lane l of
// each thread group takes blocks l, l + TPR, … of the chunk: per block the
// MT rows' 8 code words and scales, kept in registers, and per W row its 8
// weight words (32 contiguous bytes) and scale. Every barrier sits in
// workgroup-uniform control flow (the chunk loop is bounded by P.k).
// Workgroup memory: 16·WG bytes of codes, WG/2 + WG f32.

var<workgroup> dp4_xq: array<u32, DP4_XQ>; // codes of chunk block b: words 8·b … 8·b + 7
var<workgroup> dp4_xs: array<f32, DP4_XS>; // scale of chunk block b
var<workgroup> dp4_amax: array<f32, WG>; // max|x| of each half block

// dp4_code is the signed code of v in a block of scale s > 0, given r ≈ 1/s.
fn dp4_code(v: f32, s: f32, r: f32) -> i32 {
    let a = abs(v);
    // r is within a few ULP of 1/s, so round(a·r) is the code or one off
    // it, and only where a·r is a hair from a half: the thresholds decide.
    var q = min(round(a * r), 127.0);
    if (q < 127.0 && a >= (q + 0.5) * s) {
        q = q + 1.0;
    } else if (q > 0.0 && a < (q - 0.5) * s) {
        q = q - 1.0;
    }
    let c = i32(q);
    return select(c, -c, v < 0.0);
}

// dp4_quantize fills dp4_xq and dp4_xs with the chunk of columns k0 …
// k0 + DP4_KC − 1 of the tile's rows. Every thread must call it (barrier).
fn dp4_quantize(k0: u32, lid: u32, rows: vec2<u32>) {
    let b = lid / 2u;
    let h = lid % 2u;
    let k = k0 + (b % DP4_KCB) * 32u + h * 16u;
    var v: array<f32, 16>;
    var amax = 0.0;
    // Blocks past K (the last chunk's tail) stay zero and are never read;
    // rows past the tile's end repeat its last row, like gemv_dot.wgsl.
    if (k < P.k) {
        let base = min(rows.x + b / DP4_KCB, rows.y - 1u) * P.ldx + k;
        for (var e = 0u; e < 16u; e = e + 1u) {
            v[e] = x[base + e];
            amax = max(amax, abs(v[e]));
        }
    }
    dp4_amax[lid] = amax;
    workgroupBarrier();
    amax = max(amax, dp4_amax[lid ^ 1u]);
    let tiny = bitcast<f32>(0x00800000u); // the smallest normal f32
    var s = amax * bitcast<f32>(DP4_INV127);
    if (s < tiny) {
        s = 0.0;
    }
    let r = 1.0 / max(s, tiny);
    for (var j = 0u; j < 4u; j = j + 1u) {
        var q = vec4<i32>(0);
        if (s > 0.0) {
            for (var e = 0u; e < 4u; e = e + 1u) {
                q[e] = dp4_code(v[4u * j + e], s, r);
            }
        }
        dp4_xq[8u * b + 4u * h + j] = pack4xI8(q);
    }
    if (h == 0u) {
        dp4_xs[b] = s;
    }
}

// gemv_dot (int8 weights, packed dot products) is thread lid's share of the
// ACC dot products of W rows n … n + RPT − 1 with x rows `rows`. Rows of W
// past the end repeat the last one (their sums are never stored).
fn gemv_dot(n: u32, lid: u32, rows: vec2<u32>) -> array<f32, ACC> {
    let lane = lid % TPR;
    var acc: array<f32, ACC>;
    var wb: array<u32, RPT>;
    for (var r = 0u; r < RPT; r = r + 1u) {
        wb[r] = min(n + r, P.n - 1u) * P.k;
    }
    for (var k0 = 0u; k0 < P.k; k0 = k0 + DP4_KC) {
        dp4_quantize(k0, lid, rows);
        workgroupBarrier();
        let blocks = min(DP4_KCB, (P.k - k0) / 32u);
        for (var j = lane; j < blocks; j = j + TPR) {
            var xq: array<u32, DP4_MTW>;
            var xs: array<f32, MT>;
            for (var i = 0u; i < MT; i = i + 1u) {
                let b = i * DP4_KCB + j;
                xs[i] = dp4_xs[b];
                for (var e = 0u; e < 8u; e = e + 1u) {
                    xq[8u * i + e] = dp4_xq[8u * b + e];
                }
            }
            for (var r = 0u; r < RPT; r = r + 1u) {
                let g = wb[r] + k0 + 32u * j; // the group's first element
                var wq: array<u32, 8>;
                for (var e = 0u; e < 8u; e = e + 1u) {
                    wq[e] = w[g / 4u + e];
                }
                let ws = w_scale(g);
                for (var i = 0u; i < MT; i = i + 1u) {
                    var d = 0i;
                    for (var e = 0u; e < 8u; e = e + 1u) {
                        d = d + dot4I8Packed(wq[e], xq[8u * i + e]);
                    }
                    acc[r * MT + i] = acc[r * MT + i] + f32(d) * (ws * xs[i]);
                }
            }
        }
        // The next chunk overwrites what this one read.
        workgroupBarrier();
    }
    return acc;
}
