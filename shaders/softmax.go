package shaders

import (
	"fmt"
	"math"
	"strings"
)

// SoftmaxVariant selects a softmax kernel: the workgroup size, 256 for
// long rows and 32 for the short rows of router logits (a handful of
// experts or task groups per token), where 256 threads would mostly idle.
type SoftmaxVariant struct {
	WG uint32 // 32 or 256
}

func (v SoftmaxVariant) String() string { return fmt.Sprintf("softmax/wg%d", v.WG) }

// SoftmaxVariantFor picks the variant for rows of n values.
func SoftmaxVariantFor(n int) SoftmaxVariant {
	if n <= 64 {
		return SoftmaxVariant{WG: 32}
	}
	return SoftmaxVariant{WG: 256}
}

// SoftmaxParams is the uniform of the softmax kernel.
type SoftmaxParams struct {
	Rows  uint32
	Cols  uint32
	Scale float32
}

// Softmax returns the kernel for v. Bindings: params, x, y.
func Softmax(v SoftmaxVariant) Kernel {
	if v.WG != 32 && v.WG != 256 {
		panic(fmt.Sprintf("shaders: softmax workgroup %d (want 32 or 256)", v.WG))
	}
	return Kernel{
		Name:     v.String(),
		File:     "softmax.wgsl",
		Source:   render(SoftmaxParams{}, []Const{{"WG", v.WG}}, "", "softmax.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"x", Read}, {"y", ReadWrite}},
	}
}

// SoftmaxGrid is one workgroup per row.
func SoftmaxGrid(p SoftmaxParams) [3]uint32 { return Grid1D(p.Rows) }

func init() {
	register(family{Name: "softmax", Files: []string{"softmax.wgsl"}, Cases: casesOnce(softmaxCases)})
}

func softmaxCase(v SoftmaxVariant, shape string, x []float32, rows, cols int, scale float32) Case {
	p := SoftmaxParams{Rows: uint32(rows), Cols: uint32(cols), Scale: scale}
	y := make([]float32, len(x))
	SoftmaxRef(y, x, rows, cols, scale)
	return Case{
		Family:  "softmax",
		Name:    strings.TrimPrefix(v.String(), "softmax/") + "/" + shape,
		Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "y", Size: 4 * len(x)}},
		Steps:   []Step{{Kernel: Softmax(v), Params: p, Grid: SoftmaxGrid(p)}},
		// exp is WGSL's (a few ulp at these arguments): NMSE 1e-10 still
		// holds with orders of magnitude to spare, and probabilities are
		// ≤ 1 so MaxAbs adds a per-element bound a bad row cannot hide in.
		Checks: []Check{{Buffer: "y", Want: y, Tol: Tol{NMSE: 1e-10, MaxAbs: 1e-6},
			Why: "adds a per-element bound: a wrong short row must not hide in a long case's NMSE"}},
	}
}

func softmaxCases() []Case {
	var out []Case
	type shape struct {
		rows, cols int
		scale      float32
	}
	// Row of 1 (y = 1), router-sized rows (3 task groups, 8 experts, a
	// token count of D·tokens rows), a width not a multiple of either
	// workgroup, Phi-3's width and its vocabulary, a negative scale.
	shapes := []shape{{1, 1, 1}, {5, 3, 1}, {2304, 8, 1}, {7, 33, 0.125}, {3, 1000, 1}, {2, 3072, 0.0883883}, {1, 32064, 1}, {4, 300, -0.5}}
	for i, s := range shapes {
		x := randF32(int64(400+i), s.rows*s.cols, 6)
		v := SoftmaxVariantFor(s.cols)
		out = append(out, softmaxCase(v, fmt.Sprintf("T=%d,N=%d,s=%g", s.rows, s.cols, s.scale), x, s.rows, s.cols, s.scale))
		// The other workgroup size on the same data, so both variants
		// see short and long rows (not the 2304 rows of 8: at 256 threads
		// a row that is 1.5 s of idle lanes on SwiftShader).
		if s.cols == 3 || s.cols == 1000 {
			other := SoftmaxVariant{WG: 256}
			if v.WG == 256 {
				other.WG = 32
			}
			out = append(out, softmaxCase(other, fmt.Sprintf("T=%d,N=%d,s=%g", s.rows, s.cols, s.scale), x, s.rows, s.cols, s.scale))
		}
	}
	// Breaking inputs, one row each: ±1e4 (exp overflows without the max
	// subtraction), all equal (uniform), an impulse (one-hot), masked
	// entries at −1e30, a row masked entirely (uniform: every exponent is
	// 0), and the most negative finite value.
	const n = 300
	big := randF32(41, n, 1e4)
	eq := make([]float32, n)
	imp := make([]float32, n)
	masked := randF32(42, n, 3)
	allMasked := make([]float32, n)
	lowest := randF32(43, n, 3)
	for i := range eq {
		eq[i] = 7.5
		if i%3 == 0 {
			masked[i] = -1e30
		}
		allMasked[i] = -1e30
	}
	imp[123] = 100
	lowest[5] = -math.MaxFloat32
	var x []float32
	for _, r := range [][]float32{big, eq, imp, masked, allMasked, lowest} {
		x = append(x, r...)
	}
	for _, wg := range []uint32{32, 256} {
		out = append(out, softmaxCase(SoftmaxVariant{WG: wg}, "edges", x, len(x)/n, n, 1))
	}
	return out
}
