package shaders

// AddRef is the reference of the add kernel: y[i] = a[i] + b[i mod len(b)].
// y may be a (in place).
func AddRef(y, a, b []float32) {
	for i, v := range a {
		y[i] = v + b[i%len(b)]
	}
}
