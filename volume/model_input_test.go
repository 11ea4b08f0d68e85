package volume

import (
	"math"
	"testing"
)

// rampVolume is a volume whose HU is an affine function of the voxel index.
func rampVolume(dims [3]int, f func(x, y, z float64) float64) *Volume {
	v := &Volume{Dims: dims, Phases: 1, Spacing: [3]float64{1, 1, 1}, Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
	v.Voxels = make([]int16, v.Len())
	for z := range dims[2] {
		for y := range dims[1] {
			for x := range dims[0] {
				v.Voxels[x+dims[0]*(y+dims[1]*z)] = int16(f(float64(x), float64(y), float64(z)))
			}
		}
	}
	return v
}

func TestModelInputTrilinear(t *testing.T) {
	lin := func(x, y, z float64) float64 { return 3*x - 2*y + 5*z - 100 }
	v := rampVolume([3]int{20, 16, 12}, lin)
	win := Norm{Kind: NormWindow, Center: 0, Width: 1000} // [-500, 500] → [0, 1], no clamping here
	cases := []struct{ d, h, w int }{{12, 16, 20}, {6, 8, 10}, {24, 32, 40}, {5, 7, 9}}
	for _, c := range cases {
		out, err := ModelInput(v, 0, c.d, c.h, c.w, win)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != c.d*c.h*c.w {
			t.Fatalf("len %d", len(out))
		}
		// Centres aligned (align_corners=False): output index o samples
		// input coordinate (o+½)·in/out − ½, clamped to the edges; a
		// trilinear resample of an affine field is that field there.
		src := func(o, in, out int) float64 {
			return math.Max(0, math.Min(float64(in-1), (float64(o)+0.5)*float64(in)/float64(out)-0.5))
		}
		bad := 0
		for k := range c.d {
			for j := range c.h {
				for i := range c.w {
					hu := lin(src(i, 20, c.w), src(j, 16, c.h), src(k, 12, c.d))
					want := (hu + 500) / 1000
					if have := float64(out[(k*c.h+j)*c.w+i]); math.Abs(have-want) > 1e-5 {
						if bad < 3 {
							t.Errorf("%v: (%d,%d,%d) have %v want %v", c, k, j, i, have, want)
						}
						bad++
					}
				}
			}
		}
	}
}

func TestModelInputNorms(t *testing.T) {
	v := rampVolume([3]int{4, 4, 4}, func(x, y, z float64) float64 { return 1000*x - 1000 }) // -1000..2000
	cases := []struct {
		norm     string
		min, max float32
		at       [2]float32 // value at x=0 (-1000 HU) and x=1 (0 HU)
	}{
		{"window:40:400", 0, 1, [2]float32{0, float32((0 - (40 - 200)) / 400.0)}},
		{"window-signed:40:400", -1, 1, [2]float32{-1, float32(2*(0-(40-200))/400.0 - 1)}},
		{"minmax", 0, 1, [2]float32{0, 1.0 / 3}},
	}
	for _, c := range cases {
		n, err := ParseNorm(c.norm)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ModelInput(v, 0, 4, 4, 4, n)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := out[0], out[0]
		for _, x := range out {
			lo, hi = min(lo, x), max(hi, x)
		}
		if lo != c.min || hi != c.max {
			t.Errorf("%s: range [%v,%v], want [%v,%v]", c.norm, lo, hi, c.min, c.max)
		}
		if math.Abs(float64(out[0]-c.at[0])) > 1e-6 || math.Abs(float64(out[1]-c.at[1])) > 1e-6 {
			t.Errorf("%s: have %v %v, want %v", c.norm, out[0], out[1], c.at)
		}
	}
	for _, bad := range []string{"", "window", "window:1", "window:40:0", "minmax:3", "zscore"} {
		if _, err := ParseNorm(bad); err == nil {
			t.Errorf("ParseNorm(%q) accepted", bad)
		}
	}
	if _, err := ModelInput(v, 1, 4, 4, 4, Norm{Kind: NormMinMax}); err == nil {
		t.Error("phase 1 of a 1-phase volume accepted")
	}
}
