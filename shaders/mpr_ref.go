package shaders

import "math"

// MPRRef is the Go reference of mpr.wgsl: out[py·width + px] is the RGBA
// of pixel (px, py), before the RGBA8 rounding.
func MPRRef(out [][4]float32, v VolumeRef, heat []uint32, p MPRParams) {
	for py := range int(p.Height) {
		for px := range int(p.Width) {
			out[py*int(p.Width)+px] = mprPixel(v, heat, p, float32(px), float32(py))
		}
	}
}

func mprPixel(v VolumeRef, heat []uint32, p MPRParams, px, py float32) [4]float32 {
	c := [3]float32{
		p.OX + px*p.UX + py*p.VX,
		p.OY + px*p.UY + py*p.VY,
		p.OZ + px*p.UZ + py*p.VZ,
	}
	half := float32(p.SlabN-1) * 0.5
	var acc, m float32
	cnt := 0
	for k := range int(p.SlabN) {
		o := float32(k) - half
		q := [3]float32{c[0] + o*p.DnX, c[1] + o*p.DnY, c[2] + o*p.DnZ}
		if !v.Inside(q) {
			continue
		}
		s := v.Sample(q)
		switch {
		case cnt == 0:
			m = s
		case p.Mode == SlabMax:
			m = max(m, s)
		case p.Mode == SlabMin:
			m = min(m, s)
		}
		acc += s
		cnt++
	}
	var rgb [3]float32
	if cnt > 0 {
		value := m
		if p.Mode == SlabMean {
			value = acc / float32(cnt)
		}
		g := min(max((value-p.WinLo)*p.WinScale, 0), 1)
		if p.Invert != 0 {
			g = 1 - g
		}
		rgb = [3]float32{g, g, g}
	}
	if p.HeatOn != 0 && v.Inside(c) {
		tok := func(x float32, n, cells uint32) uint32 {
			return min(uint32(math.Floor(float64((x+0.5)*float32(cells)/float32(n)))), cells-1)
		}
		t := (tok(c[2], p.NZ, p.HeatD)*p.HeatH+tok(c[1], p.NY, p.HeatH))*p.HeatW + tok(c[0], p.NX, p.HeatW)
		h := Unpack4x8(heat[t])
		for i := range rgb {
			rgb[i] = rgb[i]*(1-h[3]) + h[i]*h[3]
		}
	}
	return [4]float32{rgb[0], rgb[1], rgb[2], 1}
}
