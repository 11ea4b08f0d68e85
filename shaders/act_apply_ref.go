package shaders

// ActApplyRef is the reference of the act kernel: y[i] = ActRef(a, x[i]).
// y may be x (in place).
func ActApplyRef(a Act, y, x []float32) {
	for i, v := range x {
		y[i] = ActRef(a, v)
	}
}
