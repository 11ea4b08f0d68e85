package shaders

import (
	"math"
	"testing"
)

// layerNorm64 is the float64 oracle: the textbook two-pass formula.
func layerNorm64(x, w, b []float32, rows, cols int, eps float64) []float64 {
	y := make([]float64, len(x))
	for t := 0; t < rows; t++ {
		var mu, v float64
		for c := 0; c < cols; c++ {
			mu += float64(x[t*cols+c])
		}
		mu /= float64(cols)
		for c := 0; c < cols; c++ {
			d := float64(x[t*cols+c]) - mu
			v += d * d
		}
		v /= float64(cols)
		for c := 0; c < cols; c++ {
			y[t*cols+c] = (float64(x[t*cols+c])-mu)/math.Sqrt(v+eps)*float64(w[c]) + float64(b[c])
		}
	}
	return y
}

func checkLayerNorm64(t *testing.T, name string, x, w, b []float32, rows, cols int, eps float32, tol float64) {
	t.Helper()
	y := make([]float32, len(x))
	LayerNormRef(y, x, w, b, rows, cols, eps)
	want := layerNorm64(x, w, b, rows, cols, float64(eps))
	for i := range y {
		if d := math.Abs(float64(y[i]) - want[i]); d > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s: [%d] have %v want %v (|Δ| %.3g)", name, i, y[i], want[i], d)
		}
	}
}

// The f32 reference agrees with the float64 oracle on plain rows and on the
// rows that break naive algorithms: a large common offset (where
// E[x²]−E[x]² or a rounded mean loses the deviations) and outlier channels.
func TestLayerNormRefAgainstFloat64(t *testing.T) {
	const rows, cols = 3, 1000
	w := randF32(2, cols, 1)
	b := randF32(3, cols, 0.5)
	checkLayerNorm64(t, "random", randF32(1, rows*cols, 5), w, b, rows, cols, 1e-5, 1e-5)
	off := randF32(4, rows*cols, 1)
	for i := range off {
		off[i] += 1e4
	}
	// x itself holds only ~3 decimal digits of each deviation after the
	// offset (ulp(1e4) ≈ 1e-3), but the oracle sees the same f32 inputs, so
	// a careful f32 algorithm still matches it to ~1e-6.
	checkLayerNorm64(t, "offset 1e4", off, w, b, rows, cols, 1e-5, 1e-5)
	mass := randF32(5, rows*cols, 1)
	mass[17], mass[cols+17], mass[2*cols+900] = 500, -300, 800
	checkLayerNorm64(t, "outliers", mass, w, b, rows, cols, 1e-5, 1e-5)
}

// The offset rows do break careless f32 algorithms, so the test above is
// one they would fail: E[x²] − E[x]² loses the variance outright, and the
// plain two-pass algorithm (no δ correction) is off by the rounding of its
// mean, ~1e-4 of σ, twenty times the 1e-5 the corrected one meets.
func TestLayerNormOffsetRowsBreakNaiveAlgorithms(t *testing.T) {
	const cols = 1000
	x := randF32(4, cols, 1)
	for i := range x {
		x[i] += 1e4
	}
	ones, zeros := make([]float32, cols), make([]float32, cols)
	for i := range ones {
		ones[i] = 1
	}
	want := layerNorm64(x, ones, zeros, 1, cols, 1e-5)
	var s, ss float32
	for _, v := range x {
		s += v
		ss += v * v
	}
	m := s / cols
	var q float32
	for _, v := range x {
		q += (v - m) * (v - m)
	}
	twoPass := q / cols
	if naive := ss/cols - m*m; math.Abs(float64(naive-twoPass)) < 0.1*float64(twoPass) {
		t.Errorf("E[x²] − E[x]² = %v is close to the variance %v: the case does not stress it", naive, twoPass)
	}
	inv := 1 / math.Sqrt(float64(twoPass)+1e-5)
	worst := 0.0
	for i, v := range x {
		worst = max(worst, math.Abs(float64(v-m)*inv-want[i]))
	}
	if worst < 2e-5 {
		t.Errorf("uncorrected two-pass is within %.3g of the oracle: the case does not stress it", worst)
	}
}

// Hand-checked: [1 2 3 4] has μ = 2.5, σ² = 1.25; constant rows give b.
func TestLayerNormRefHandValues(t *testing.T) {
	y := make([]float32, 4)
	LayerNormRef(y, []float32{1, 2, 3, 4}, []float32{1, 1, 2, 1}, []float32{0, 0, 0, 10}, 1, 4, 0)
	s := math.Sqrt(1.25)
	for i, want := range []float64{-1.5 / s, -0.5 / s, 2 * 0.5 / s, 1.5/s + 10} {
		if math.Abs(float64(y[i])-want) > 1e-6 {
			t.Errorf("y[%d] = %v, want %v", i, y[i], want)
		}
	}
	c := make([]float32, 1000)
	for i := range c {
		c[i] = 1234.567
	}
	b := randF32(9, 1000, 1)
	yc := make([]float32, 1000)
	LayerNormRef(yc, c, randF32(8, 1000, 1), b, 1, 1000, 1e-5)
	for i := range yc {
		if yc[i] != b[i] {
			t.Fatalf("constant row: y[%d] = %v, want b = %v", i, yc[i], b[i])
		}
	}
}
