package shaders

// SwiGLURef is the reference of the swiglu kernel: for x (T, 2F) with the
// gate in columns [0, F) and up in [F, 2F), y (T, F) = silu(gate)·up.
func SwiGLURef(y, x []float32, rows, f int) {
	for t := 0; t < rows; t++ {
		for j := 0; j < f; j++ {
			y[t*f+j] = ActRef(ActSiLU, x[t*2*f+j]) * x[t*2*f+f+j]
		}
	}
}
