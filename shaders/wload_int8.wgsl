// Weight loads for int8 weights: w is array<u32>, byte j of word i/4 is
// element 4·(i/4)+j as two's complement; wscale holds one f16 scale per group
// of 32 elements, two per word. Value = q · scale.
fn w_scale(i: u32) -> f32 {
    let g = i / 32u;
    let s = unpack2x16float(wscale[g / 2u]);
    return select(s.x, s.y, (g & 1u) == 1u);
}
fn w_q8(word: u32, j: u32) -> f32 {
    // Shift the byte to the top, then arithmetic-shift it down: sign-extends.
    return f32(bitcast<i32>(word << (24u - 8u * j)) >> 24u);
}
fn w_load(i: u32) -> f32 {
    return w_q8(w[i / 4u], i % 4u) * w_scale(i);
}
fn w_load4(i: u32) -> vec4<f32> {
    let word = w[i / 4u];
    return vec4<f32>(w_q8(word, 0u), w_q8(word, 1u), w_q8(word, 2u), w_q8(word, 3u)) * w_scale(i);
}
// w_qoct(g, h) is elements 8h … 8h + 7 of group g (elements 32g …) as the
// raw q, without the scale (two words); w_gscale(g) is the group's scale. A
// group-at-a-time reader (gemv) sums q·x over the group and scales once.
fn w_qoct(g: u32, h: u32) -> array<vec4<f32>, 2> {
    let a = w[8u * g + 2u * h];
    let b = w[8u * g + 2u * h + 1u];
    return array<vec4<f32>, 2>(vec4<f32>(w_q8(a, 0u), w_q8(a, 1u), w_q8(a, 2u), w_q8(a, 3u)),
                               vec4<f32>(w_q8(b, 0u), w_q8(b, 1u), w_q8(b, 2u), w_q8(b, 3u)));
}
fn w_gscale(g: u32) -> f32 {
    let s = unpack2x16float(wscale[g / 2u]);
    return select(s.x, s.y, (g & 1u) == 1u);
}
