// dequant: y[i] = W[i] as f32 for i < n, through the dtype's w_load4 /
// w_load, the same load functions every weight-reading kernel uses. It
// checks those functions and serves CPU fallbacks and debugging.
//
// bindings: 0 Params { n: element count }, 1 w (+2 wscale), last y: (n) f32
// grid: Grid1D(ceil(n / (4·WG))); each thread handles four elements.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = ((wid.x + wid.y * nwg.x) * WG + lid.x) * 4u;
    if (i + 3u < P.n) {
        let v = w_load4(i);
        y[i] = v.x;
        y[i + 1u] = v.y;
        y[i + 2u] = v.z;
        y[i + 3u] = v.w;
    } else {
        for (var j = i; j < P.n; j = j + 1u) {
            y[j] = w_load(j);
        }
    }
}
