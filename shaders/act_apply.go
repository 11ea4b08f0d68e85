package shaders

import (
	"fmt"
	"math"
	"strings"
)

// ActVariant selects an elementwise activation kernel.
type ActVariant struct {
	Act     Act
	InPlace bool // x = act(x) instead of y = act(x)
}

func (v ActVariant) String() string {
	return "act/" + v.Act.String() + "/" + placeName(v.InPlace) + "/wg256"
}

// ActParams is the uniform of the act kernel.
type ActParams struct {
	N uint32 // elements
}

const actWG = 256

// Activation returns the elementwise kernel for v. Bindings: params, x, and
// y when out of place (x is read_write when in place).
func Activation(v ActVariant) Kernel {
	bind, bs := unaryBindings(v.InPlace)
	return Kernel{
		Name:     v.String(),
		File:     "act_apply.wgsl",
		Source:   render(ActParams{}, []Const{{"WG", actWG}, actConst(v.Act)}, "", bind, "act.wgsl", "act_apply.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// unaryBindings declares x (and y) for an elementwise kernel and a
// store_y(i, v) that writes the output wherever the variant keeps it.
func unaryBindings(inPlace bool) (string, []Binding) {
	src := "@group(0) @binding(0) var<uniform> P: Params;\n"
	if inPlace {
		src += "@group(0) @binding(1) var<storage, read_write> x: array<f32>;\n"
		src += "fn store_y(i: u32, v: f32) { x[i] = v; }\n"
		return src, []Binding{{"params", Uniform}, {"x", ReadWrite}}
	}
	src += "@group(0) @binding(1) var<storage, read> x: array<f32>;\n"
	src += "@group(0) @binding(2) var<storage, read_write> y: array<f32>;\n"
	src += "fn store_y(i: u32, v: f32) { y[i] = v; }\n"
	return src, []Binding{{"params", Uniform}, {"x", Read}, {"y", ReadWrite}}
}

// ActGrid covers n elements, one per thread.
func ActGrid(n uint32) [3]uint32 { return Grid1D(ceilDiv(n, actWG)) }

// actMaxAbs bounds |kernel − ActRef| per element for inputs whose outputs
// stay below 16 in magnitude. ActRef is exact (float64, rounded once); the
// kernel's activate runs in f32: erf_approx is within 1.5e-7 of erf, which
// GELU scales by |x|/2 (≤ ~4.5e-7 where erf has not yet saturated, |x| < 6);
// the tanh, sigmoid and erf formulas round a few times near 1 (ulp 1.2e-7,
// again scaled by |x|/2); and the result rounds to f32 (an ulp of |y| in
// [8, 16) is 9.5e-7). The float32 mirror of activate in act_apply_test.go
// measures at most 9.6e-7 (one ulp of |y| < 16) over [−16, 16]; the other
// half is margin for the device's exp, which WGSL bounds only to a few ulp.
// Outside ±16 the activations are exactly x or ±0 in both.
const actMaxAbs = 2e-6

// actWhy explains the act tolerance: absolute error only, no NMSE. In the
// negative tails the f32 formulas cancel (GELU's 1 + tanh(u) rounds to 0
// below x ≈ −5, as in any f32 GELU), so a relative measure of tail-dominated
// outputs (the one-element case sits at x = −5.7) is meaningless while the
// absolute error there is ~1e-9.
const actWhy = "f32 activate (erf_approx |err| < 1.5e-7, exp-based tanh/σ) vs exact ActRef: one ulp of |y| < 16 plus the device exp's few ulp; absolute only, since f32 GELU tails cancel (see actMaxAbs)"

func init() {
	register(family{Name: "act", Files: []string{"act.wgsl", "act_apply.wgsl"}, Cases: casesOnce(actCases)})
}

// actEdges are inputs that break activations: signed zeros, tiny values,
// where GELU's 1+erf cancels (x ≈ −3…−6), where erf/tanh/σ saturate, and
// ±80/±1e4 where a careless exp overflows.
var actEdges = []float32{
	0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 1.5e-38, -1.5e-38, 1e-3, -1e-3,
	0.5, -0.5, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 8, -8, 10, -10,
	15, -15, 80, -80, 88, -88, 1e4, -1e4,
}

func actTol(a Act) (Tol, string) {
	if a == ActNone {
		return Tol{Exact: true}, ""
	}
	return Tol{MaxAbs: actMaxAbs}, actWhy
}

func actCases() []Case {
	var out []Case
	add := func(v ActVariant, shape string, x []float32) {
		n := len(x)
		want := make([]float32, n)
		ActApplyRef(v.Act, want, x)
		chk := "x" // in place, the output is x
		bufs := []Buffer{{Name: "x", Init: F32Bytes(x)}}
		if !v.InPlace {
			chk = "y"
			bufs = append(bufs, Buffer{Name: "y", Size: 4 * n})
		}
		tol, why := actTol(v.Act)
		p := ActParams{N: uint32(n)}
		out = append(out, Case{
			Family:  "act",
			Name:    strings.TrimPrefix(v.String(), "act/") + "/" + shape,
			Buffers: bufs,
			Steps:   []Step{{Kernel: Activation(v), Params: p, Grid: ActGrid(p.N)}},
			Checks:  []Check{{Buffer: chk, Want: want, Tol: tol, Why: why}},
		})
	}
	for _, a := range Acts() {
		// Size 1, below and not a multiple of the workgroup, and CLIP-L's
		// MLP width (4096) over 3 tokens. Inputs within ±8: where the
		// activations bend.
		for _, n := range []int{1, 7, 257, 3 * 4096} {
			add(ActVariant{Act: a}, fmt.Sprintf("n=%d", n), randF32(int64(n)+100*int64(a), n, 8))
		}
		add(ActVariant{Act: a}, "edges", actEdges)
		add(ActVariant{Act: a, InPlace: true}, "n=1000", randF32(7+int64(a), 1000, 8))
	}
	// Phi-3-mini's MLP width over a prompt-sized batch of tokens.
	add(ActVariant{Act: ActSiLU, InPlace: true}, "T=64,F=8192", randF32(11, 64*8192, 8))
	return append(out, actHeavyCase())
}

// actHeavyN needs 65,537 workgroups of 256: more than one grid dimension
// holds, so Grid1D's y dimension and the kernel's wid.y·nwg.x are used.
const actHeavyN = 65536*actWG + 100

// actHeavyCase is the 67 MB in-place GELU. Only a sample is checked (every
// 61st element, coprime with the workgroup so every lane and every
// workgroup is hit, plus the last two workgroups whole): the reference of
// all 16.7M elements would cost more than the dispatch, in every test run.
func actHeavyCase() Case {
	v := ActVariant{Act: ActGELUErf, InPlace: true}
	x := make([]float32, actHeavyN)
	for i := range x {
		// A cheap deterministic spread over [−8, 8) (Knuth's multiplicative hash).
		x[i] = float32(uint32(i)*2654435761>>8)/float32(1<<24)*16 - 8
	}
	var index []int
	for i := 0; i < actHeavyN-2*actWG; i += 61 {
		index = append(index, i)
	}
	for i := actHeavyN - 2*actWG; i < actHeavyN; i++ {
		index = append(index, i)
	}
	want := make([]float32, len(index))
	for j, i := range index {
		want[j] = ActRef(v.Act, x[i])
	}
	tol, why := actTol(v.Act)
	p := ActParams{N: actHeavyN}
	return Case{
		Family:  "act",
		Name:    fmt.Sprintf("%s/n=%d", strings.TrimPrefix(v.String(), "act/"), actHeavyN),
		Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}},
		Steps:   []Step{{Kernel: Activation(v), Params: p, Grid: ActGrid(p.N)}},
		Checks:  []Check{{Buffer: "x", Want: want, Index: index, Tol: tol, Why: why}},
		Heavy:   true,
	}
}
