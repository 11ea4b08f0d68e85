package dicomread

import "math"

// Small 3-vector helpers for patient-space geometry (LPS, mm): a copy of
// volume's own, which stay unexported there rather than widen its API.

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func add(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }

func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

func scale(a [3]float64, s float64) [3]float64 { return [3]float64{a[0] * s, a[1] * s, a[2] * s} }

func norm(a [3]float64) float64 { return math.Sqrt(dot(a, a)) }

// unit returns a/|a|, or the zero vector for a zero or non-finite a.
func unit(a [3]float64) [3]float64 {
	n := norm(a)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return [3]float64{}
	}
	return scale(a, 1/n)
}
