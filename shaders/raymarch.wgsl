// raymarch: orthographic volume rendering of a CT volume.
// Pixel (px, py) casts the ray r(t) = o + px·u + py·v + t·d (voxel
// coordinates; d is one step, step_mm long) through the volume's box
// [−½, n−½)³, from where it enters (or t = 0) to where it leaves, sampling
// trilinearly (volsample.wgsl) at t = t_in + i + ½, i < steps. By mode:
//   0 DVR: front-to-back compositing of the transfer function lut
//     (LUT_N RGBA entries over HU lut_lo + i/lut_scale, linear between
//     entries); opacity corrected for the step, a = 1 − (1 − α)^opacity_exp;
//     with shade ≠ 0 the colour is scaled by ambient + (1 − ambient)·|n·l|,
//     n the normalised central-difference gradient (per mm: gx, gy, gz are
//     1/(2·spacing)), l = (lx, ly, lz); stops once the opacity reaches 0.99;
//     composited over black.
//   1 MIP, 2 MinIP: the maximum (minimum) sample, windowed to grey like mpr.
// Rays that miss the volume are black.
//
// bindings: 0 Params
//           1–4 vol0..vol3: the volume's slabs, int16 pairs in u32
//           5 lut: (LUT_N) vec4<f32> RGBA, straight alpha
//           6 out: (height, width) u32 RGBA8 (OUT_F32: (height, width, 4) f32)
// grid: (⌈width/8⌉, ⌈height/8⌉, 1) workgroups of 8×8, one ray each.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(5) var<storage, read> lut: array<vec4<f32>>;

fn lut_at(hu: f32) -> vec4<f32> {
    let f = clamp((hu - P.lut_lo) * P.lut_scale, 0.0, f32(LUT_N - 1u));
    let i0 = u32(floor(f));
    let i1 = min(i0 + 1u, LUT_N - 1u);
    let t = f - floor(f);
    return lut[i0] * (1.0 - t) + lut[i1] * t;
}

// gradient is written as one loop over the six neighbours so that
// sample_tri is inlined once: six inlined copies made SwiftShader's shader
// compiler (headless Chromium) run for minutes and lose the device.
fn gradient(p: vec3<f32>) -> vec3<f32> {
    var g = vec3<f32>(0.0);
    for (var k = 0u; k < 6u; k = k + 1u) {
        let a = k / 2u;
        var sgn = 1.0;
        if ((k & 1u) == 1u) {
            sgn = -1.0;
        }
        var e = vec3<f32>(0.0);
        e[a] = sgn;
        g[a] = g[a] + sgn * sample_tri(p + e);
    }
    return g * vec3<f32>(P.gx, P.gy, P.gz);
}

fn ray_pixel(px: f32, py: f32) -> vec4<f32> {
    let o = vec3<f32>(P.ox, P.oy, P.oz) + px * vec3<f32>(P.ux, P.uy, P.uz) + py * vec3<f32>(P.vx, P.vy, P.vz);
    let d = vec3<f32>(P.dx, P.dy, P.dz);
    let ta = (vec3<f32>(-0.5) - o) / d;
    let tb = (vol_dims() - vec3<f32>(0.5) - o) / d;
    let tlo = min(ta, tb);
    let thi = max(ta, tb);
    let t_in = max(max(tlo.x, tlo.y), max(tlo.z, 0.0));
    let t_out = min(min(thi.x, thi.y), thi.z);
    var acc = vec4<f32>(0.0);
    var m = 0.0;
    var hit = false;
    if (t_out > t_in) {
        let n = min(P.steps, u32(ceil(t_out - t_in)));
        for (var i = 0u; i < n; i = i + 1u) {
            let t = t_in + f32(i) + 0.5;
            if (t >= t_out) {
                break;
            }
            let p = o + t * d;
            let s = sample_tri(p);
            if (P.mode == 0u) {
                let c = lut_at(s);
                if (c.a <= 0.0) {
                    continue;
                }
                let a = 1.0 - pow(1.0 - min(c.a, 0.999), P.opacity_exp);
                var rgb = c.rgb;
                if (P.shade != 0u) {
                    let g = gradient(p);
                    let gl = length(g);
                    if (gl > 1e-3) {
                        let l = abs(dot(g / gl, vec3<f32>(P.lx, P.ly, P.lz)));
                        rgb = rgb * (P.ambient + (1.0 - P.ambient) * l);
                    }
                }
                let w = (1.0 - acc.a) * a;
                acc = vec4<f32>(acc.rgb + w * rgb, acc.a + w);
                if (acc.a >= 0.99) {
                    break;
                }
            } else {
                if (!hit) {
                    m = s;
                } else if (P.mode == 1u) {
                    m = max(m, s);
                } else {
                    m = min(m, s);
                }
                hit = true;
            }
        }
    }
    if (P.mode == 0u) {
        return vec4<f32>(acc.rgb, 1.0);
    }
    if (!hit) {
        return vec4<f32>(0.0, 0.0, 0.0, 1.0);
    }
    return vec4<f32>(vec3<f32>(clamp((m - P.win_lo) * P.win_scale, 0.0, 1.0)), 1.0);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x >= P.width || g.y >= P.height) {
        return;
    }
    store_pixel(g.y * P.width + g.x, ray_pixel(f32(g.x), f32(g.y)));
}
