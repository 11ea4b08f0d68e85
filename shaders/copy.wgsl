// copy: y = x, 16 bytes per thread. The roofline reference: the benchmark
// divides every kernel's effective bandwidth by this kernel's.
//
// bindings: 0 Params { n4: vec4 count }, 1 x: array<vec4<f32>> (n4),
//           2 y: array<vec4<f32>> (n4)
// grid: Grid1D(ceil(n4 / WG)) workgroups of WG threads.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (i < P.n4) {
        y[i] = x[i];
    }
}
