package shaders

// MoECombineRef is the reference of the moe_combine kernel: for each token t
// and column c, out[t, c] += Σ_j gates[t, j] · y[slot[t·K + j], c], the sum
// formed in float32 from j = 0 up, then added to out, as the kernel does.
func MoECombineRef(out, gates []float32, slot []uint32, y []float32, tokens, cols, k int) {
	for t := 0; t < tokens; t++ {
		for c := 0; c < cols; c++ {
			var s float32
			for j := 0; j < k; j++ {
				s += gates[t*k+j] * y[int(slot[t*k+j])*cols+c]
			}
			out[t*cols+c] += s
		}
	}
}
