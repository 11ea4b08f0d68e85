// volsample: HU voxels of a CT volume held as int16 pairs in up to four
// storage buffers ("slabs" of whole z-slices: a 512×512×500 series is
// 262 MB, past the 128 MiB default binding limit), and trilinear sampling
// in voxel coordinates. Shared by mpr.wgsl and raymarch.wgsl; the layout is
// shaders.VolumeLayout's (PlanVolume, PackSlab).
//
// Voxel (x, y, z) lives in slab s = z / slab_slices, at index
// i = x + nx·(y + ny·(z − s·slab_slices)), in the low (i even) or high
// (i odd) half of word i/2, two's complement. Coordinates are voxel
// indices with voxel centres at integers: the volume covers
// [−½, n−½) along each axis. Sampling clamps to the edge voxels (no
// extrapolation), so a sample at a voxel centre returns its HU exactly.
//
// Needs in Params: nx, ny, nz, slab_slices; the constant SLABS (1: the
// whole volume in vol0, the common case, compiled without the switch).

@group(0) @binding(1) var<storage, read> vol0: array<u32>;
@group(0) @binding(2) var<storage, read> vol1: array<u32>;
@group(0) @binding(3) var<storage, read> vol2: array<u32>;
@group(0) @binding(4) var<storage, read> vol3: array<u32>;

fn vox_word(s: u32, i: u32) -> u32 {
    if (SLABS == 1u) {
        return vol0[i];
    }
    switch s {
        case 0u: { return vol0[i]; }
        case 1u: { return vol1[i]; }
        case 2u: { return vol2[i]; }
        default: { return vol3[i]; }
    }
}

fn voxel(x: u32, y: u32, z: u32) -> f32 {
    let s = z / P.slab_slices;
    let i = x + P.nx * (y + P.ny * (z - s * P.slab_slices));
    let w = vox_word(s, i >> 1u);
    let hi = (w >> ((i & 1u) * 16u)) << 16u;
    return f32(bitcast<i32>(hi) >> 16u);
}

fn vol_dims() -> vec3<f32> {
    return vec3<f32>(f32(P.nx), f32(P.ny), f32(P.nz));
}

fn inside(p: vec3<f32>) -> bool {
    return all(p >= vec3<f32>(-0.5)) && all(p < vol_dims() - vec3<f32>(0.5));
}

fn lerp1(a: f32, b: f32, t: f32) -> f32 {
    return a * (1.0 - t) + b * t;
}

// words4 loads four words of one slab: one slab switch for four loads.
fn words4(s: u32, i: vec4<u32>) -> vec4<u32> {
    if (SLABS == 1u) {
        return vec4<u32>(vol0[i.x], vol0[i.y], vol0[i.z], vol0[i.w]);
    }
    switch s {
        case 0u: { return vec4<u32>(vol0[i.x], vol0[i.y], vol0[i.z], vol0[i.w]); }
        case 1u: { return vec4<u32>(vol1[i.x], vol1[i.y], vol1[i.z], vol1[i.w]); }
        case 2u: { return vec4<u32>(vol2[i.x], vol2[i.y], vol2[i.z], vol2[i.w]); }
        default: { return vec4<u32>(vol3[i.x], vol3[i.y], vol3[i.z], vol3[i.w]); }
    }
}

fn half_hu(w: u32, i: u32) -> f32 {
    let hi = (w >> ((i & 1u) * 16u)) << 16u;
    return f32(bitcast<i32>(hi) >> 16u);
}

// quad returns the HU of voxels (x0,y0), (x1,y0), (x0,y1), (x1,y1) of
// slice z. A trilinear sample reads two quads, so it holds two slab
// switches rather than eight: with a ray march's gradient (seven samples a
// step) the eight-switch form made SwiftShader's compiler run out of
// memory and lose the device.
fn quad(x0: u32, x1: u32, y0: u32, y1: u32, z: u32) -> vec4<f32> {
    let s = z / P.slab_slices;
    let base = P.nx * P.ny * (z - s * P.slab_slices);
    let i = vec4<u32>(x0 + P.nx * y0, x1 + P.nx * y0, x0 + P.nx * y1, x1 + P.nx * y1) + vec4<u32>(base);
    let w = words4(s, i >> vec4<u32>(1u));
    return vec4<f32>(half_hu(w.x, i.x), half_hu(w.y, i.y), half_hu(w.z, i.z), half_hu(w.w, i.w));
}

fn sample_tri(p: vec3<f32>) -> f32 {
    let q = clamp(p, vec3<f32>(0.0), vol_dims() - vec3<f32>(1.0));
    let fl = floor(q);
    let f = q - fl;
    let i0 = vec3<u32>(fl);
    let i1 = min(i0 + vec3<u32>(1u), vec3<u32>(P.nx - 1u, P.ny - 1u, P.nz - 1u));
    let a = quad(i0.x, i1.x, i0.y, i1.y, i0.z);
    let b = quad(i0.x, i1.x, i0.y, i1.y, i1.z);
    let c00 = lerp1(a.x, a.y, f.x);
    let c10 = lerp1(a.z, a.w, f.x);
    let c01 = lerp1(b.x, b.y, f.x);
    let c11 = lerp1(b.z, b.w, f.x);
    return lerp1(lerp1(c00, c10, f.y), lerp1(c01, c11, f.y), f.z);
}
