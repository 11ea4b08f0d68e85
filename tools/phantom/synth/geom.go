package synth

import "math"

// vec3 is a point or direction in patient coordinates (LPS, mm).
type vec3 struct{ X, Y, Z float64 }

func (a vec3) add(b vec3) vec3             { return vec3{a.X + b.X, a.Y + b.Y, a.Z + b.Z} }
func (a vec3) sub(b vec3) vec3             { return vec3{a.X - b.X, a.Y - b.Y, a.Z - b.Z} }
func (a vec3) scale(s float64) vec3        { return vec3{a.X * s, a.Y * s, a.Z * s} }
func (a vec3) dot(b vec3) float64          { return a.X*b.X + a.Y*b.Y + a.Z*b.Z }
func (a vec3) norm() float64               { return math.Sqrt(a.dot(a)) }
func (a vec3) mul(b vec3) vec3             { return vec3{a.X * b.X, a.Y * b.Y, a.Z * b.Z} }
func (a vec3) div(b vec3) vec3             { return vec3{a.X / b.X, a.Y / b.Y, a.Z / b.Z} }
func (a vec3) arr() [3]float64             { return [3]float64{a.X, a.Y, a.Z} }
func (a vec3) lerp(b vec3, t float64) vec3 { return a.add(b.sub(a).scale(t)) }

func (a vec3) cross(b vec3) vec3 {
	return vec3{a.Y*b.Z - a.Z*b.Y, a.Z*b.X - a.X*b.Z, a.X*b.Y - a.Y*b.X}
}

// unit returns a scaled to length 1, or +Z for a zero vector so that a
// degenerate gradient still yields a usable normal.
func (a vec3) unit() vec3 {
	n := a.norm()
	if n == 0 {
		return vec3{0, 0, 1}
	}
	return a.scale(1 / n)
}

// box is an axis-aligned bounding box in LPS mm.
type box struct{ lo, hi vec3 }

func (b box) grow(m float64) box {
	return box{b.lo.sub(vec3{m, m, m}), b.hi.add(vec3{m, m, m})}
}

func (b box) union(c box) box {
	return box{
		vec3{math.Min(b.lo.X, c.lo.X), math.Min(b.lo.Y, c.lo.Y), math.Min(b.lo.Z, c.lo.Z)},
		vec3{math.Max(b.hi.X, c.hi.X), math.Max(b.hi.Y, c.hi.Y), math.Max(b.hi.Z, c.hi.Z)},
	}
}

func (b box) intersect(c box) box {
	return box{
		vec3{math.Max(b.lo.X, c.lo.X), math.Max(b.lo.Y, c.lo.Y), math.Max(b.lo.Z, c.lo.Z)},
		vec3{math.Min(b.hi.X, c.hi.X), math.Min(b.hi.Y, c.hi.Y), math.Min(b.hi.Z, c.hi.Z)},
	}
}

func (b box) contains(p vec3) bool {
	return p.X >= b.lo.X && p.X <= b.hi.X && p.Y >= b.lo.Y && p.Y <= b.hi.Y && p.Z >= b.lo.Z && p.Z <= b.hi.Z
}

// mat3 is a rotation stored as its three rows; r.apply(p) maps patient
// coordinates into a shape's local frame.
type mat3 [3]vec3

func identity() mat3 { return mat3{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} }

func (m mat3) apply(p vec3) vec3 { return vec3{m[0].dot(p), m[1].dot(p), m[2].dot(p)} }

// applyT maps a local-frame vector back to patient coordinates.
func (m mat3) applyT(p vec3) vec3 {
	return m[0].scale(p.X).add(m[1].scale(p.Y)).add(m[2].scale(p.Z))
}

// rotXYZ builds the local frame of a shape rotated by ax, ay, az radians
// about the patient X, Y and Z axes (applied in that order).
func rotXYZ(ax, ay, az float64) mat3 {
	cx, sx := math.Cos(ax), math.Sin(ax)
	cy, sy := math.Cos(ay), math.Sin(ay)
	cz, sz := math.Cos(az), math.Sin(az)
	rx := mat3{{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}}
	ry := mat3{{cy, 0, sy}, {0, 1, 0}, {-sy, 0, cy}}
	rz := mat3{{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}}
	// World = Rz·Ry·Rx·local, so local = (Rz·Ry·Rx)ᵀ·world.
	w := mul3(rz, mul3(ry, rx))
	return transpose(w)
}

func mul3(a, b mat3) mat3 {
	bt := transpose(b)
	var r mat3
	for i := 0; i < 3; i++ {
		r[i] = vec3{a[i].dot(bt[0]), a[i].dot(bt[1]), a[i].dot(bt[2])}
	}
	return r
}

func transpose(a mat3) mat3 {
	return mat3{{a[0].X, a[1].X, a[2].X}, {a[0].Y, a[1].Y, a[2].Y}, {a[0].Z, a[1].Z, a[2].Z}}
}

func clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// smoothstep is the cubic Hermite ramp from 0 at e0 to 1 at e1.
func smoothstep(e0, e1, x float64) float64 {
	t := clamp((x-e0)/(e1-e0), 0, 1)
	return t * t * (3 - 2*t)
}
