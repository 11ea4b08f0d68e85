package volume

import (
	"math"
	"math/rand"
	"testing"
)

func geomVolume(dir [3][3]float64) *Volume {
	return &Volume{Dims: [3]int{40, 30, 20}, Phases: 1, Spacing: [3]float64{0.7, 0.8, 2.5},
		Origin: [3]float64{-120, 35.5, 410}, Direction: dir}
}

var (
	axialDir = [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	// A coronal acquisition: rows run left, columns run inferior, slices
	// step posterior (row × column = (1,0,0)×(0,0,−1) = (0,1,0)).
	coronalDir = [3][3]float64{{1, 0, 0}, {0, 0, -1}, {0, 1, 0}}
	// A sagittal acquisition: rows run posterior, columns inferior.
	sagittalDir = [3][3]float64{{0, 1, 0}, {0, 0, -1}, {-1, 0, 0}}
	// Feet-first prone-ish flip: rows run right, columns anterior.
	flippedDir = [3][3]float64{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}
)

// tilted tilts an axial acquisition about the L axis by deg (gantry tilt).
func tilted(deg float64) [3][3]float64 {
	c, s := math.Cos(deg*math.Pi/180), math.Sin(deg*math.Pi/180)
	row := [3]float64{1, 0, 0}
	col := [3]float64{0, c, s}
	return [3][3]float64{row, col, cross(row, col)}
}

func TestVoxelLPSRoundTripOblique(t *testing.T) {
	// An oblique orthonormal frame: rotate about two axes.
	a, b := 0.4, -0.7
	r1 := [3][3]float64{{math.Cos(a), math.Sin(a), 0}, {-math.Sin(a), math.Cos(a), 0}, {0, 0, 1}}
	r2 := [3][3]float64{{1, 0, 0}, {0, math.Cos(b), math.Sin(b)}, {0, -math.Sin(b), math.Cos(b)}}
	var dir [3][3]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				dir[i][j] += r1[i][k] * r2[k][j]
			}
		}
	}
	for _, d := range [][3][3]float64{axialDir, coronalDir, sagittalDir, flippedDir, tilted(17), dir} {
		v := geomVolume(d)
		rng := rand.New(rand.NewSource(1))
		for range 50 {
			ijk := [3]float64{rng.Float64() * 40, rng.Float64() * 30, rng.Float64() * 20}
			p := v.VoxelToLPS(ijk)
			back := v.LPSToVoxel(p)
			for a := range 3 {
				if math.Abs(back[a]-ijk[a]) > 1e-9 {
					t.Fatalf("dir %v: %v → %v → %v", d, ijk, p, back)
				}
			}
			// A step of one voxel along axis a moves spacing[a] mm.
			q := v.VoxelToLPS([3]float64{ijk[0], ijk[1] + 1, ijk[2]})
			if got := norm(sub(q, p)); math.Abs(got-v.Spacing[1]) > 1e-9 {
				t.Fatalf("one row step moved %v mm, want %v", got, v.Spacing[1])
			}
		}
	}
}

func TestOrientationLetters(t *testing.T) {
	cases := []struct {
		dir  [3]float64
		want string
	}{
		{[3]float64{1, 0, 0}, "L"}, {[3]float64{-1, 0, 0}, "R"},
		{[3]float64{0, 1, 0}, "P"}, {[3]float64{0, -1, 0}, "A"},
		{[3]float64{0, 0, 1}, "S"}, {[3]float64{0, 0, -1}, "I"},
		{[3]float64{0.9, -0.43, 0}, "LA"}, {[3]float64{0.1, 0.3, -0.95}, "IP"},
		{[3]float64{}, ""},
	}
	for _, c := range cases {
		if have := OrientationLetters(c.dir); have != c.want {
			t.Errorf("OrientationLetters(%v) = %q, want %q", c.dir, have, c.want)
		}
	}
}

func TestPlaneLetters(t *testing.T) {
	// Whatever the acquisition, the standard views show the radiological
	// convention: axial R|L with A on top, coronal R|L with S on top,
	// sagittal A|P with S on top.
	want := map[PlaneKind]EdgeLetters{
		Axial:    {Left: "R", Right: "L", Top: "A", Bottom: "P"},
		Coronal:  {Left: "R", Right: "L", Top: "S", Bottom: "I"},
		Sagittal: {Left: "A", Right: "P", Top: "S", Bottom: "I"},
	}
	for name, d := range map[string][3][3]float64{"axial": axialDir, "coronal": coronalDir, "sagittal": sagittalDir, "flipped": flippedDir} {
		v := geomVolume(d)
		seen := map[int]bool{}
		for k, w := range want {
			p := v.PlaneFor(k)
			if have := p.Letters(v); have != w {
				t.Errorf("%s acquisition, %s view: letters %+v, want %+v", name, k, have, w)
			}
			seen[p.Normal] = true
			if p.Normal == p.U || p.Normal == p.V || p.U == p.V {
				t.Errorf("%s acquisition, %s view: axes not distinct: %+v", name, k, p)
			}
		}
		if len(seen) != 3 {
			t.Errorf("%s acquisition: the three views share a normal axis", name)
		}
	}
	// The axial view of an axial series scrolls z; of a coronal series, y.
	if n := geomVolume(axialDir).PlaneFor(Axial).Normal; n != 2 {
		t.Errorf("axial series: axial view scrolls axis %d, want 2", n)
	}
	if n := geomVolume(coronalDir).PlaneFor(Axial).Normal; n != 1 {
		t.Errorf("coronal series: axial view scrolls axis %d, want 1", n)
	}
	// LPS-flipped rows and columns flip the screen signs, not the letters.
	fp := geomVolume(flippedDir).PlaneFor(Axial)
	if fp.USign != -1 || fp.VSign != -1 {
		t.Errorf("flipped series: axial signs %v,%v, want -1,-1", fp.USign, fp.VSign)
	}
	// A 30° gantry tilt: the top of the axial view is mostly anterior and
	// partly inferior/superior; letters say so.
	tv := geomVolume(tilted(30))
	l := tv.PlaneFor(Axial).Letters(tv)
	if l.Top != "AI" || l.Bottom != "PS" || l.Left != "R" || l.Right != "L" {
		t.Errorf("30° tilt: axial letters %+v, want top AI, bottom PS, R|L", l)
	}
}

func TestPlaneBasisIsOrthonormal(t *testing.T) {
	v := geomVolume(tilted(12))
	for _, k := range []PlaneKind{Axial, Coronal, Sagittal} {
		r, d, n := v.PlaneFor(k).Basis(v)
		if math.Abs(norm(r)-1) > 1e-12 || math.Abs(dot(r, d)) > 1e-12 || math.Abs(dot(r, n)) > 1e-12 {
			t.Errorf("%s: basis not orthonormal: %v %v %v", k, r, d, n)
		}
	}
}
