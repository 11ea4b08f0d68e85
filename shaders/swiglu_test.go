package shaders

import (
	"math"
	"testing"
)

// The reference takes the gate from the first half of each row and up from
// the second (HF Phi-3's gate_up_proj.chunk(2, dim=-1)), checked by hand
// and against a float64 oracle.
func TestSwiGLURef(t *testing.T) {
	// Row 0: gate [0, 1], up [5, 2]; row 1: gate [-1, 2], up [3, -1].
	x := []float32{0, 1, 5, 2, -1, 2, 3, -1}
	y := make([]float32, 4)
	SwiGLURef(y, x, 2, 2)
	silu := func(v float64) float64 { return v / (1 + math.Exp(-v)) }
	want := []float64{0, silu(1) * 2, silu(-1) * 3, silu(2) * -1}
	for i := range want {
		if math.Abs(float64(y[i])-want[i]) > 1e-6 {
			t.Errorf("y[%d] = %v, want %v", i, y[i], want[i])
		}
	}
	const rows, f = 3, 77
	xr := randF32(5, rows*2*f, 6)
	yr := make([]float32, rows*f)
	SwiGLURef(yr, xr, rows, f)
	for r := 0; r < rows; r++ {
		for j := 0; j < f; j++ {
			g, u := float64(xr[r*2*f+j]), float64(xr[r*2*f+f+j])
			if w := silu(g) * u; math.Abs(float64(yr[r*f+j])-w) > 1e-6*math.Max(1, math.Abs(w)) {
				t.Fatalf("(%d, %d): have %v want %v", r, j, yr[r*f+j], w)
			}
		}
	}
}
