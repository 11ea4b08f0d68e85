package shaders

import "math"

// RaymarchRef is the Go reference of raymarch.wgsl: out[py·width + px] is
// the RGBA of pixel (px, py), before the RGBA8 rounding; lut has LUTSize
// straight-alpha RGBA entries.
func RaymarchRef(out [][4]float32, v VolumeRef, lut [][4]float32, p RaymarchParams) {
	for py := range int(p.Height) {
		for px := range int(p.Width) {
			out[py*int(p.Width)+px] = rayPixel(v, lut, p, float32(px), float32(py))
		}
	}
}

func lutAt(lut [][4]float32, p RaymarchParams, hu float32) [4]float32 {
	f := min(max((hu-p.LutLo)*p.LutScale, 0), float32(LUTSize-1))
	fl := float32(math.Floor(float64(f)))
	i0 := int(fl)
	i1 := min(i0+1, LUTSize-1)
	t := f - fl
	var c [4]float32
	for k := range c {
		c[k] = lut[i0][k]*(1-t) + lut[i1][k]*t
	}
	return c
}

func rayPixel(v VolumeRef, lut [][4]float32, p RaymarchParams, px, py float32) [4]float32 {
	o := [3]float32{
		p.OX + px*p.UX + py*p.VX,
		p.OY + px*p.UY + py*p.VY,
		p.OZ + px*p.UZ + py*p.VZ,
	}
	d := [3]float32{p.DX, p.DY, p.DZ}
	dims := v.dims()
	tin, tout := float32(0), float32(math.Inf(1))
	for a := range 3 {
		ta := (-0.5 - o[a]) / d[a]
		tb := (dims[a] - 0.5 - o[a]) / d[a]
		tin = max(tin, min(ta, tb))
		tout = min(tout, max(ta, tb))
	}
	var acc [4]float32
	var m float32
	hit := false
	if tout > tin {
		n := min(p.Steps, uint32(math.Ceil(float64(tout-tin))))
		for i := range n {
			t := tin + float32(i) + 0.5
			if t >= tout {
				break
			}
			q := [3]float32{o[0] + t*d[0], o[1] + t*d[1], o[2] + t*d[2]}
			s := v.Sample(q)
			if p.Mode != RayDVR {
				switch {
				case !hit:
					m = s
				case p.Mode == RayMIP:
					m = max(m, s)
				default:
					m = min(m, s)
				}
				hit = true
				continue
			}
			c := lutAt(lut, p, s)
			if c[3] <= 0 {
				continue
			}
			a := 1 - float32(math.Pow(float64(1-min(c[3], 0.999)), float64(p.OpacityExp)))
			rgb := [3]float32{c[0], c[1], c[2]}
			if p.Shade != 0 {
				g := gradientRef(v, p, q)
				gl := float32(math.Sqrt(float64(g[0]*g[0] + g[1]*g[1] + g[2]*g[2])))
				if gl > 1e-3 {
					l := float32(math.Abs(float64(g[0]/gl*p.LX + g[1]/gl*p.LY + g[2]/gl*p.LZ)))
					for k := range rgb {
						rgb[k] *= p.Ambient + (1-p.Ambient)*l
					}
				}
			}
			w := (1 - acc[3]) * a
			for k := range rgb {
				acc[k] += w * rgb[k]
			}
			acc[3] += w
			if acc[3] >= 0.99 {
				break
			}
		}
	}
	if p.Mode == RayDVR {
		return [4]float32{acc[0], acc[1], acc[2], 1}
	}
	if !hit {
		return [4]float32{0, 0, 0, 1}
	}
	g := min(max((m-p.WinLo)*p.WinScale, 0), 1)
	return [4]float32{g, g, g, 1}
}

func gradientRef(v VolumeRef, p RaymarchParams, q [3]float32) [3]float32 {
	at := func(a int, s float32) float32 {
		r := q
		r[a] += s
		return v.Sample(r)
	}
	return [3]float32{
		(at(0, 1) - at(0, -1)) * p.GX,
		(at(1, 1) - at(1, -1)) * p.GY,
		(at(2, 1) - at(2, -1)) * p.GZ,
	}
}
