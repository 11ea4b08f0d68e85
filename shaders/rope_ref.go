package shaders

import "math"

// RoPEInvFreq is the per-pair inverse frequency of rotary embeddings over
// rot dims with base theta: inv_freq[i] = 1/(factor[i]·θ^(2i/rot)), i <
// rot/2, computed in float64 and rounded once. factor is nil or all ones
// for plain RoPE, else LongRoPE's short or long factors (Phi-3). The rope
// kernel binds the result; callers make one buffer per factor set at load.
func RoPEInvFreq(theta float64, rot int, factor []float32) []float32 {
	out := make([]float32, rot/2)
	for i := range out {
		f := 1.0
		if factor != nil {
			f = float64(factor[i])
		}
		out[i] = float32(1 / (f * math.Pow(theta, float64(2*i)/float64(rot))))
	}
	return out
}

// RoPERef is the reference of the rope kernel: it rotates x in place. The
// angle is the f32 product f32(pos)·inv_freq[i], as in HF's float32 code and
// in the kernel; cos and sin of that f32 angle are float64, rounded, then
// scaled by mscale in f32.
func RoPERef(x, invFreq []float32, p RoPEParams) {
	half := int(p.RotDim / 2)
	for r := 0; r < int(p.Rows); r++ {
		pos := float32(p.PosOffset + uint32(r)/p.PosDiv)
		for i := 0; i < half; i++ {
			a := float64(pos * invFreq[i])
			c := float32(math.Cos(a)) * p.MScale
			s := float32(math.Sin(a)) * p.MScale
			for hd := 0; hd < int(p.NHeads); hd++ {
				b := r*int(p.RowStride) + int(p.ColOff) + hd*int(p.HeadDim) + i
				x0, x1 := float64(x[b]), float64(x[b+half])
				x[b] = float32(x0*float64(c) - x1*float64(s))
				x[b+half] = float32(x1*float64(c) + x0*float64(s))
			}
		}
	}
}
