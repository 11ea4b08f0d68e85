package shaders

// KVAppendRef is the reference of the kvappend kernel: it copies the k and
// v columns of p.T rows of src into kc and vc at rows p.Pos onwards.
func KVAppendRef(kc, vc, src []float32, p KVAppendParams) {
	for t := 0; t < int(p.T); t++ {
		s := t * int(p.SrcStride)
		d := (int(p.Pos) + t) * int(p.DstStride)
		copy(kc[d+int(p.KDstOff):][:p.Width], src[s+int(p.KSrcOff):])
		copy(vc[d+int(p.VDstOff):][:p.Width], src[s+int(p.VSrcOff):])
	}
}
