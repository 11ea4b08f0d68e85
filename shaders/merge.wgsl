// merge: Phi-3-Vision's 2×2 token merge, per slice. For x (D, skip + h·w, C)
// holding an h×w grid of tokens after `skip` leading ones (1: CLIP's class
// token, dropped), and y (D, (h/2)·(w/2), 4C):
//   y[d, i·(w/2) + j, (2a + b)·C + c] = x[d, skip + (2i + a)·w + 2j + b, c]
// i.e. merged token (i, j) concatenates the 2×2 block in the order (0,0),
// (0,1), (1,0), (1,1): HF's reshape(N, h/2, 2, w/2, 2, C)
// .permute(0, 1, 3, 2, 4, 5).reshape(N, h/2·w/2, 4C).
//
// bindings: 0 Params { d, skip, h, w, c }   (h and w even)
//           1 x: (D, skip + h·w, C) f32
//           2 y: (D, (h/2)·(w/2), 4C) f32 output
// grid: Grid1D(ceil(D·(h/2)·(w/2)·4C / WG)) workgroups of WG threads, one
// output element per thread: writes are contiguous, reads are runs of C.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    let hw2 = (P.h / 2u) * (P.w / 2u);
    let c4 = 4u * P.c;
    if (i >= P.d * hw2 * c4) {
        return;
    }
    let col = i % c4;
    let r = i / c4;
    let tok = r % hw2;
    let d = r / hw2;
    let q = col / P.c; // 2a + b
    let ch = col % P.c;
    let ty = 2u * (tok / (P.w / 2u)) + q / 2u;
    let tx = 2u * (tok % (P.w / 2u)) + q % 2u;
    y[i] = x[(d * (P.skip + P.h * P.w) + P.skip + ty * P.w + tx) * P.c + ch];
}
