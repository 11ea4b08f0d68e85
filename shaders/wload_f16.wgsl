// Weight loads for f16 weights: w is array<u32>, two f16 per word, element
// i in the low half of word i/2 when i is even. No shader-f16 needed.
fn w_load(i: u32) -> f32 {
    let v = unpack2x16float(w[i / 2u]);
    return select(v.x, v.y, (i & 1u) == 1u);
}
fn w_load4(i: u32) -> vec4<f32> {
    let a = unpack2x16float(w[i / 2u]);
    let b = unpack2x16float(w[i / 2u + 1u]);
    return vec4<f32>(a.x, a.y, b.x, b.y);
}
