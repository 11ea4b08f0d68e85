package shaders

import (
	"math"
	"testing"
)

// The f32 reference agrees with a float64 oracle for every dtype and
// activation, with bias, strides, a column offset and accumulation, within
// the f32 bound of a k-order sum: K·ε·Σ|x·w| (times the activations' slope,
// at most 1.13).
func TestMatMulRefAgainstFloat64(t *testing.T) {
	const m, n, k = 3, 5, 96
	p := MatMulParams{M: m, N: n, K: k, LdX: k + 3, LdY: n + 4, YCol: 2}
	x := randF32(1, m*int(p.LdX), 2)
	b := randF32(2, n, 1)
	for _, dt := range DTypes() {
		w, err := Pack(dt, randF32(3, n*k, 0.3), n, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, act := range Acts() {
			for _, acc := range []bool{false, true} {
				y0 := randF32(4, m*int(p.LdY), 1)
				y := append([]float32(nil), y0...)
				MatMulRef(y, x, w, b, act, acc, p, nil)
				for r := 0; r < m; r++ {
					for c := 0; c < int(p.LdY); c++ {
						i := r*int(p.LdY) + c
						j := c - int(p.YCol)
						if j < 0 || j >= n {
							if y[i] != y0[i] {
								t.Fatalf("%s/%s: y[%d,%d] outside the written columns changed", dt, act, r, c)
							}
							continue
						}
						sum, mag := float64(b[j]), math.Abs(float64(b[j]))
						for kk := 0; kk < k; kk++ {
							v := float64(x[r*int(p.LdX)+kk]) * float64(w.At(j, kk))
							sum += v
							mag += math.Abs(v)
						}
						want := actFloat64(act, sum)
						if acc {
							want += float64(y0[i])
						}
						tol := 1.2*k*(1.0/(1<<23))*mag + 1e-6*math.Abs(want)
						if d := math.Abs(float64(y[i]) - want); d > tol {
							t.Fatalf("%s/%s/acc=%v: y[%d,%d] = %v, float64 says %v (|Δ| %.3g > %.3g)", dt, act, acc, r, j, y[i], want, d, tol)
						}
					}
				}
			}
		}
	}
}

// actFloat64 is each activation's definition in float64, independent of
// ActRef's code.
func actFloat64(a Act, v float64) float64 {
	switch a {
	case ActGELUErf:
		return v * 0.5 * math.Erfc(-v/math.Sqrt2)
	case ActGELUTanh:
		return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
	case ActQuickGELU:
		return v / (1 + math.Exp(-1.702*v))
	case ActSiLU:
		return v / (1 + math.Exp(-v))
	}
	return v
}

// Worked by hand: x = [1 2; 3 4], W = [1 0; 1 1; 0 −1], b = [.5 0 −1].
func TestMatMulRefByHand(t *testing.T) {
	w, err := Pack(F32, []float32{1, 0, 1, 1, 0, -1}, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{1, 2, 3, 4}
	b := []float32{0.5, 0, -1}
	y := make([]float32, 6)
	MatMulRef(y, x, w, b, ActNone, false, MatMulDims(2, 3, 2), nil)
	want := []float32{1.5, 3, -3, 3.5, 7, -5}
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("y = %v, want %v", y, want)
		}
	}
	// Accumulating into columns 1..3 of rows of 5, on top of 10s.
	y = []float32{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}
	p := MatMulDims(2, 3, 2)
	p.LdY, p.YCol = 5, 1
	MatMulRef(y, x, w, nil, ActNone, true, p, nil)
	want = []float32{10, 11, 13, 8, 10, 10, 13, 17, 6, 10}
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("strided accumulate: y = %v, want %v", y, want)
		}
	}
	// The activation follows the bias: SiLU(0 + .5) and SiLU(1 + 1.25 + 0).
	y = make([]float32, 6)
	MatMulRef(y, []float32{0, 0, 1, 1.25}, w, b, ActSiLU, false, MatMulDims(2, 3, 2), nil)
	if got, want := y[0], ActRef(ActSiLU, 0.5); got != want {
		t.Errorf("silu(0.5) = %v, want %v", got, want)
	}
	if got := float64(y[4]); math.Abs(got-2.25/(1+math.Exp(-2.25))) > 1e-6 {
		t.Errorf("silu(2.25) = %v", got)
	}
}

// A segment selects rows [seg[2e], seg[2e]+seg[2e+1]); the rest of y is
// untouched, and an empty segment writes nothing.
func TestMatMulRefSegment(t *testing.T) {
	const m, n, k = 6, 3, 32
	w, err := Pack(Int4, randF32(5, n*k, 1), n, k)
	if err != nil {
		t.Fatal(err)
	}
	x := randF32(6, m*k, 1)
	seg := []uint32{0, 2, 2, 3, 5, 0}
	full := make([]float32, m*n)
	MatMulRef(full, x, w, nil, ActNone, false, MatMulDims(m, n, k), nil)
	for e := 0; e < 3; e++ {
		p := MatMulDims(m, n, k)
		p.Segment = uint32(e)
		y := make([]float32, m*n)
		for i := range y {
			y[i] = -99
		}
		MatMulRef(y, x, w, nil, ActNone, false, p, seg)
		lo, hi := int(seg[2*e]), int(seg[2*e]+seg[2*e+1])
		for r := 0; r < m; r++ {
			for c := 0; c < n; c++ {
				want := float32(-99)
				if r >= lo && r < hi {
					want = full[r*n+c]
				}
				if y[r*n+c] != want {
					t.Fatalf("segment %d: y[%d,%d] = %v, want %v", e, r, c, y[r*n+c], want)
				}
			}
		}
	}
}

func TestMatMulRefAtMatchesRef(t *testing.T) {
	const m, n, k = 2, 7, 64
	w, err := Pack(Int8, randF32(7, n*k, 1), n, k)
	if err != nil {
		t.Fatal(err)
	}
	p := MatMulDims(m, n, k)
	x := randF32(8, m*k, 1)
	b := randF32(9, n, 1)
	y := make([]float32, m*n)
	MatMulRef(y, x, w, b, ActGELUTanh, false, p, nil)
	for r := 0; r < m; r++ {
		for c := 0; c < n; c++ {
			if got := MatMulRefAt(x, w, b, ActGELUTanh, p, r, c); got != y[r*n+c] {
				t.Fatalf("(%d,%d): MatMulRefAt %v, MatMulRef %v", r, c, got, y[r*n+c])
			}
		}
	}
}

func TestMatMulParamsValidate(t *testing.T) {
	if err := MatMulDims(1, 3, 64).Validate(Int4); err != nil {
		t.Errorf("dense int4 refused: %v", err)
	}
	bad := map[string]MatMulParams{
		"K not a group": MatMulDims(1, 3, 48),
		"ldx < K":       {M: 1, N: 3, K: 64, LdX: 32, LdY: 3},
		"ldy too short": {M: 1, N: 3, K: 64, LdX: 64, LdY: 4, YCol: 2},
		"N = 0":         {M: 1, N: 0, K: 64, LdX: 64, LdY: 0},
	}
	for what, p := range bad {
		if err := p.Validate(Int4); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
}
