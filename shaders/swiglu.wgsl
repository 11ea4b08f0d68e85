// swiglu: y[t, f] = silu(x[t, f]) · x[t, F + f] for x (T, 2F), the output of
// HF Phi-3's fused gate_up_proj (first F columns the gate, next F the up
// projection), y (T, F): the input of down_proj. silu is act.wgsl's
// activate with ACT = SiLU, so the gate has one definition everywhere.
//
// bindings: 0 Params { rows T, f: F }
//           1 x: (T, 2F) f32   2 y: (T, F) f32 output
// grid: Grid1D(ceil(T·F / WG)) workgroups of WG threads, one output element
// per thread.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
    if (i >= P.rows * P.f) {
        return;
    }
    let t = i / P.f;
    let g = i + t * P.f; // = t·2F + f
    y[i] = activate(x[g]) * x[g + P.f];
}
