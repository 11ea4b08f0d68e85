// Bindings of rmsnorm with the residual add fused (x += r, written back).
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
fn load_r(i: u32) -> f32 { return r[i]; }
fn store_x(i: u32, v: f32) { x[i] = v; }
// Each thread re-reads only elements it wrote itself, so no barrier is needed.
fn x_after(i: u32) -> f32 { return x[i]; }
