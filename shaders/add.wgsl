// add: out[i] = a[i] + b[i mod nb] for i < n. b is broadcast by repetition:
// nb = n is the residual add; nb = tokens·C adds one position-embedding
// table (tokens, C) to every slice of (D, tokens, C); nb = C adds a bias to
// every row. In place (a += b) the output is a itself: WebGPU forbids binding
// one buffer twice when a binding is writable.
//
// bindings: 0 Params { n, nb }
//           1 a: (n) f32, read_write when in place
//           2 b: (nb) f32
//           3 y: (n) f32 output                 (out-of-place only)
// grid: Grid1D(ceil(n / WG)) workgroups of WG threads, one element per thread.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (i >= P.n) {
        return;
    }
    store_y(i, a[i] + b[i % P.nb]);
}
