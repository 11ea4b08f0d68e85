package shaders

import "math"

// RMSNormRef is the reference of the rmsnorm kernel on rows of x (T, C).
// With r non-nil it first adds r into x (in place), as the fused kernel does.
// Sums accumulate in float32, like the kernel.
func RMSNormRef(y, x, r, w []float32, rows, cols int, eps float32) {
	for t := 0; t < rows; t++ {
		xr := x[t*cols : (t+1)*cols]
		if r != nil {
			for c := range xr {
				xr[c] += r[t*cols+c]
			}
		}
		var ss float32
		for _, v := range xr {
			ss += v * v
		}
		inv := float32(1 / math.Sqrt(float64(ss/float32(cols)+eps)))
		for c, v := range xr {
			y[t*cols+c] = v * inv * w[c]
		}
	}
}
