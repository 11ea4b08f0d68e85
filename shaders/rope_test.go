package shaders

import (
	"math"
	"testing"
)

func ropeOne(x []float32, dh, rot int, pos uint32, inv []float32, mscale float32) []float32 {
	y := append([]float32(nil), x...)
	RoPERef(y, inv, RoPEParams{Rows: 1, RowStride: uint32(dh), NHeads: 1, HeadDim: uint32(dh), RotDim: uint32(rot), PosOffset: pos, PosDiv: 1, MScale: mscale})
	return y
}

// Position 0 is the identity; the dims past rot_dim never move.
func TestRoPERefPositionZeroIsIdentity(t *testing.T) {
	x := randF32(1, 12, 3)
	inv := RoPEInvFreq(10000, 8, nil)
	y := ropeOne(x, 12, 8, 0, inv, 1)
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("element %d: %v became %v at position 0", i, x[i], y[i])
		}
	}
	y = ropeOne(x, 12, 8, 977, inv, 1)
	for i := 8; i < 12; i++ {
		if x[i] != y[i] {
			t.Fatalf("pass-through dim %d changed: %v → %v", i, x[i], y[i])
		}
	}
}

// Each pair (i, i + rot/2) is rotated: its norm is kept (times mscale) and,
// for rot = 2 at position 1, the angle is exactly 1 radian.
func TestRoPERefRotatesPairs(t *testing.T) {
	const dh, rot = 16, 16
	x := randF32(2, dh, 2)
	inv := RoPEInvFreq(10000, rot, nil)
	for _, ms := range []float32{1, 1.19} {
		y := ropeOne(x, dh, rot, 123, inv, ms)
		for i := 0; i < rot/2; i++ {
			n0 := math.Hypot(float64(x[i]), float64(x[i+rot/2]))
			n1 := math.Hypot(float64(y[i]), float64(y[i+rot/2]))
			if math.Abs(n1-float64(ms)*n0) > 1e-5 {
				t.Fatalf("mscale %v pair %d: norm %v → %v", ms, i, n0, n1)
			}
		}
	}
	y := ropeOne([]float32{1, 0}, 2, 2, 1, RoPEInvFreq(10000, 2, nil), 1)
	if math.Abs(float64(y[0])-math.Cos(1)) > 1e-7 || math.Abs(float64(y[1])-math.Sin(1)) > 1e-7 {
		t.Errorf("(1, 0) at position 1: have %v want (cos 1, sin 1)", y)
	}
}

// RoPE's defining property: <R(m)q, R(n)k> depends only on m − n.
func TestRoPERefDependsOnRelativePosition(t *testing.T) {
	const dh = 32
	q, k := randF32(3, dh, 1), randF32(4, dh, 1)
	inv := RoPEInvFreq(10000, dh, nil)
	dot := func(m, n uint32) float64 {
		a, b := ropeOne(q, dh, dh, m, inv, 1), ropeOne(k, dh, dh, n, inv, 1)
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	d0 := dot(10, 3)
	if d1 := dot(510, 503); math.Abs(d1-d0) > 1e-4 {
		t.Errorf("<R(10)q, R(3)k> = %v but <R(510)q, R(503)k> = %v", d0, d1)
	}
	if d2 := dot(10, 4); math.Abs(d2-d0) < 1e-4 {
		t.Errorf("a different offset gave the same dot product %v: positions ignored", d2)
	}
}

// LongRoPE with every factor 1 is standard RoPE; factor f divides the
// frequency by f.
func TestRoPELongRoPEFactorOneIsStandard(t *testing.T) {
	const rot = 96
	ones := make([]float32, rot/2)
	for i := range ones {
		ones[i] = 1
	}
	std, long := RoPEInvFreq(10000, rot, nil), RoPEInvFreq(10000, rot, ones)
	for i := range std {
		if std[i] != long[i] {
			t.Fatalf("pair %d: factor 1 gives %v, standard %v", i, long[i], std[i])
		}
		want := math.Pow(10000, -float64(2*i)/rot)
		if math.Abs(float64(std[i])-want) > 1e-7*want {
			t.Fatalf("pair %d: inv_freq %v want %v", i, std[i], want)
		}
	}
	ones[5] = 4
	if got := RoPEInvFreq(10000, rot, ones)[5]; math.Abs(float64(got)-float64(std[5])/4) > 1e-7*float64(std[5]) {
		t.Errorf("factor 4: inv_freq %v want %v", got, std[5]/4)
	}
}

// With pos_div = tokens per slice every token of a slice gets the slice's
// index as its position.
func TestRoPERefSliceIndexPositions(t *testing.T) {
	const dh, tokens, slices = 8, 3, 4
	x := make([]float32, tokens*slices*dh)
	for r := 0; r < tokens*slices; r++ {
		copy(x[r*dh:], randF32(5, dh, 1)) // the same vector in every row
	}
	inv := RoPEInvFreq(10000, dh, nil)
	p := RoPEParams{Rows: tokens * slices, RowStride: dh, NHeads: 1, HeadDim: dh, RotDim: dh, PosOffset: 0, PosDiv: tokens, MScale: 1}
	RoPERef(x, inv, p)
	for r := 0; r < tokens*slices; r++ {
		want := ropeOne(randF32(5, dh, 1), dh, dh, uint32(r/tokens), inv, 1)
		for d := 0; d < dh; d++ {
			if x[r*dh+d] != want[d] {
				t.Fatalf("row %d (slice %d) dim %d: %v want %v", r, r/tokens, d, x[r*dh+d], want[d])
			}
		}
	}
}

// The kernel's π/2 split: the parts add up to π/2 within 1e-13 and the first
// three have at most 7 significant bits, so k·part is exact in f32 for
// every integer k < 2^17.
func TestRoPEReductionConstants(t *testing.T) {
	rp := ropeReduction()
	var sum float64
	for i, p := range rp {
		sum += float64(p)
		if i == 3 {
			break
		}
		m, _ := math.Frexp(float64(p))
		if scaled := m * (1 << 7); scaled != math.Trunc(scaled) {
			t.Errorf("RP%d = %v has more than 7 significant bits", i+1, p)
		}
	}
	if math.Abs(sum-math.Pi/2) > 1e-13 {
		t.Errorf("parts sum to %v, want π/2 (off by %g)", sum, sum-math.Pi/2)
	}
	if err := (RoPEParams{Rows: 2, HeadDim: 64, RotDim: 64, PosOffset: ropeMaxPos - 1, PosDiv: 1}).Validate(); err == nil {
		t.Error("a position past the exact reduction range was accepted")
	}
}
