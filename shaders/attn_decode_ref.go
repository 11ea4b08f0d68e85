package shaders

// AttnDecodeRef is the reference of decode attention (attn_decode, split or
// not, followed by attn_decode_combine): for each head h it writes dh values
// at out[p.OOff + h·dh], attending over cache rows 0..p.NPast. Other
// elements of out are left as they were. Computed in float64 like
// AttentionRowRef.
func AttnDecodeRef(out, q, k, v []float32, p AttnDecodeParams, dh int) {
	for h := 0; h < int(p.H); h++ {
		hk := h / (int(p.H) / int(p.Hkv))
		key := func(j int) []float32 { return k[j*int(p.KStride)+int(p.KOff)+hk*dh:] }
		val := func(j int) []float32 { return v[j*int(p.VStride)+int(p.VOff)+hk*dh:] }
		o := int(p.OOff) + h*dh
		attendRef(out[o:o+dh], q[int(p.QOff)+h*dh:][:dh], int(p.NPast)+1, key, val, p.Scale)
	}
}
