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

fn sample_tri(p: vec3<f32>) -> f32 {
    let q = clamp(p, vec3<f32>(0.0), vol_dims() - vec3<f32>(1.0));
    let fl = floor(q);
    let f = q - fl;
    let i0 = vec3<u32>(fl);
    let i1 = min(i0 + vec3<u32>(1u), vec3<u32>(P.nx - 1u, P.ny - 1u, P.nz - 1u));
    let c00 = lerp1(voxel(i0.x, i0.y, i0.z), voxel(i1.x, i0.y, i0.z), f.x);
    let c10 = lerp1(voxel(i0.x, i1.y, i0.z), voxel(i1.x, i1.y, i0.z), f.x);
    let c01 = lerp1(voxel(i0.x, i0.y, i1.z), voxel(i1.x, i0.y, i1.z), f.x);
    let c11 = lerp1(voxel(i0.x, i1.y, i1.z), voxel(i1.x, i1.y, i1.z), f.x);
    return lerp1(lerp1(c00, c10, f.y), lerp1(c01, c11, f.y), f.z);
}
