// mpr: one multiplanar reformat view of a CT volume, windowed to grey.
// Pixel (px, py) of a width×height image looks at the voxel-space point
//   c = o + px·u + py·v            (o, u, v: Params, voxel coordinates)
// and reduces slab_n samples c + (k − (slab_n−1)/2)·dn, k < slab_n, that
// fall inside the volume (trilinear, volsample.wgsl) by mode:
//   0 mean (slab_n = 1: the plain slice), 1 maximum (MIP), 2 minimum (MinIP);
// then grey = clamp((value − win_lo)·win_scale, 0, 1), inverted when
// invert ≠ 0; pixels whose samples all lie outside are black.
// When heat_on ≠ 0 the expert heat map is blended over pixels whose centre
// c lies inside: heat holds one RGBA8 colour per vision token of a
// heat_d×heat_h×heat_w grid stretched over the whole volume (token
// (⌊(c.z+½)·heat_d/nz⌋, ⌊(c.y+½)·heat_h/ny⌋, ⌊(c.x+½)·heat_w/nx⌋)),
// rgb = mix(rgb, heat.rgb, heat.a).
//
// bindings: 0 Params
//           1–4 vol0..vol3: the volume's slabs, int16 pairs in u32
//           5 heat: (heat_d·heat_h·heat_w) u32 RGBA8 (a 1-word dummy when off)
//           6 out: (height, width) u32 RGBA8 (OUT_F32: (height, width, 4) f32)
// grid: (⌈width/8⌉, ⌈height/8⌉, 1) workgroups of 8×8, one pixel each.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(5) var<storage, read> heat: array<u32>;

fn heat_token(c: vec3<f32>) -> u32 {
    let tx = min(u32(floor((c.x + 0.5) * f32(P.heat_w) / f32(P.nx))), P.heat_w - 1u);
    let ty = min(u32(floor((c.y + 0.5) * f32(P.heat_h) / f32(P.ny))), P.heat_h - 1u);
    let tz = min(u32(floor((c.z + 0.5) * f32(P.heat_d) / f32(P.nz))), P.heat_d - 1u);
    return (tz * P.heat_h + ty) * P.heat_w + tx;
}

fn mpr_pixel(px: f32, py: f32) -> vec4<f32> {
    let c = vec3<f32>(P.ox, P.oy, P.oz) + px * vec3<f32>(P.ux, P.uy, P.uz) + py * vec3<f32>(P.vx, P.vy, P.vz);
    let dn = vec3<f32>(P.dnx, P.dny, P.dnz);
    let half = f32(P.slab_n - 1u) * 0.5;
    var acc = 0.0;
    var m = 0.0;
    var cnt = 0u;
    for (var k = 0u; k < P.slab_n; k = k + 1u) {
        let p = c + (f32(k) - half) * dn;
        if (!inside(p)) {
            continue;
        }
        let s = sample_tri(p);
        if (cnt == 0u) {
            m = s;
        } else if (P.mode == 1u) {
            m = max(m, s);
        } else if (P.mode == 2u) {
            m = min(m, s);
        }
        acc = acc + s;
        cnt = cnt + 1u;
    }
    var rgb = vec3<f32>(0.0);
    if (cnt > 0u) {
        var value = m;
        if (P.mode == 0u) {
            value = acc / f32(cnt);
        }
        var g = clamp((value - P.win_lo) * P.win_scale, 0.0, 1.0);
        if (P.invert != 0u) {
            g = 1.0 - g;
        }
        rgb = vec3<f32>(g);
    }
    if (P.heat_on != 0u && inside(c)) {
        let h = unpack4x8unorm(heat[heat_token(c)]);
        rgb = rgb * (1.0 - h.a) + h.rgb * h.a;
    }
    return vec4<f32>(rgb, 1.0);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    if (g.x >= P.width || g.y >= P.height) {
        return;
    }
    let rgba = mpr_pixel(f32(g.x), f32(g.y));
    store_pixel(g.y * P.width + g.x, rgba);
}
