package shaders

import (
	"math"
	"testing"
)

// Worked by hand: a block with max|x| = 1 has s = fl(1/127), so the codes
// are x·127 rounded: 0.25 → 31.75 → 32, −0.1 → −12.7 → −13, 0.004 → 0.508
// → 1, 0.003 → 0.381 → 0. A zero block and a block whose scale would be
// subnormal are all zeros with scale 0.
func TestQuantizeActivationsByHand(t *testing.T) {
	x := make([]float32, 3*GroupSize)
	copy(x, []float32{1, 0.25, -0.1, 0.004, 0.003, -1, 0.5 + 1.0/127})
	for j := 2 * GroupSize; j < 3*GroupSize; j++ {
		x[j] = 1e-37 // max·(1/127) ≈ 7.9e-40: below the smallest normal f32
	}
	q, s := QuantizeActivations(x)
	if s[0] != float32(1.0/127) || s[1] != 0 || s[2] != 0 {
		t.Fatalf("scales %v, want [%v 0 0]", s, float32(1.0/127))
	}
	// 0.5 + 1/127 is 64.5 steps: on the half-way point give or take the
	// f32 rounding of both sides; the threshold fl(64.5·s) decides.
	up := int8(64)
	if float32(0.5+1.0/127) >= float32(64.5)*s[0] {
		up = 65
	}
	want := []int8{127, 32, -13, 1, 0, -127, up}
	for j, w := range want {
		if q[j] != w {
			t.Errorf("q[%d] = %d, want %d (x = %v)", j, q[j], w, x[j])
		}
	}
	for j := len(want); j < len(q); j++ {
		if q[j] != 0 {
			t.Errorf("q[%d] = %d, want 0", j, q[j])
		}
	}
}

// On random blocks of very different magnitudes: the scale is max|x|·fl(1/127)
// bit for bit, the largest |code| is 127, every code is x/s rounded to
// nearest (float64 says so, except a hair from a half, where the f32
// thresholds may round the other way), the error is within half a step,
// and −x quantizes to −q.
func TestQuantizeActivationsProperties(t *testing.T) {
	const blocks = 400
	x := randF32(11, blocks*GroupSize, 1)
	for b := 0; b < blocks; b++ {
		mag := float32(math.Pow(10, float64(b%13)-6)) // 1e-6 … 1e6
		for j := 0; j < GroupSize; j++ {
			x[b*GroupSize+j] *= mag
		}
	}
	q, s := QuantizeActivations(x)
	neg := make([]float32, len(x))
	for i, v := range x {
		neg[i] = -v
	}
	qn, sn := QuantizeActivations(neg)
	nearTies := 0
	for b := 0; b < blocks; b++ {
		var amax float32
		top := 0
		for j := 0; j < GroupSize; j++ {
			i := b*GroupSize + j
			amax = max(amax, float32(math.Abs(float64(x[i]))))
			top = max(top, int(math.Abs(float64(q[i]))))
		}
		if s[b] != amax*float32(1.0/127) || sn[b] != s[b] {
			t.Fatalf("block %d: scale %v (of −x %v), want %v", b, s[b], sn[b], amax*float32(1.0/127))
		}
		if top != 127 {
			t.Errorf("block %d: largest |q| = %d, want 127", b, top)
		}
		for j := 0; j < GroupSize; j++ {
			i := b*GroupSize + j
			if qn[i] != -q[i] {
				t.Fatalf("x[%d] = %v: q %d, but −x gives %d", i, x[i], q[i], qn[i])
			}
			r := float64(x[i]) / float64(s[b])
			if math.Abs(float64(q[i])-r) > 0.5*(1+0x1p-15) {
				t.Fatalf("x[%d] = %v: q = %d, x/s = %v: more than half a step", i, x[i], q[i], r)
			}
			if float64(q[i]) != math.RoundToEven(r) {
				if d := math.Abs(math.Abs(r-math.Trunc(r)) - 0.5); d > 1e-4 {
					t.Fatalf("x[%d] = %v: q = %d, nearest to x/s = %v is %v", i, x[i], q[i], r, math.RoundToEven(r))
				}
				nearTies++
			}
		}
	}
	t.Logf("%d of %d codes a hair from a half differ from float64's nearest", nearTies, len(q))
	if nearTies > 5 {
		t.Errorf("%d codes off the float64 nearest: the thresholds should move only a few", nearTies)
	}
}

// A value exactly on a threshold fl((c + ½)·s) rounds up, one ULP below it
// rounds down: the rule the kernel's comparisons implement.
func TestQuantizeActivationsThresholds(t *testing.T) {
	x := make([]float32, GroupSize)
	x[0] = 3 // s = fl(3/127)
	s := float32(3) * float32(1.0/127)
	for c := 0; c < 126; c += 5 {
		th := float32(float32(c)+0.5) * s
		x[1] = th
		x[2] = math.Nextafter32(th, 0)
		x[3] = -th
		q, _ := QuantizeActivations(x)
		if q[1] != int8(c+1) || q[2] != int8(c) || q[3] != -int8(c+1) {
			t.Fatalf("threshold of %d.5 steps: codes %d, %d, %d; want %d, %d, %d", c, q[1], q[2], q[3], c+1, c, -c-1)
		}
	}
}

// dp4Case is a small shape with strides, x blocks of varying magnitude and
// int8 weights, shared by the reference tests below.
func dp4Case(t *testing.T) (x []float32, w Weights, p MatMulParams) {
	t.Helper()
	const m, n, k = 3, 7, 1024
	p = MatMulParams{M: m, N: n, K: k, LdX: k + 32, LdY: n + 4, YCol: 3}
	x = randF32(21, m*int(p.LdX), 1)
	for i := range x {
		x[i] *= float32(1 + (i/GroupSize)%5) // blocks with maxima 1 … 5
	}
	w, err := Pack(Int8, randF32(22, n*k, 2/float32(math.Sqrt(k))), n, k)
	if err != nil {
		t.Fatal(err)
	}
	return x, w, p
}

// The reference against two float64 oracles. With the quantized x it is
// exact up to the f32 rounding of K/32 scaled group sums; with the true x
// it is within MatMulDP4Bound. Bias, activation, accumulation and the
// column offset behave as in MatMulRef.
func TestMatMulDP4RefAgainstFloat64(t *testing.T) {
	x, w, p := dp4Case(t)
	k := int(p.K)
	b := randF32(23, int(p.N), 1)
	y0 := randF32(24, int(p.M)*int(p.LdY), 1)
	plain := append([]float32(nil), y0...)
	MatMulDP4Ref(plain, x, w, nil, ActNone, false, p, nil)
	fused := append([]float32(nil), y0...)
	MatMulDP4Ref(fused, x, w, b, ActSiLU, true, p, nil)
	for m := 0; m < int(p.M); m++ {
		row := x[m*int(p.LdX) : m*int(p.LdX)+k]
		xq, xs := QuantizeActivations(row)
		for c := 0; c < int(p.LdY); c++ {
			i := m*int(p.LdY) + c
			n := c - int(p.YCol)
			if n < 0 || n >= int(p.N) {
				if plain[i] != y0[i] || fused[i] != y0[i] {
					t.Fatalf("y[%d,%d] outside the written columns changed", m, c)
				}
				continue
			}
			var exact, quant, mag float64
			for kk := 0; kk < k; kk++ {
				wv := float64(w.At(n, kk))
				exact += float64(row[kk]) * wv
				v := float64(xq[kk]) * float64(xs[kk/GroupSize]) * wv
				quant += v
				mag += math.Abs(v)
			}
			got := float64(plain[i])
			if d, tol := math.Abs(got-quant), 1.01*float64(k/GroupSize+1)*0x1p-24*mag; d > tol {
				t.Errorf("y[%d,%d] = %v, the quantized product is %v (|Δ| %.3g > %.3g)", m, n, got, quant, d, tol)
			}
			bound := MatMulDP4Bound(row, w, n)
			if d := math.Abs(got - exact); d > bound {
				t.Errorf("y[%d,%d] = %v, x·W is %v: |Δ| %.3g > bound %.3g", m, n, got, exact, d, bound)
			}
			want := ActRef(ActSiLU, plain[i]+b[n]) + y0[i]
			if fused[i] != want {
				t.Errorf("y[%d,%d] with bias, SiLU and accumulate = %v, want %v", m, n, fused[i], want)
			}
			if at := MatMulDP4RefAt(x, w, b, ActSiLU, p, m, n); at+y0[i] != fused[i] {
				t.Errorf("MatMulDP4RefAt(%d, %d) = %v, MatMulDP4Ref %v before accumulating", m, n, at, fused[i]-y0[i])
			}
		}
	}
}

// MatMulDP4Bound is nearly attained where every x sits a hair below a
// half step and each weight's sign follows the rounding error: then the
// errors add up, to 31/32 of the bound (each block's largest x has none).
func TestMatMulDP4BoundIsTight(t *testing.T) {
	const k = 256
	x := make([]float32, k)
	wf := make([]float32, k)
	for i := range x {
		c := float32(i%GroupSize%120) + 0.4999
		x[i] = c / 127
		if i%GroupSize == 0 {
			x[i] = 1 // the block maximum: scale fl(1/127), no error
		}
		if i%3 == 0 {
			x[i] = -x[i]
		}
	}
	xq, xs := QuantizeActivations(x)
	for i := range wf {
		// Codes of ±127 and ±64 in groups with max 0.05: exact in int8.
		v := float32(0.05)
		if i%2 == 1 {
			v *= 64.0 / 127
		}
		if float64(x[i])-float64(xq[i])*float64(xs[i/GroupSize]) < 0 {
			v = -v
		}
		wf[i] = v
	}
	w, err := Pack(Int8, wf, 1, k)
	if err != nil {
		t.Fatal(err)
	}
	y := MatMulDP4RefAt(x, w, nil, ActNone, MatMulDims(1, 1, k), 0, 0)
	var exact float64
	for i := range x {
		exact += float64(x[i]) * float64(w.At(0, i))
	}
	bound := MatMulDP4Bound(x, w, 0)
	d := math.Abs(float64(y) - exact)
	t.Logf("|Δ| = %.4g = %.4f of the bound", d, d/bound)
	if d > bound || d < 0.9*bound {
		t.Errorf("|Δ| = %.4g, bound %.4g: want between 90%% and 100%% of it", d, bound)
	}
}

// Against the plain f32 gemv (MatMulRef) the quantized result differs by
// the activation quantization, within MatMulDP4Bound plus MatMulRef's own
// f32 rounding (K·2⁻²³·Σ|x·W|), and it does differ: x is really quantized.
func TestMatMulDP4RefAgainstF32GEMV(t *testing.T) {
	x, w, p := dp4Case(t)
	k := int(p.K)
	dp4 := make([]float32, int(p.M)*int(p.LdY))
	f32 := make([]float32, len(dp4))
	MatMulDP4Ref(dp4, x, w, nil, ActNone, false, p, nil)
	MatMulRef(f32, x, w, nil, ActNone, false, p, nil)
	differ := 0
	for m := 0; m < int(p.M); m++ {
		row := x[m*int(p.LdX) : m*int(p.LdX)+k]
		for n := 0; n < int(p.N); n++ {
			i := m*int(p.LdY) + int(p.YCol) + n
			var mag float64
			for kk := 0; kk < k; kk++ {
				mag += math.Abs(float64(row[kk]) * float64(w.At(n, kk)))
			}
			tol := MatMulDP4Bound(row, w, n) + 1.2*float64(k)*0x1p-23*mag
			if d := math.Abs(float64(dp4[i]) - float64(f32[i])); d > tol {
				t.Errorf("y[%d,%d]: packed %v, f32 %v: |Δ| %.3g > %.3g", m, n, dp4[i], f32[i], d, tol)
			}
			if dp4[i] != f32[i] {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Error("the packed reference equals the f32 one everywhere: x was not quantized")
	}
}

func TestMatMulDP4RefNeedsInt8(t *testing.T) {
	w, err := Pack(Int4, randF32(1, 64, 1), 2, 32)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("MatMulDP4Ref accepted int4 weights")
		}
	}()
	MatMulDP4Ref(make([]float32, 2), randF32(2, 32, 1), w, nil, ActNone, false, MatMulDims(1, 2, 32), nil)
}
