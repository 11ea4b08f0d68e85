package shaders

import (
	"math"
	"testing"
)

// softmax64 is the float64 oracle, written without the max subtraction
// (safe in float64 for the inputs used here) so it shares nothing with the
// reference's algorithm.
func softmax64(x []float32, scale float64) []float64 {
	y := make([]float64, len(x))
	var s float64
	for i, v := range x {
		y[i] = math.Exp(scale * float64(v))
		s += y[i]
	}
	for i := range y {
		y[i] /= s
	}
	return y
}

func TestSoftmaxRefAgainstFloat64(t *testing.T) {
	for _, c := range []struct {
		cols  int
		amp   float32
		scale float32
	}{{1, 1, 1}, {8, 4, 1}, {1000, 6, 0.125}, {333, 6, -0.7}, {50, 80, 1}} {
		x := randF32(int64(c.cols), 2*c.cols, c.amp)
		y := make([]float32, len(x))
		SoftmaxRef(y, x, 2, c.cols, c.scale)
		for r := 0; r < 2; r++ {
			want := softmax64(x[r*c.cols:(r+1)*c.cols], float64(c.scale))
			var sum float64
			for j, w := range want {
				have := float64(y[r*c.cols+j])
				sum += have
				if math.Abs(have-w) > 1e-6*math.Max(w, 1e-3) {
					t.Fatalf("cols %d scale %v row %d [%d]: have %v want %v", c.cols, c.scale, r, j, have, w)
				}
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("cols %d: row %d sums to %v", c.cols, r, sum)
			}
		}
	}
}

// Hand-checked: softmax([0, ln 3]) = [1/4, 3/4], and the same after a shift
// of 1e4 that would overflow exp without the max subtraction.
func TestSoftmaxRefHandValues(t *testing.T) {
	ln3 := float32(math.Log(3))
	for _, shift := range []float32{0, 1e4, -1e4} {
		y := make([]float32, 2)
		SoftmaxRef(y, []float32{shift, shift + ln3}, 1, 2, 1)
		if math.Abs(float64(y[0])-0.25) > 2e-4 || math.Abs(float64(y[1])-0.75) > 2e-4 {
			// 2e-4: ln 3 added to ±1e4 rounds to the f32 grid there (ulp 1e-3).
			t.Errorf("shift %v: softmax = %v, want [0.25 0.75]", shift, y)
		}
	}
	// A fully masked row is uniform; a masked entry is exactly 0.
	y := make([]float32, 4)
	SoftmaxRef(y, []float32{-1e30, -1e30, -1e30, -1e30}, 1, 4, 1)
	for _, v := range y {
		if v != 0.25 {
			t.Fatalf("all-masked row: %v", y)
		}
	}
	SoftmaxRef(y, []float32{1, -1e30, 1, 1}, 1, 4, 1)
	if y[1] != 0 || math.Abs(float64(y[0])-1.0/3) > 1e-7 {
		t.Errorf("masked entry: %v", y)
	}
}
