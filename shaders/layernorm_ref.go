package shaders

import "math"

// LayerNormRef is the reference of the layernorm kernel on rows of x (T, C):
// y = (x − μ)/√(σ² + eps)·w + b, with μ and σ² by the same corrected
// two-pass algorithm as the kernel, accumulating in float32.
func LayerNormRef(y, x, w, b []float32, rows, cols int, eps float32) {
	n := float32(cols)
	for t := 0; t < rows; t++ {
		xr := x[t*cols : (t+1)*cols]
		var s float32
		for _, v := range xr {
			s += v
		}
		m := s / n
		var d, q float32
		for _, v := range xr {
			d += v - m
			q += (v - m) * (v - m)
		}
		delta := d / n
		variance := max(q/n-delta*delta, 0)
		inv := float32(1 / math.Sqrt(float64(variance+eps)))
		for c, v := range xr {
			y[t*cols+c] = ((v-m)-delta)*inv*w[c] + b[c]
		}
	}
}
