// act_apply: y[i] = activate(x[i]) for i < n, the activation selected by the
// injected constant ACT (act.wgsl). In place (x[i] = activate(x[i])) the
// output is x itself: WebGPU forbids binding one buffer twice when a binding
// is writable, so in place is its own variant rather than y aliasing x.
//
// bindings: 0 Params { n: element count }
//           1 x: (n) f32, read_write when in place
//           2 y: (n) f32 output             (out-of-place only)
// grid: Grid1D(ceil(n / WG)) workgroups of WG threads, one element per
// thread, so consecutive threads touch consecutive words.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (i >= P.n) {
        return;
    }
    store_y(i, activate(x[i]));
}
