package shaders

import "math"

// SoftmaxRef is the reference of the softmax kernel on rows of x (T, N):
// y = softmax(scale·x) per row, max-subtracted and normalised by
// multiplying with 1/sum, as the kernel does. Unlike the kernel it sums in
// float64: a sequential float32 sum over a vocabulary-sized row (32k terms
// added to a total in the thousands) drifts by ~1e-5, far more than the
// kernel's 256 strided partial sums and tree, and the reference must be the
// more accurate side.
func SoftmaxRef(y, x []float32, rows, cols int, scale float32) {
	for t := 0; t < rows; t++ {
		xr := x[t*cols : (t+1)*cols]
		yr := y[t*cols : (t+1)*cols]
		m := float32(-math.MaxFloat32)
		for _, v := range xr {
			m = max(m, scale*v)
		}
		var s float64
		for j, v := range xr {
			yr[j] = float32(math.Exp(float64(scale*v - m)))
			s += float64(yr[j])
		}
		inv := float32(1 / s)
		for j := range yr {
			yr[j] *= inv
		}
	}
}
