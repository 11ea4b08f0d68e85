package shaders

import "math"

// attendRef writes softmax_j(scale·q·k_j) · v_j over keys j < n into dst
// (len(q) values). Scores, the softmax (with max subtraction, two passes)
// and the weighted sum are float64, so the result is the exact answer for
// the f32 inputs up to one final rounding: the kernels' f32 online softmax
// is checked against it, not against a copy of itself.
func attendRef(dst, q []float32, n int, key, val func(j int) []float32, scale float32) {
	scores := make([]float64, n)
	mx := math.Inf(-1)
	for j := range scores {
		var s float64
		for d, x := range key(j)[:len(q)] {
			s += float64(q[d]) * float64(x)
		}
		s *= float64(scale)
		scores[j] = s
		mx = math.Max(mx, s)
	}
	acc := make([]float64, len(q))
	var sum float64
	for j, s := range scores {
		e := math.Exp(s - mx)
		sum += e
		for d, x := range val(j)[:len(q)] {
			acc[d] += e * float64(x)
		}
	}
	for d := range acc {
		dst[d] = float32(acc[d] / sum)
	}
}

// AttentionRowRef is the reference of one output vector of the attention
// kernel: query row t of batch b, head h. It writes dh values into dst.
func AttentionRowRef(dst, q, k, v []float32, p AttentionParams, dh, b, t, h int, causal bool) {
	hk := h / (int(p.H) / int(p.Hkv))
	qrow := q[(b*int(p.T)+t)*int(p.QStride)+int(p.QOff)+h*dh:][:dh]
	n := int(p.Tk)
	if causal {
		n = min(n, int(p.QPos)+t+1)
	}
	key := func(j int) []float32 { return k[(b*int(p.Tk)+j)*int(p.KStride)+int(p.KOff)+hk*dh:] }
	val := func(j int) []float32 { return v[(b*int(p.Tk)+j)*int(p.VStride)+int(p.VOff)+hk*dh:] }
	attendRef(dst[:dh], qrow, n, key, val, p.Scale)
}

// AttentionRef is the reference of the attention kernel over every query
// row, head and batch: it writes out in the kernel's layout (row stride
// p.OStride, column offset p.OOff) and leaves other elements of out as they
// were.
func AttentionRef(out, q, k, v []float32, p AttentionParams, dh, batches int, causal bool) {
	for b := 0; b < batches; b++ {
		for t := 0; t < int(p.T); t++ {
			for h := 0; h < int(p.H); h++ {
				o := (b*int(p.T)+t)*int(p.OStride) + int(p.OOff) + h*dh
				AttentionRowRef(out[o:o+dh], q, k, v, p, dh, b, t, h, causal)
			}
		}
	}
}
