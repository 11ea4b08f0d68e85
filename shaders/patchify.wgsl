// patchify: im2col for CLIP's patch embedding, a conv2d with kernel p,
// stride p and no padding applied to each slice. For x (D, Cin, H, W) and
// Hp = ⌊H/p⌋, Wp = ⌊W/p⌋ (trailing pixels dropped, as the conv does):
//   y[d, prefix + py·Wp + px, (c·p + ky)·p + kx] = x[d, c, py·p + ky, px·p + kx]
//   y[d, 0, :] = 0 when prefix = 1 (the class token's row, filled later)
// so y (D, prefix + Hp·Wp, Cin·p·p) times the conv weight (Cout, Cin, p, p)
// read as an ordinary (N = Cout, K = Cin·p·p) matrix is the conv output in
// CLIP's token order (row-major over the patch grid).
//
// bindings: 0 Params { d, cin, h, w, ps: p, prefix, hp, wp }
//           1 x: (D, Cin, H, W) f32
//           2 y: (D, prefix + Hp·Wp, Cin·p·p) f32 output
// grid: Grid1D(ceil(D·(prefix + Hp·Wp)·Cin·p·p / WG)) workgroups of WG
// threads, one output element per thread: writes are contiguous, reads
// are runs of p pixels.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    let k = P.cin * P.ps * P.ps;
    let rows = P.prefix + P.hp * P.wp;
    if (i >= P.d * rows * k) {
        return;
    }
    let col = i % k;
    let r = i / k;
    let tok = r % rows;
    let d = r / rows;
    if (tok < P.prefix) {
        y[i] = 0.0;
        return;
    }
    let pt = tok - P.prefix;
    let py = pt / P.wp;
    let px = pt % P.wp;
    let kx = col % P.ps;
    let ky = (col / P.ps) % P.ps;
    let c = col / (P.ps * P.ps);
    y[i] = x[((d * P.cin + c) * P.h + py * P.ps + ky) * P.w + px * P.ps + kx];
}
