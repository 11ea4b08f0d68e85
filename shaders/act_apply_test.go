package shaders

import (
	"math"
	"testing"
)

// ActRef against values computed by hand from the definitions (Φ(1),
// σ(1), σ(1.702), tanh form at 1).
func TestActRefHandValues(t *testing.T) {
	for _, c := range []struct {
		a       Act
		x, want float64
	}{
		{ActNone, -2.5, -2.5},
		{ActGELUErf, 1, 0.8413447460685429},    // Φ(1)
		{ActGELUErf, -1, -0.15865525393145707}, // −Φ(−1)
		{ActGELUErf, -3, -0.00404969409489031}, // −3·Φ(−3): 1+erf cancels
		{ActGELUTanh, 1, 0.8411919906082768},
		{ActQuickGELU, 1, 0.8457957659328212}, // σ(1.702)
		{ActSiLU, 1, 0.7310585786300049},      // σ(1)
		{ActSiLU, -1, -0.2689414213699951},
	} {
		if got := ActRef(c.a, float32(c.x)); math.Abs(float64(got)-c.want) > 1e-7*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s(%v) = %v, want %v", c.a, c.x, got, c.want)
		}
	}
	// Saturation: GELU and SiLU are the identity far right and 0 far left.
	for _, a := range []Act{ActGELUErf, ActGELUTanh, ActQuickGELU, ActSiLU} {
		if got := ActRef(a, 1e4); got != 1e4 {
			t.Errorf("%s(1e4) = %v", a, got)
		}
		if got := ActRef(a, -1e4); got != 0 {
			t.Errorf("%s(-1e4) = %v", a, got)
		}
	}
}

// erfApprox64 is act.wgsl's erf_approx in exact (float64) arithmetic.
func erfApprox64(x float64) float64 {
	a := math.Abs(x)
	t := 1 / (1 + 0.3275911*a)
	y := 1 - (((((1.061405429*t-1.453152027)*t)+1.421413741)*t-0.284496736)*t+0.254829592)*t*math.Exp(-a*a)
	return math.Copysign(y, x)
}

// The comment of erf_approx (and actMaxAbs) rests on |erf_approx − erf| <
// 1.5e-7 (Abramowitz & Stegun 7.1.26): a mistyped coefficient breaks it.
func TestErfApproxBound(t *testing.T) {
	worst := 0.0
	for i := -80000; i <= 80000; i++ {
		x := float64(i) / 10000
		worst = max(worst, math.Abs(erfApprox64(x)-math.Erf(x)))
	}
	if worst >= 1.5e-7 {
		t.Errorf("max |erf_approx − erf| = %.3g, want < 1.5e-7", worst)
	}
}

// activate32 mirrors act.wgsl's activate in float32, operation by operation
// (exp correctly rounded, which a device's exp need not be).
func activate32(a Act, x float32) float32 {
	exp := func(v float32) float32 { return float32(math.Exp(float64(v))) }
	sigmoid := func(v float32) float32 {
		if v >= 0 {
			return 1 / (1 + exp(-v))
		}
		e := exp(v)
		return e / (1 + e)
	}
	switch a {
	case ActGELUErf:
		z := x * 0.70710678118654752
		s := float32(math.Copysign(1, float64(z)))
		if z == 0 {
			s = 0
		}
		ab := float32(math.Abs(float64(z)))
		tt := 1 / (1 + 0.3275911*ab)
		y := 1 - (((((1.061405429*tt-1.453152027)*tt)+1.421413741)*tt-0.284496736)*tt+0.254829592)*tt*exp(-ab*ab)
		return 0.5 * x * (1 + s*y)
	case ActGELUTanh:
		inner := 0.7978845608028654 * (x + 0.044715*x*x*x)
		c := min(max(inner, -15), 15)
		e := exp(2 * c)
		return 0.5 * x * (1 + (e-1)/(e+1))
	case ActQuickGELU:
		return x * sigmoid(1.702*x)
	case ActSiLU:
		return x * sigmoid(x)
	}
	return x
}

// actMaxAbs holds for an f32 evaluation of the kernel's formulas over
// [−16, 16] with half the margin left for the device's exp.
func TestActMaxAbsCoversF32Kernel(t *testing.T) {
	for _, a := range Acts() {
		worst, at := 0.0, float32(0)
		for i := -160000; i <= 160000; i++ {
			x := float32(i) / 10000
			if d := math.Abs(float64(activate32(a, x) - ActRef(a, x))); d > worst {
				worst, at = d, x
			}
		}
		t.Logf("%s: max |f32 mirror − ActRef| = %.3g at x = %v", a, worst, at)
		if worst > actMaxAbs/2 {
			t.Errorf("%s: f32 mirror is %.3g from ActRef at x = %v; actMaxAbs = %g leaves too little margin", a, worst, at, actMaxAbs)
		}
	}
}
