package shaders

// MatMulRows is the [first, end) range of rows of x and y a matmul kernel
// processes: all M rows, or with a segment table (Segmented variants) rows
// [seg[2e], seg[2e] + seg[2e+1]) for e = p.Segment.
func MatMulRows(p MatMulParams, seg []uint32) (first, end int) {
	if seg == nil {
		return 0, int(p.M)
	}
	e := 2 * int(p.Segment)
	return int(seg[e]), int(seg[e] + seg[e+1])
}

// MatMulRef is the reference of the gemv and gemm kernels: for the rows m
// of MatMulRows(p, seg) and n < p.N,
//
//	y[m·LdY + YCol + n] = act(Σ_k x[m·LdX + k]·W(n, k) + b[n])   (+ the old value when accumulate)
//
// with the weights dequantized exactly as the kernels do (Weights.At) and
// the sum accumulated in float32 in k order; the kernels add the same
// products in another order. b may be nil (no bias). Elements of y outside
// the rows and columns written are left alone.
func MatMulRef(y, x []float32, w Weights, b []float32, act Act, accumulate bool, p MatMulParams, seg []uint32) {
	first, end := MatMulRows(p, seg)
	k := int(p.K)
	wd := w.Dequant()
	for m := first; m < end; m++ {
		xr := x[m*int(p.LdX) : m*int(p.LdX)+k]
		for n := 0; n < int(p.N); n++ {
			i := m*int(p.LdY) + int(p.YCol) + n
			v := matmulOut(dotF32(xr, wd[n*k:(n+1)*k]), b, n, act)
			if accumulate {
				v += y[i]
			}
			y[i] = v
		}
	}
}

// MatMulRefAt is one element of MatMulRef before accumulation, for checking
// samples of outputs too large to compute whole in a test.
func MatMulRefAt(x []float32, w Weights, b []float32, act Act, p MatMulParams, m, n int) float32 {
	k := int(p.K)
	row := make([]float32, k)
	for j := range row {
		row[j] = w.At(n, j)
	}
	return matmulOut(dotF32(x[m*int(p.LdX):m*int(p.LdX)+k], row), b, n, act)
}

func matmulOut(sum float32, b []float32, n int, act Act) float32 {
	if b != nil {
		sum += b[n]
	}
	return ActRef(act, sum)
}

// dotF32 sums a[k]·b[k] in float32, in k order.
func dotF32(a, b []float32) float32 {
	var s float32
	for k, v := range a {
		s += v * b[k]
	}
	return s
}
