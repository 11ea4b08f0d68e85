package shaders

// GatherRef is the reference of the gather kernel: row t of y (T, C) is
// row ids[t] of the table w (rows N, C = w.K), dequantized, or zeros when
// ids[t] ≥ N.
func GatherRef(y []float32, ids []uint32, w Weights) {
	GatherPieceRef(y, ids, w, 0, false)
}

// GatherPieceRef is the reference of the gather kernel over one row piece
// of a table: w holds rows row0 .. row0+w.N of it. Rows of ids outside the
// piece are zeroed, or left as they are with keep.
func GatherPieceRef(y []float32, ids []uint32, w Weights, row0 uint32, keep bool) {
	for t, gid := range ids {
		row := y[t*w.K : (t+1)*w.K]
		id := gid - row0 // wraps below row0, as the kernel's u32 does
		if int64(id) >= int64(w.N) {
			if !keep {
				clear(row)
			}
			continue
		}
		for c := range row {
			row[c] = w.At(int(id), c)
		}
	}
}
