package viewer

import (
	"math"
	"math/rand"
	"testing"

	"ctlens/app/state"
	"ctlens/model"
	"ctlens/shaders"
	"ctlens/volume"
)

// testVolume is a 40×30×20 grid of air with a +1000 HU block at voxels
// [8,14)×[6,12)×[4,10), random HU inside a second region for the ROI
// tests, and an oblique-free axial geometry unless dir is given.
func testVolume(dir *[3][3]float64) *volume.Volume {
	v := &volume.Volume{Dims: [3]int{40, 30, 20}, Phases: 1, Spacing: [3]float64{0.8, 0.9, 2},
		Origin: [3]float64{-16, -13, 100}, Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	if dir != nil {
		v.Direction = *dir
	}
	v.Voxels = make([]int16, v.Len())
	rng := rand.New(rand.NewSource(1))
	for z := range 20 {
		for y := range 30 {
			for x := range 40 {
				hu := int16(-1000)
				if x >= 8 && x < 14 && y >= 6 && y < 12 && z >= 4 && z < 10 {
					hu = 1000
				}
				if x >= 20 && y >= 15 {
					hu = int16(rng.Intn(400) - 100)
				}
				v.Voxels[x+40*(y+30*z)] = hu
			}
		}
	}
	return v
}

func TestScreenVoxelRoundTrip(t *testing.T) {
	flip := [3][3]float64{{-1, 0, 0}, {0, 0, -1}, {0, 1, 0}}
	for _, dir := range []*[3][3]float64{nil, &flip} {
		v := testVolume(dir)
		for _, k := range []volume.PlaneKind{volume.Axial, volume.Coronal, volume.Sagittal} {
			m := MPRView{Plane: v.PlaneFor(k), Zoom: 2.5, PanX: 13, PanY: -7}
			cross := [3]float64{11, 9, 7}
			p := m.ScreenToVoxel(v, 300, 200, cross, 123.5, 77.25)
			if p[m.Plane.Normal] != cross[m.Plane.Normal] {
				t.Errorf("%s: screen point left the crosshair's slice: %v", k, p)
			}
			sx, sy := m.VoxelToScreen(v, 300, 200, p)
			if math.Abs(sx-123.5) > 1e-9 || math.Abs(sy-77.25) > 1e-9 {
				t.Errorf("%s: round trip gave %v,%v", k, sx, sy)
			}
			// Zoom 2.5: one screen pixel is 1/2.5 of the fitted scale.
			if r := m.MMPerPixel(v, 300, 200) * 2.5 / (MPRView{Plane: m.Plane, Zoom: 1}).MMPerPixel(v, 300, 200); math.Abs(r-1) > 1e-12 {
				t.Errorf("%s: zoom scales mm/pixel by %v", k, r)
			}
		}
	}
}

// Screen right is patient left on the axial view, whatever the storage
// order: a flipped series draws the same way round.
func TestAxialViewIsRadiological(t *testing.T) {
	flip := [3][3]float64{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}
	for _, dir := range []*[3][3]float64{nil, &flip} {
		v := testVolume(dir)
		m := MPRView{Plane: v.PlaneFor(volume.Axial), Zoom: 1}
		cross := [3]float64{20, 15, 10}
		a := v.VoxelToLPS(m.ScreenToVoxel(v, 100, 100, cross, 10, 50))
		b := v.VoxelToLPS(m.ScreenToVoxel(v, 100, 100, cross, 90, 50))
		if !(b[0] > a[0]) {
			t.Errorf("dir %v: moving right on screen went from L=%v to %v, want towards patient left", dir, a[0], b[0])
		}
		c := v.VoxelToLPS(m.ScreenToVoxel(v, 100, 100, cross, 50, 90))
		if !(c[1] > a[1]) {
			t.Errorf("dir %v: moving down did not go posterior", dir)
		}
	}
}

func TestEllipseStatsAgainstBruteForce(t *testing.T) {
	v := testVolume(nil)
	for _, k := range []volume.PlaneKind{volume.Axial, volume.Coronal, volume.Sagittal} {
		p := v.PlaneFor(k)
		for _, e := range []Ellipse{
			{Plane: p, Center: [3]float64{27.3, 21.6, 12}, RU: 5.1, RV: 3.7},
			{Plane: p, Center: [3]float64{10, 8, 6}, RU: 4, RV: 9},
			{Plane: p, Center: [3]float64{0, 0, 0}, RU: 3, RV: 3}, // clipped by the edge
		} {
			have := e.Stats(v)
			// Brute force: every voxel of the slice, float64 two-pass.
			var vals []float64
			mn, mx := math.Inf(1), math.Inf(-1)
			k0 := int(math.Round(e.Center[p.Normal]))
			for z := range v.Dims[2] {
				for y := range v.Dims[1] {
					for x := range v.Dims[0] {
						idx := [3]int{x, y, z}
						if idx[p.Normal] != k0 {
							continue
						}
						du := (float64(idx[p.U]) - e.Center[p.U]) * v.Spacing[p.U] / e.RU
						dv := (float64(idx[p.V]) - e.Center[p.V]) * v.Spacing[p.V] / e.RV
						if du*du+dv*dv <= 1 {
							h := float64(v.At(x, y, z))
							vals = append(vals, h)
							mn, mx = math.Min(mn, h), math.Max(mx, h)
						}
					}
				}
			}
			if len(vals) != have.Count {
				t.Fatalf("%s %+v: %d voxels, brute force %d", k, e, have.Count, len(vals))
			}
			mean := 0.0
			for _, x := range vals {
				mean += x
			}
			mean /= float64(len(vals))
			ss := 0.0
			for _, x := range vals {
				ss += (x - mean) * (x - mean)
			}
			sd := math.Sqrt(ss / float64(len(vals)))
			if math.Abs(have.Mean-mean) > 1e-9 || math.Abs(have.SD-sd) > 1e-6 || float64(have.Min) != mn || float64(have.Max) != mx {
				t.Errorf("%s %+v: have %+v, want mean %v sd %v min %v max %v", k, e, have, mean, sd, mn, mx)
			}
			if math.Abs(have.AreaMM2-math.Pi*e.RU*e.RV) > 1e-9 {
				t.Errorf("area %v", have.AreaMM2)
			}
		}
	}
}

func TestLengthMM(t *testing.T) {
	v := testVolume(nil)
	// 3 voxels along x (0.8 mm) and 4 along z (2 mm): √(2.4² + 8²).
	have := LengthMM(v, [3]float64{1, 2, 3}, [3]float64{4, 2, 7})
	if want := math.Hypot(2.4, 8); math.Abs(have-want) > 1e-12 {
		t.Errorf("length %v mm, want %v", have, want)
	}
}

func TestWindowForKey(t *testing.T) {
	v := testVolume(nil)
	want := map[string][2]float64{"1": {80, 40}, "2": {400, 40}, "3": {1500, -600}, "4": {2000, 500}, "5": {150, 90}, "6": {400, 40}}
	for k, wl := range want {
		w, ok := WindowForKey(k, v, v.Stats())
		if !ok || w.Width != wl[0] || w.Center != wl[1] {
			t.Errorf("key %s: %v, want W%v/L%v", k, w, wl[0], wl[1])
		}
	}
	v.Windows = []volume.Window{{Center: 33, Width: 333, Source: volume.SourceHeader}}
	if w, ok := WindowForKey("0", v, v.Stats()); !ok || w.Center != 33 || w.Width != 333 {
		t.Errorf("key 0: %v, want the file's W333/L33", w)
	}
	if _, ok := WindowForKey("7", v, v.Stats()); ok {
		t.Error("key 7 gave a window")
	}
}

func TestPresetLUT(t *testing.T) {
	for _, p := range Presets3D {
		lut := p.LUT()
		if len(lut) != shaders.LUTSize {
			t.Fatalf("%s: %d entries", p.Name, len(lut))
		}
		if p.Mode != shaders.RayDVR {
			continue
		}
		lo, hi := p.Range()
		// The entries at the ends are the end points' values.
		first, last := p.Points[0], p.Points[len(p.Points)-1]
		if lut[0][3] != float32(first.A) || math.Abs(float64(lut[shaders.LUTSize-1][0])-last.R) > 1e-6 {
			t.Errorf("%s: ends %v %v, want %v %v", p.Name, lut[0], lut[shaders.LUTSize-1], first, last)
		}
		// Each control point inside the range is hit within one entry's
		// linear change.
		for _, pt := range p.Points {
			f := (pt.HU - lo) / (hi - lo) * float64(shaders.LUTSize-1)
			i := int(math.Round(f))
			if math.Abs(f-float64(i)) < 1e-9 && math.Abs(float64(lut[i][3])-pt.A) > 1e-6 {
				t.Errorf("%s: at %v HU opacity %v, want %v", p.Name, pt.HU, lut[i][3], pt.A)
			}
		}
	}
}

func TestHeatColours(t *testing.T) {
	// 2 slices of 2×3 patches plus a class token each: 14 tokens, K=2.
	l := model.LayerRouting{Layer: 3, Tokens: 14, K: 2}
	for tok := range 14 {
		l.Experts = append(l.Experts, tok%5, 7)
		l.Gates = append(l.Gates, float32(tok)/13, 0.1)
	}
	r := &state.Routing{Routing: &model.Routing{Layers: []model.LayerRouting{{}, l}}, Slices: 2, GridH: 2, GridW: 3}
	c, err := HeatColours(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != 12 {
		t.Fatalf("%d colours, want 12", len(c))
	}
	// Patch (d=1, i=4) is token 1·7 + 1 + 4 = 12: expert 2, gate 12/13.
	got := shaders.Unpack4x8(c[6+4])
	want := expertPalette[2]
	if uint8(got[0]*255+0.5) != want[0] || math.Abs(float64(got[3])-12.0/13*heatOpacity) > 1.0/255 {
		t.Errorf("patch (1,4): %v, want expert 2 %v at opacity %v", got, want, 12.0/13*heatOpacity)
	}
	r.GridW = 4
	if _, err := HeatColours(r); err == nil {
		t.Error("a grid that does not match the token count was accepted")
	}
}
