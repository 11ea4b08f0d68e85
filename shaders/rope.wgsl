// rope: rotary position embedding, in place, HF "rotate_half" (neox)
// pairing. For row r, head hd < n_heads and pair i < R/2 (R = rot_dim ≤
// head_dim), with x0 = x[base + i], x1 = x[base + i + R/2],
// base = r·row_stride + col_off + hd·head_dim:
//   pos   = pos_offset + r / pos_div        (integer division)
//   a     = f32(pos) · inv_freq[i]          (one f32 multiply, as HF does)
//   x0'   = x0·cos(a)·mscale − x1·sin(a)·mscale
//   x1'   = x1·cos(a)·mscale + x0·sin(a)·mscale
// Dims from R to head_dim are left alone (partial rotary). inv_freq[i] =
// 1/(factor[i]·θ^(2i/R)) comes from the host (RoPEInvFreq): computing θ^x
// here with WGSL's pow would put ~1e-6 relative error in every frequency,
// which at position 1e5 is a 0.1 rad error in the angle. mscale is
// LongRoPE's attention scaling (1 for plain RoPE).
//
// pos_div = 1 gives token positions; pos_div = tokens per slice gives the
// slice index of the flattened (D·tokens) vision sequence (1D rotary over
// slices in the 3D layers). With q and k adjacent in a fused qkv row, one
// dispatch with n_heads = H + Hkv rotates both.
//
// cos and sin are computed here, not with the built-ins: WGSL only bounds
// their error on [−π, π] (and loosely), while angles reach ~1e5 rad. The
// f32 angle a is reduced exactly by a Cody–Waite split of π/2 (RP1..RP3
// have 7 significant bits, so k·RPn is exact for k < 2^17, i.e. a < 2e5,
// and each subtraction is exact; RP4 carries the rest), then Cephes' sinf
// and cosf polynomials on [−π/4, π/4]: |error| ≲ 2e-7 for any a < 2e5.
//
// bindings: 0 Params { rows, row_stride, col_off, n_heads, head_dim,
//                      rot_dim, pos_offset, pos_div, mscale }
//           1 x: f32, read_write, rotated in place
//           2 inv_freq: (rot_dim / 2) f32, read
// grid: Grid1D(ceil(rows·rot_dim/2 / WG)) workgroups of WG threads; a thread
// owns one (row, pair) and loops over the heads, which share its cos/sin.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;

const TWO_OVER_PI: f32 = 0.63661977236758134;

// sincos returns (sin a, cos a) for 0 ≤ a < 2e5.
fn sincos(a: f32) -> vec2<f32> {
    let kf = round(a * TWO_OVER_PI);
    var r = a - kf * RP1;
    r = r - kf * RP2;
    r = r - kf * RP3;
    r = r - kf * RP4;
    let z = r * r;
    let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
    let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
    // Quadrant k mod 4: (sin, cos) of r + k·π/2.
    let qd = u32(kf) & 3u;
    var res = vec2<f32>(s, c);
    if ((qd & 1u) == 1u) {
        res = vec2<f32>(c, -s);
    }
    if (qd >= 2u) {
        res = -res;
    }
    return res;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let hr = P.rot_dim / 2u;
    let e = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (e >= P.rows * hr) {
        return;
    }
    let r = e / hr;
    let i = e % hr;
    let pos = P.pos_offset + r / P.pos_div;
    let sc = sincos(f32(pos) * inv_freq[i]) * P.mscale;
    let row = r * P.row_stride + P.col_off + i;
    for (var hd = 0u; hd < P.n_heads; hd = hd + 1u) {
        let b = row + hd * P.head_dim;
        let x0 = x[b];
        let x1 = x[b + hr];
        x[b] = x0 * sc.y - x1 * sc.x;
        x[b + hr] = x1 * sc.y + x0 * sc.x;
    }
}
