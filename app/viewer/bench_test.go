//go:build !js

package viewer

import (
	"context"
	"math"
	"testing"

	"ctlens/shaders"
	"ctlens/volume"
)

// benchVolume is a 256³ phantom at 0.8 mm: a sphere of bone-like HU in
// soft tissue in air, so DVR rays stop early in the middle and run the
// whole way at the edges.
func benchVolume() *volume.Volume {
	n := 256
	v := &volume.Volume{Dims: [3]int{n, n, n}, Phases: 1, Spacing: [3]float64{0.8, 0.8, 0.8},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	v.Voxels = make([]int16, n*n*n)
	c := float64(n-1) / 2
	for z := range n {
		for y := range n {
			for x := range n {
				r := math.Sqrt((float64(x)-c)*(float64(x)-c) + (float64(y)-c)*(float64(y)-c) + (float64(z)-c)*(float64(z)-c))
				hu := int16(-1000)
				switch {
				case r < 40:
					hu = 900
				case r < 110:
					hu = 40
				}
				v.Voxels[x+n*(y+n*z)] = hu
			}
		}
	}
	return v
}

// GPU time of one 512×512 frame of a 256³ volume: go test ./app/viewer/
// -run '^$' -bench . (timestamp queries where the device has them).
func BenchmarkFrame256(b *testing.B) {
	r := openRenderer(b)
	v := benchVolume()
	if err := r.SetVolume(context.Background(), v); err != nil {
		b.Fatal(err)
	}
	s := NewSession(v)
	const w, h = 512, 512
	win := volume.Window{Center: 40, Width: 400}
	cases := []struct {
		name   string
		params func() any
	}{
		{"mpr-axial", func() any { return s.MPR["axial"].Params(v, w, h, s.Cross, win, false, Slab{}) }},
		{"mpr-axial-mip10mm", func() any {
			return s.MPR["axial"].Params(v, w, h, s.Cross, win, false, Slab{Thickness: 10, Mode: shaders.SlabMax})
		}},
	}
	for _, p := range []Preset3D{Presets3D[0], Presets3D[3]} {
		for li, l := range rayLevels {
			lo, hi := p.Range()
			p, l := p, l
			cases = append(cases, struct {
				name   string
				params func() any
			}{"3d-" + p.Name + "-level" + string(rune('0'+li)), func() any {
				if err := r.SetLUT(p.LUT()); err != nil {
					b.Fatal(err)
				}
				return s.Cam.Params(v, w/l.div, h/l.div, RayQuality{StepMM: l.step * 0.8, Steps: l.steps}, p.Mode, lo, hi, p.Window, p.Shade)
			}})
		}
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			params := c.params()
			if _, err := r.Timed(context.Background(), c.name, params); err != nil { // compile, warm
				b.Fatal(err)
			}
			var total float64
			n := 0
			for b.Loop() {
				d, err := r.Timed(context.Background(), c.name, params)
				if err != nil {
					b.Fatal(err)
				}
				total += d.Seconds()
				n++
			}
			b.ReportMetric(total/float64(n)*1e3, "gpu-ms/frame")
		})
	}
}
