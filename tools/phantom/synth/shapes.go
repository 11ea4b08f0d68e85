package synth

import "math"

// A shape is a solid region given by an approximate signed distance: sdf
// returns d (mm, negative inside) and the outward unit normal at p. Only the
// band |d| ≲ one voxel has to be accurate, because that band is where the
// renderer turns d into a partial-volume fraction; far from the surface any
// d with the right sign will do.
type shape interface {
	sdf(p vec3) (float64, vec3)
	// bounds contains every point with d < 0.
	bounds() box
}

// everywhere is the bounding box of shapes that are not bounded (half-spaces,
// the diaphragm); intersections take the finite partner's box.
var everywhere = box{vec3{-1e6, -1e6, -1e6}, vec3{1e6, 1e6, 1e6}}

// ellipsoid: centre c, semi-axes r in its local frame, local = rot·(p−c).
type ellipsoid struct {
	c, r vec3
	rot  mat3
	bb   box
}

func newEllipsoid(c, r vec3, rot mat3) *ellipsoid {
	e := &ellipsoid{c: c, r: r, rot: rot}
	// World half-extent along axis i is |row i of rotᵀ ∘ r|.
	var ext vec3
	for i := 0; i < 3; i++ {
		var s float64
		for j := 0; j < 3; j++ {
			a := rot[j].arr()[i] * r.arr()[j]
			s += a * a
		}
		switch i {
		case 0:
			ext.X = math.Sqrt(s)
		case 1:
			ext.Y = math.Sqrt(s)
		case 2:
			ext.Z = math.Sqrt(s)
		}
	}
	e.bb = box{c.sub(ext), c.add(ext)}
	return e
}

func (e *ellipsoid) sdf(p vec3) (float64, vec3) {
	l := e.rot.apply(p.sub(e.c))
	q := l.div(e.r)
	k := q.norm()
	if k < 1e-9 {
		return -min(e.r.X, e.r.Y, e.r.Z), vec3{0, 0, 1}
	}
	// ∇k in the local frame is q/(k·r); the first-order distance is (k−1)/|∇k|.
	g := q.div(e.r).scale(1 / k)
	gn := g.norm()
	return (k - 1) / gn, e.rot.applyT(g.scale(1 / gn))
}

func (e *ellipsoid) bounds() box { return e.bb }

// extentX is the half-width of the ellipsoid along patient X, used for the
// cardiothoracic ratio.
func (e *ellipsoid) extentX() float64 { return (e.bb.hi.X - e.bb.lo.X) / 2 }

// capsule is a segment a–b swept by a sphere of radius r: vessels, airways,
// rib pieces.
type capsule struct {
	a, b vec3
	r    float64
}

func (c capsule) sdf(p vec3) (float64, vec3) {
	ab := c.b.sub(c.a)
	t := 0.0
	if l2 := ab.dot(ab); l2 > 0 {
		t = clamp(p.sub(c.a).dot(ab)/l2, 0, 1)
	}
	v := p.sub(c.a.add(ab.scale(t)))
	n := v.norm()
	if n < 1e-9 {
		return -c.r, vec3{0, 0, 1}
	}
	return n - c.r, v.scale(1 / n)
}

func (c capsule) bounds() box {
	return box{c.a, c.a}.union(box{c.b, c.b}).grow(c.r)
}

// column is an elliptic (or, when boxy, rounded-rectangular) cylinder along
// patient Z whose centre and semi-axes vary with z: the body outline, the
// thoracic cavity, the vertebral column. prof must vary slowly with z,
// because the z part of the gradient is ignored.
//
// prof is sampled once into a table every columnStep mm and interpolated:
// the renderer evaluates a column for nearly every pixel, and the profile
// functions (blends of smoothsteps) cost more than the distance itself.
type column struct {
	tab      []colParams
	t0       float64 // z of tab[0]
	boxy     bool
	zlo, zhi float64
	bb       box
}

type colParams struct{ cx, cy, a, b float64 }

const columnStep = 0.25

func newColumn(prof func(z float64) (cx, cy, a, b float64), boxy bool, zlo, zhi float64) *column {
	if zhi < zlo {
		panic("synth: column with zhi < zlo")
	}
	c := &column{boxy: boxy, zlo: zlo, zhi: zhi, t0: zlo}
	n := int(math.Ceil((zhi-zlo)/columnStep)) + 2
	c.tab = make([]colParams, n)
	for i := range c.tab {
		cx, cy, a, b := prof(zlo + float64(i)*columnStep)
		c.tab[i] = colParams{cx, cy, a, b}
	}
	bb := box{vec3{math.Inf(1), math.Inf(1), zlo}, vec3{math.Inf(-1), math.Inf(-1), zhi}}
	for _, t := range c.tab {
		bb.lo.X, bb.hi.X = min(bb.lo.X, t.cx-t.a), max(bb.hi.X, t.cx+t.a)
		bb.lo.Y, bb.hi.Y = min(bb.lo.Y, t.cy-t.b), max(bb.hi.Y, t.cy+t.b)
	}
	c.bb = bb.grow(1)
	return c
}

// at interpolates the profile table at z (clamped to its ends).
func (c *column) at(z float64) colParams {
	u := (z - c.t0) / columnStep
	if u <= 0 {
		return c.tab[0]
	}
	i := int(u)
	if i >= len(c.tab)-1 {
		return c.tab[len(c.tab)-1]
	}
	f := u - float64(i)
	p, q := c.tab[i], c.tab[i+1]
	return colParams{p.cx + f*(q.cx-p.cx), p.cy + f*(q.cy-p.cy), p.a + f*(q.a-p.a), p.b + f*(q.b-p.b)}
}

func (c *column) sdf(p vec3) (float64, vec3) {
	t := c.at(p.Z)
	u, v := (p.X-t.cx)/t.a, (p.Y-t.cy)/t.b
	e2 := math.Sqrt(u*u + v*v)
	k, gu, gv := e2, 0.0, 0.0
	if e2 > 1e-9 {
		gu, gv = u/e2, v/e2
	}
	if c.boxy {
		// The mean of the 2-norm and the 4-norm is a superellipse of
		// exponent ≈ 2.7 that needs only square roots, not math.Pow.
		u2, v2 := u*u, v*v
		e4 := math.Sqrt(math.Sqrt(u2*u2 + v2*v2))
		k = (e2 + e4) / 2
		if e4 > 1e-9 {
			d := e4 * e4 * e4
			gu, gv = (gu+u2*u/d)/2, (gv+v2*v/d)/2
		}
	}
	gx, gy := gu/t.a, gv/t.b
	gn := math.Sqrt(gx*gx + gy*gy)
	var d float64
	var n vec3
	if gn < 1e-12 {
		d, n = -min(t.a, t.b), vec3{0, 0, 1}
	} else {
		d, n = (k-1)/gn, vec3{gx / gn, gy / gn, 0}
	}
	if dz := c.zlo - p.Z; dz > d {
		d, n = dz, vec3{0, 0, -1}
	}
	if dz := p.Z - c.zhi; dz > d {
		d, n = dz, vec3{0, 0, 1}
	}
	return d, n
}

func (c *column) bounds() box { return c.bb }

// halfspace is {p : n·p < off} with n a unit vector.
type halfspace struct {
	n   vec3
	off float64
}

func (h halfspace) sdf(p vec3) (float64, vec3) { return h.n.dot(p) - h.off, h.n }
func (h halfspace) bounds() box                { return everywhere }

// slab is the sheet |n·p − off| < half: lung fissures.
type slab struct {
	n         vec3
	off, half float64
}

func (s slab) sdf(p vec3) (float64, vec3) {
	t := s.n.dot(p) - s.off
	if t < 0 {
		return -t - s.half, s.n.scale(-1)
	}
	return t - s.half, s.n
}

// bounds is finite along an axis the slab is perpendicular to (the
// intervertebral discs, the horizontal fissure), and everywhere otherwise.
func (s slab) bounds() box {
	b := everywhere
	switch {
	case s.n == vec3{0, 0, 1} || s.n == vec3{0, 0, -1}:
		c := s.off * s.n.Z
		b.lo.Z, b.hi.Z = c-s.half, c+s.half
	case s.n == vec3{0, 1, 0} || s.n == vec3{0, -1, 0}:
		c := s.off * s.n.Y
		b.lo.Y, b.hi.Y = c-s.half, c+s.half
	case s.n == vec3{1, 0, 0} || s.n == vec3{-1, 0, 0}:
		c := s.off * s.n.X
		b.lo.X, b.hi.X = c-s.half, c+s.half
	}
	return b
}

// intersect is the region inside every part.
type intersect struct {
	parts []shape
	bb    box
}

func newIntersect(parts ...shape) *intersect {
	bb := everywhere
	for _, s := range parts {
		bb = bb.intersect(s.bounds())
	}
	return &intersect{parts: parts, bb: bb}
}

func (s *intersect) sdf(p vec3) (float64, vec3) {
	d, n := s.parts[0].sdf(p)
	for _, q := range s.parts[1:] {
		if d2, n2 := q.sdf(p); d2 > d {
			d, n = d2, n2
		}
	}
	return d, n
}
func (s *intersect) bounds() box { return s.bb }

// union is the region inside any part.
type union struct {
	parts []shape
	bb    box
}

func newUnion(parts ...shape) *union {
	bb := parts[0].bounds()
	for _, s := range parts[1:] {
		bb = bb.union(s.bounds())
	}
	return &union{parts: parts, bb: bb}
}

func (s *union) sdf(p vec3) (float64, vec3) {
	d, n := s.parts[0].sdf(p)
	for _, q := range s.parts[1:] {
		if d2, n2 := q.sdf(p); d2 < d {
			d, n = d2, n2
		}
	}
	return d, n
}
func (s *union) bounds() box { return s.bb }

// complement is everything outside s; it only makes sense inside an
// intersect, which takes its box from the other parts.
type complement struct{ s shape }

func (c complement) sdf(p vec3) (float64, vec3) {
	d, n := c.s.sdf(p)
	return -d, n.scale(-1)
}
func (c complement) bounds() box { return everywhere }

// translate moves s by t.
type translate struct {
	s shape
	t vec3
}

func (tr translate) sdf(p vec3) (float64, vec3) { return tr.s.sdf(p.sub(tr.t)) }
func (tr translate) bounds() box {
	b := tr.s.bounds()
	return box{b.lo.add(tr.t), b.hi.add(tr.t)}
}

// diaphragm is the region above (thorax) or below (abdomen) a surface made
// of two paraboloid domes, right (patient −X) and left, blended across the
// midline. off moves the surface along Z, so the abdomen can start a few
// millimetres below the lung bases, leaving room for the diaphragm muscle.
type diaphragm struct {
	right, left dome
	midX        float64 // blend centre
	below       bool
	off         float64
}

// dome is z = top − h·((x−x0)²/ax² + (y−y0)²/ay²).
type dome struct{ x0, y0, top, ax, ay, h float64 }

func (d dome) z(x, y float64) (z, dzdx, dzdy float64) {
	u, v := (x-d.x0)/d.ax, (y-d.y0)/d.ay
	return d.top - d.h*(u*u+v*v), -2 * d.h * u / d.ax, -2 * d.h * v / d.ay
}

// surface returns the diaphragm height under (x, y) and its slopes.
func (g *diaphragm) surface(x, y float64) (z, zx, zy float64) {
	zr, rx, ry := g.right.z(x, y)
	zl, lx, ly := g.left.z(x, y)
	const half = 30 // mm over which the two domes blend
	t := clamp((x-g.midX+half)/(2*half), 0, 1)
	w := t * t * (3 - 2*t)
	dw := 0.0
	if t > 0 && t < 1 {
		dw = 6 * t * (1 - t) / (2 * half)
	}
	z = (1-w)*zr + w*zl
	zx = (1-w)*rx + w*lx + dw*(zl-zr)
	zy = (1-w)*ry + w*ly
	return z + g.off, zx, zy
}

func (g *diaphragm) sdf(p vec3) (float64, vec3) {
	z, zx, zy := g.surface(p.X, p.Y)
	f := p.Z - z // > 0 above the surface
	grad := vec3{-zx, -zy, 1}
	gn := grad.norm()
	if g.below {
		return f / gn, grad.scale(1 / gn)
	}
	return -f / gn, grad.scale(-1 / gn)
}
func (g *diaphragm) bounds() box { return everywhere }
