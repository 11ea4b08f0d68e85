package synth

import "math"

// layer paints one tissue: inside s (and inside clip, when set) the value
// becomes hu. Layers are composited in order, each one over what the earlier
// ones left, which is how anatomy nests (lung inside cavity inside muscle
// inside fat) without every organ having to know its neighbours.
type layer struct {
	name string
	hu   float64
	s    shape
	clip shape
	bb   box
	body bool // the body outline: its coverage is the padding mask
}

func newLayer(name string, hu float64, s shape, clip shape) layer {
	bb := s.bounds()
	if clip != nil {
		bb = bb.intersect(clip.bounds())
	}
	return layer{name: name, hu: hu, s: s, clip: clip, bb: bb}
}

// blurMM widens every edge beyond the voxel's own footprint, standing in for
// the scanner's point-spread function so that edges are smooth even on fine
// grids.
const blurMM = 0.6

// airHU is the value outside the body and in the airways.
const airHU = -1000

// plane is one image plane: the centre of pixel (i, j) lies at
// o + i·ps·r + j·ps·c (PS3.3 C.7.6.2.1.1), n = r × c.
type plane struct {
	o, r, c, n vec3
	ps, thk    float64
	cols, rows int
}

// coverage is the fraction of a voxel at signed distance d from a surface
// with normal n that lies inside. A plane crossing a box voxel sweeps it over
// the projected width |n·r|·ps + |n·c|·ps + |n·n|·thk; a linear ramp over
// that width is the box-filtered edge.
func (pl *plane) coverage(d float64, n vec3) float64 {
	w := math.Abs(n.dot(pl.r))*pl.ps + math.Abs(n.dot(pl.c))*pl.ps + math.Abs(n.dot(pl.n))*pl.thk + blurMM
	return clamp(0.5-d/w, 0, 1)
}

// maxHalfWidth bounds how far outside a shape coverage can be non-zero.
func (pl *plane) maxHalfWidth() float64 { return (2*pl.ps+pl.thk+blurMM)/2 + 0.01 }

// bounds is the box around the plane's pixel centres.
func (pl *plane) bounds() box {
	b := box{pl.o, pl.o}
	for _, q := range []vec3{
		pl.o.add(pl.r.scale(pl.ps * float64(pl.cols-1))),
		pl.o.add(pl.c.scale(pl.ps * float64(pl.rows-1))),
		pl.o.add(pl.r.scale(pl.ps * float64(pl.cols-1))).add(pl.c.scale(pl.ps * float64(pl.rows-1))),
	} {
		b = b.union(box{q, q})
	}
	return b
}

// pixelRange returns the pixel rectangle [i0, i1) × [j0, j1) that can hold
// points of bb. An axis along which only i (or only j) moves constrains that
// index exactly; an axis that both move would need a polygon clip, and
// leaves the range open (only oblique row directions do that, and the
// generator writes none).
func (pl *plane) pixelRange(bb box) (i0, i1, j0, j1 int) {
	ilo, ihi := 0.0, float64(pl.cols-1)
	jlo, jhi := 0.0, float64(pl.rows-1)
	o, lo, hi := pl.o.arr(), bb.lo.arr(), bb.hi.arr()
	r, c := pl.r.arr(), pl.c.arr()
	for a := 0; a < 3; a++ {
		ri, ci := r[a]*pl.ps, c[a]*pl.ps
		switch {
		case math.Abs(ri) < 1e-9 && math.Abs(ci) < 1e-9:
			if o[a] < lo[a] || o[a] > hi[a] {
				return 0, 0, 0, 0
			}
		case math.Abs(ci) < 1e-9:
			t0, t1 := (lo[a]-o[a])/ri, (hi[a]-o[a])/ri
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			ilo, ihi = math.Max(ilo, t0), math.Min(ihi, t1)
		case math.Abs(ri) < 1e-9:
			t0, t1 := (lo[a]-o[a])/ci, (hi[a]-o[a])/ci
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			jlo, jhi = math.Max(jlo, t0), math.Min(jhi, t1)
		}
	}
	if ilo > ihi || jlo > jhi {
		return 0, 0, 0, 0
	}
	return int(math.Ceil(ilo)), int(math.Floor(ihi)) + 1, int(math.Ceil(jlo)), int(math.Floor(jhi)) + 1
}

// render composites the layers onto one plane: out receives HU without
// noise (cols·rows, row-major), body the body outline's coverage.
func render(layers []layer, pl *plane, out, body []float32) {
	for i := range out {
		out[i] = airHU
		body[i] = 0
	}
	pb := pl.bounds()
	for li := range layers {
		paint(&layers[li], pl, pb, out, body)
	}
}

// paint composites one layer; pb is the plane's bounds.
func paint(L *layer, pl *plane, pb box, out, body []float32) {
	grow := pl.maxHalfWidth()
	bb := L.bb.grow(grow)
	if !overlaps(bb, pb) {
		return
	}
	dr, dc := pl.r.scale(pl.ps), pl.c.scale(pl.ps)
	i0, i1, j0, j1 := pl.pixelRange(bb)
	hu := float32(L.hu)
	for j := j0; j < j1; j++ {
		p := pl.o.add(dc.scale(float64(j))).add(dr.scale(float64(i0)))
		row := out[j*pl.cols : (j+1)*pl.cols]
		for i := i0; i < i1; i, p = i+1, p.add(dr) {
			d, n := L.s.sdf(p)
			if d > grow {
				continue
			}
			m := pl.coverage(d, n)
			if m == 0 {
				continue
			}
			if L.clip != nil {
				dc, nc := L.clip.sdf(p)
				m *= pl.coverage(dc, nc)
				if m == 0 {
					continue
				}
			}
			v := row[i]
			row[i] = v + float32(m)*(hu-v)
			if L.body {
				body[j*pl.cols+i] = float32(m)
			}
		}
	}
}

func overlaps(a, b box) bool {
	return a.lo.X <= b.hi.X && a.hi.X >= b.lo.X && a.lo.Y <= b.hi.Y && a.hi.Y >= b.lo.Y && a.lo.Z <= b.hi.Z && a.hi.Z >= b.lo.Z
}

// valueAt is render for one point: the noiseless HU a voxel of plane pl's
// size would hold if centred at p. The ground truth uses it to pick organ
// reference points and to state what a reader should find there.
func valueAt(layers []layer, pl *plane, p vec3) float64 {
	v := float64(airHU)
	grow := pl.maxHalfWidth()
	for li := range layers {
		L := &layers[li]
		if !L.bb.grow(grow).contains(p) {
			continue
		}
		d, n := L.s.sdf(p)
		m := pl.coverage(d, n)
		if m == 0 {
			continue
		}
		if L.clip != nil {
			dc, nc := L.clip.sdf(p)
			m *= pl.coverage(dc, nc)
		}
		v += m * (L.hu - v)
	}
	return v
}
