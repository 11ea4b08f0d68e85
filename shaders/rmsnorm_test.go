package shaders

import (
	"math"
	"testing"
)

// The f32 reference agrees with a float64 oracle, and with the definition
// on hand-checked rows.
func TestRMSNormRefAgainstFloat64(t *testing.T) {
	const rows, cols = 3, 777
	x := randF32(1, rows*cols, 5)
	w := randF32(2, cols, 1)
	y := make([]float32, len(x))
	RMSNormRef(y, append([]float32(nil), x...), nil, w, rows, cols, 1e-5)
	for r := 0; r < rows; r++ {
		var ss float64
		for c := 0; c < cols; c++ {
			v := float64(x[r*cols+c])
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss/cols+1e-5)
		for c := 0; c < cols; c++ {
			want := float64(x[r*cols+c]) * inv * float64(w[c])
			if d := math.Abs(float64(y[r*cols+c]) - want); d > 1e-5*math.Max(1, math.Abs(want)) {
				t.Fatalf("row %d col %d: have %v want %v", r, c, y[r*cols+c], want)
			}
		}
	}
	// [3, 4] has mean square 12.5: y = x / sqrt(12.5).
	y2 := make([]float32, 2)
	RMSNormRef(y2, []float32{3, 4}, nil, []float32{1, 2}, 1, 2, 0)
	if math.Abs(float64(y2[0])-3/math.Sqrt(12.5)) > 1e-6 || math.Abs(float64(y2[1])-8/math.Sqrt(12.5)) > 1e-6 {
		t.Errorf("rmsnorm([3 4]) = %v", y2)
	}
}

func TestRMSNormRefResidualWritesBack(t *testing.T) {
	x := []float32{1, 2}
	y := make([]float32, 2)
	RMSNormRef(y, x, []float32{10, 20}, []float32{1, 1}, 1, 2, 0)
	if x[0] != 11 || x[1] != 22 {
		t.Errorf("residual not written back: x = %v", x)
	}
}
