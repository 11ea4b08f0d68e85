// Weight loads for f32 weights: w is array<f32>, (N, K) row-major.
fn w_load(i: u32) -> f32 {
    return w[i];
}
fn w_load4(i: u32) -> vec4<f32> {
    return vec4<f32>(w[i], w[i + 1u], w[i + 2u], w[i + 3u]);
}
