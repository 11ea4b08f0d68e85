package synth

import (
	"math"
	"testing"
)

// bruteDistance is the distance from p to the surface of the ellipsoid
// found by dense sampling of the surface: a slow oracle for sdf.
func bruteDistance(e *ellipsoid, p vec3) float64 {
	best := math.Inf(1)
	const nu, nv = 360, 180
	for i := 0; i < nu; i++ {
		th := 2 * math.Pi * float64(i) / nu
		for j := 0; j <= nv; j++ {
			ph := math.Pi * float64(j) / nv
			l := vec3{e.r.X * math.Sin(ph) * math.Cos(th), e.r.Y * math.Sin(ph) * math.Sin(th), e.r.Z * math.Cos(ph)}
			q := e.c.add(e.rot.applyT(l))
			best = math.Min(best, q.sub(p).norm())
		}
	}
	return best
}

func TestEllipsoidDistance(t *testing.T) {
	r := stream(5, "shapes")
	e := newEllipsoid(vec3{10, -20, 30}, vec3{40, 25, 15}, rotXYZ(0.3, -0.5, 1.1))
	for i := 0; i < 25; i++ {
		// Points within 3 mm of the surface, where coverage needs d.
		l := vec3{r.normal(), r.normal(), r.normal()}.unit()
		q := e.c.add(e.rot.applyT(l.mul(e.r)))
		_, n := e.sdf(q)
		p := q.add(n.scale(r.uniform(-3, 3)))
		d, _ := e.sdf(p)
		inside := e.rot.apply(p.sub(e.c)).div(e.r).norm() < 1
		if (d < 0) != inside {
			t.Fatalf("point %v: sdf %v has the wrong sign", p, d)
		}
		want := bruteDistance(e, p)
		if math.Abs(math.Abs(d)-want) > 0.1*want+0.2 {
			t.Errorf("point %v: |sdf| %.3f, surface distance %.3f", p, math.Abs(d), want)
		}
		if !e.bounds().grow(1e-9).contains(q) {
			t.Errorf("surface point %v outside bounds %v", q, e.bounds())
		}
	}
}

func TestCapsuleAndColumn(t *testing.T) {
	c := capsule{vec3{0, 0, 0}, vec3{0, 0, 10}, 2}
	for _, k := range []struct {
		p    vec3
		want float64
	}{{vec3{0, 0, 5}, -2}, {vec3{3, 0, 5}, 1}, {vec3{0, 0, 13}, 1}, {vec3{0, 4, -3}, 3}} {
		if d, _ := c.sdf(k.p); math.Abs(d-k.want) > 1e-9 {
			t.Errorf("capsule sdf(%v) = %v, want %v", k.p, d, k.want)
		}
	}
	col := newColumn(func(z float64) (float64, float64, float64, float64) { return 5, -5, 30 + z/10, 20 }, false, -100, 100)
	for _, k := range []struct {
		p    vec3
		want float64
	}{{vec3{5 + 31, -5, 10}, 0}, {vec3{5, -5 + 22, 0}, 2}, {vec3{5, -5, 50}, -20}, {vec3{5, -5, 103}, 3}} {
		if d, _ := col.sdf(k.p); math.Abs(d-k.want) > 0.05 {
			t.Errorf("column sdf(%v) = %v, want %v", k.p, d, k.want)
		}
	}
}

// TestCoverageIsBoxFilter compares the renderer's partial-volume fraction
// with the exact fraction of a box voxel on the inside of a plane, found by
// supersampling the voxel.
func TestCoverageIsBoxFilter(t *testing.T) {
	r := stream(6, "coverage")
	pl := plane{r: vec3{1, 0, 0}, c: vec3{0, 1, 0}, n: vec3{0, 0, 1}, ps: 1.5, thk: 3}
	var sumErr float64
	count := 0
	for i := 0; i < 200; i++ {
		n := vec3{r.normal(), r.normal(), r.normal()}.unit()
		d := r.uniform(-4, 4)
		const k = 24
		in := 0
		for a := 0; a < k; a++ {
			for b := 0; b < k; b++ {
				for c := 0; c < k; c++ {
					off := vec3{(float64(a)+0.5)/k - 0.5, (float64(b)+0.5)/k - 0.5, (float64(c)+0.5)/k - 0.5}.mul(vec3{pl.ps, pl.ps, pl.thk})
					if d+n.dot(off) < 0 {
						in++
					}
				}
			}
		}
		exact := float64(in) / (k * k * k)
		have := pl.coverage(d, n)
		if exact == 1 && have < 0.9 || exact == 0 && have > 0.1 {
			t.Errorf("normal %v, d %.2f: coverage %.3f, exact %.3f", n, d, have, exact)
		}
		sumErr += math.Abs(have - exact)
		count++
	}
	// The extra blur widens the ramp a little beyond the box; on average the
	// two must still agree closely.
	if mean := sumErr / float64(count); mean > 0.06 {
		t.Errorf("mean |coverage − exact| = %.3f, want ≤ 0.06", mean)
	}
	if pl.coverage(0, vec3{0, 0, 1}) != 0.5 {
		t.Errorf("coverage on the surface = %v, want 0.5", pl.coverage(0, vec3{0, 0, 1}))
	}
}

// TestPixelRangeCoversBox checks that no pixel whose centre lies in a box
// falls outside the range the renderer scans, on axial and tilted planes.
func TestPixelRangeCoversBox(t *testing.T) {
	r := stream(7, "range")
	for _, tilt := range []float64{0, 15, -22} {
		th := tilt * math.Pi / 180
		pl := plane{o: vec3{-50, -40, 10}, r: vec3{1, 0, 0}, c: vec3{0, math.Cos(th), math.Sin(th)}, ps: 2, thk: 2, cols: 50, rows: 40}
		pl.n = pl.r.cross(pl.c)
		for i := 0; i < 200; i++ {
			lo := vec3{r.uniform(-60, 60), r.uniform(-60, 60), r.uniform(-20, 40)}
			bb := box{lo, lo.add(vec3{r.uniform(0, 40), r.uniform(0, 40), r.uniform(0, 30)})}
			i0, i1, j0, j1 := pl.pixelRange(bb)
			for j := 0; j < pl.rows; j++ {
				for ii := 0; ii < pl.cols; ii++ {
					p := pl.o.add(pl.r.scale(pl.ps * float64(ii))).add(pl.c.scale(pl.ps * float64(j)))
					if bb.contains(p) && (ii < i0 || ii >= i1 || j < j0 || j >= j1) {
						t.Fatalf("tilt %v: pixel (%d,%d) at %v lies in %v but outside range i[%d,%d) j[%d,%d)", tilt, ii, j, p, bb, i0, i1, j0, j1)
					}
				}
			}
		}
	}
}

// TestRenderMatchesValueAt: the ground truth reads the model with valueAt;
// the pixels come from render. They must agree pixel for pixel.
func TestRenderMatchesValueAt(t *testing.T) {
	c, err := NewCase(Options{Seed: 4, Size: Size{48, 40, 12}, Variants: Variants{Tilt: true}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	s := c.series[0]
	out, body := make([]float32, s.cols*s.rows), make([]float32, s.cols*s.rows)
	for _, f := range []int{0, len(s.files) / 2, len(s.files) - 1} {
		pl := s.plane(s.files[f].frames[0])
		render(c.layers, &pl, out, body)
		for j := 0; j < s.rows; j++ {
			for i := 0; i < s.cols; i++ {
				p := pl.o.add(pl.r.scale(pl.ps * float64(i))).add(pl.c.scale(pl.ps * float64(j)))
				if have, want := float64(out[j*s.cols+i]), valueAt(c.layers, &pl, p); math.Abs(have-want) > 0.05 {
					t.Fatalf("file %d pixel (%d,%d): render %.3f, valueAt %.3f", f, i, j, have, want)
				}
			}
		}
	}
}
