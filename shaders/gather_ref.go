package shaders

// GatherRef is the reference of the gather kernel: row t of y (T, C) is
// row ids[t] of the table w (rows N, C = w.K), dequantized, or zeros when
// ids[t] ≥ N.
func GatherRef(y []float32, ids []uint32, w Weights) {
	for t, id := range ids {
		row := y[t*w.K : (t+1)*w.K]
		if int64(id) >= int64(w.N) {
			clear(row)
			continue
		}
		for c := range row {
			row[c] = w.At(int(id), c)
		}
	}
}
