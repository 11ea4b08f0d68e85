package volume

import "math"

// Small 3-vector helpers for patient-space geometry (LPS, mm).

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func add(a, b [3]float64) [3]float64 { return [3]float64{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }

func sub(a, b [3]float64) [3]float64 { return [3]float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

func scale(a [3]float64, s float64) [3]float64 { return [3]float64{a[0] * s, a[1] * s, a[2] * s} }

func norm(a [3]float64) float64 { return math.Sqrt(dot(a, a)) }

// inverse3 inverts the 3×3 matrix m (rows m[0..2]); ok is false when m is
// singular.
func inverse3(m [3][3]float64) (inv [3][3]float64, ok bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-12 {
		return inv, false
	}
	d := 1 / det
	inv[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) * d
	inv[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) * d
	inv[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) * d
	inv[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) * d
	inv[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) * d
	inv[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) * d
	inv[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) * d
	inv[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) * d
	inv[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) * d
	return inv, true
}
