// gather: row gather from a table of any weight dtype, for token embeddings
// and (f32) MoE token gathers. The table may be one row piece of a larger
// table (rows row0 .. row0+rows of it, for tables past the binding limit):
//   y[t, c] = table[ids[t] − row0, c]   when row0 ≤ ids[t] < row0 + rows
//   y[t, c] = 0                          otherwise, unless keep ≠ 0: then
//                                        y[t] is left as it is
// so a pieced table is gathered by one dispatch per piece, the first with
// keep = 0 and the others with keep = 1.
// An id past the table (a corrupt token, or 0xFFFFFFFF marking an empty
// MoE slot) reads nothing and yields a zero row, so no id can read out of
// bounds. The table is bound as the weight source `w`, element (id, c) at
// flat index id·C + c; C is a multiple of the dtype's KMultiple.
//
// bindings: 0 Params { t: T, c: C, rows, row0, keep }
//           1 ids: (T) u32
//           2 w (+3 wscale): (rows, C) weights of the dtype (quant.go)
//           last y: (T, C) f32 output
// grid: Grid1D(ceil(T·⌈C/4⌉ / WG)) workgroups of WG threads; each thread
// writes four consecutive channels through w_load4, the scalar tail of a
// row through w_load. w_load4 documents i % 4 = 0; i = id·C + c (c a
// multiple of 4) meets it whenever C % 4 = 0, always so for int8/int4
// (C % 32 = 0). Otherwise the table is f32, whose w_load4 reads any i, or
// f16 with C even, whose w_load4 needs only i even (words i/2, i/2 + 1).

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let q = (wid.x + wid.y * nwg.x) * WG + lid.x;
    let per_row = (P.c + 3u) / 4u;
    if (q >= P.t * per_row) {
        return;
    }
    let t = q / per_row;
    let c = (q % per_row) * 4u;
    let o = t * P.c + c;
    // An id below row0 wraps to a huge local row: out of range like one past.
    let id = ids[t] - P.row0;
    if (id >= P.rows) {
        if (P.keep != 0u) {
            return;
        }
        for (var j = 0u; j < 4u && c + j < P.c; j = j + 1u) {
            y[o + j] = 0.0;
        }
        return;
    }
    let i = id * P.c + c;
    if (c + 3u < P.c) {
        let v = w_load4(i);
        y[o] = v.x;
        y[o + 1u] = v.y;
        y[o + 2u] = v.z;
        y[o + 3u] = v.w;
    } else {
        for (var j = 0u; c + j < P.c; j = j + 1u) {
            y[o + j] = w_load(i + j);
        }
    }
}
