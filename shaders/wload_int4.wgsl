// Weight loads for int4 weights: w is array<u32>, nibble j (bits 4j..4j+3)
// of word i/8 is element 8·(i/8)+j stored as q+8; wscale holds one f16 scale
// per group of 32 elements, two per word. Value = q · scale.
fn w_scale(i: u32) -> f32 {
    let g = i / 32u;
    let s = unpack2x16float(wscale[g / 2u]);
    return select(s.x, s.y, (g & 1u) == 1u);
}
fn w_load(i: u32) -> f32 {
    let q = (w[i / 8u] >> (4u * (i % 8u))) & 15u;
    return (f32(q) - 8.0) * w_scale(i);
}
fn w_load4(i: u32) -> vec4<f32> {
    let word = w[i / 8u] >> (4u * (i % 8u));
    let q = vec4<f32>(f32(word & 15u), f32((word >> 4u) & 15u), f32((word >> 8u) & 15u), f32((word >> 12u) & 15u));
    return (q - vec4<f32>(8.0)) * w_scale(i);
}
// w_qoct(g, h) is elements 8h … 8h + 7 of group g (elements 32g …) as the
// raw q, without the scale: one word, each nibble n ^ 8 read as a signed
// 4-bit value (= n − 8). w_gscale(g) is the group's scale. A group-at-a-time
// reader (gemv) sums q·x over the group and scales once.
fn w_qoct(g: u32, h: u32) -> array<vec4<f32>, 2> {
    let s = w[4u * g + h] ^ 0x88888888u;
    return array<vec4<f32>, 2>(
        vec4<f32>(f32(bitcast<i32>(s << 28u) >> 28u), f32(bitcast<i32>(s << 24u) >> 28u),
                  f32(bitcast<i32>(s << 20u) >> 28u), f32(bitcast<i32>(s << 16u) >> 28u)),
        vec4<f32>(f32(bitcast<i32>(s << 12u) >> 28u), f32(bitcast<i32>(s << 8u) >> 28u),
                  f32(bitcast<i32>(s << 4u) >> 28u), f32(bitcast<i32>(s) >> 28u)));
}
fn w_gscale(g: u32) -> f32 {
    let s = unpack2x16float(wscale[g / 2u]);
    return select(s.x, s.y, (g & 1u) == 1u);
}
