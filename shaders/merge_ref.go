package shaders

// MergeRef is the reference of the merge kernel: x (D, Skip + h·w, C) to
// y (D, (h/2)·(w/2), 4C), merged token (i, j) being the concatenation of
// tokens (2i+a, 2j+b) for (a, b) = (0,0), (0,1), (1,0), (1,1).
func MergeRef(y, x []float32, p MergeParams) {
	d, skip, h, w, c := int(p.D), int(p.Skip), int(p.H), int(p.W), int(p.C)
	in := skip + h*w
	for s := 0; s < d; s++ {
		for i := 0; i < h/2; i++ {
			for j := 0; j < w/2; j++ {
				out := y[((s*(h/2)+i)*(w/2)+j)*4*c:]
				for a := 0; a < 2; a++ {
					for b := 0; b < 2; b++ {
						src := x[(s*in+skip+(2*i+a)*w+2*j+b)*c:]
						copy(out[(2*a+b)*c:(2*a+b+1)*c], src[:c])
					}
				}
			}
		}
	}
}
