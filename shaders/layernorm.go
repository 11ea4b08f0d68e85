package shaders

import "fmt"

// LayerNormParams is the uniform of the layernorm kernel.
type LayerNormParams struct {
	Rows uint32
	Cols uint32
	Eps  float32
}

const layernormWG = 256

// LayerNormName is the layernorm kernel's variant name; there is one
// variant (the residual add is a separate kernel or a GEMM epilogue).
const LayerNormName = "layernorm/wg256"

// LayerNorm returns the layernorm kernel. Bindings: params, x, w, b, y.
func LayerNorm() Kernel {
	return Kernel{
		Name:   LayerNormName,
		File:   "layernorm.wgsl",
		Source: render(LayerNormParams{}, []Const{{"WG", layernormWG}}, "", "layernorm.wgsl"),
		Entry:  "main",
		Bindings: []Binding{
			{"params", Uniform}, {"x", Read}, {"w", Read}, {"b", Read}, {"y", ReadWrite},
		},
	}
}

// LayerNormGrid is one workgroup per row.
func LayerNormGrid(p LayerNormParams) [3]uint32 { return Grid1D(p.Rows) }

func init() {
	register(family{Name: "layernorm", Files: []string{"layernorm.wgsl"}, Cases: casesOnce(layernormCases)})
}

func layernormCase(name string, x, w, b []float32, rows, cols int, eps float32, tol Tol, why string) Case {
	p := LayerNormParams{Rows: uint32(rows), Cols: uint32(cols), Eps: eps}
	y := make([]float32, len(x))
	LayerNormRef(y, x, w, b, rows, cols, eps)
	return Case{
		Family: "layernorm",
		Name:   name,
		Buffers: []Buffer{
			{Name: "x", Init: F32Bytes(x)}, {Name: "w", Init: F32Bytes(w)}, {Name: "b", Init: F32Bytes(b)},
			{Name: "y", Size: 4 * len(x)},
		},
		Steps:  []Step{{Kernel: LayerNorm(), Params: p, Grid: LayerNormGrid(p)}},
		Checks: []Check{{Buffer: "y", Want: y, Tol: tol, Why: why}},
	}
}

func layernormCases() []Case {
	var out []Case
	// Size 1 (σ² = 0: y = b), below and not a multiple of the workgroup,
	// CLIP-L's width over a slice's 577 tokens, Phi-3's width.
	for i, s := range [][2]int{{1, 1}, {3, 7}, {2, 255}, {5, 1000}, {577, 1024}, {2, 3072}} {
		rows, cols := s[0], s[1]
		seed := int64(300 + 10*i)
		x := randF32(seed, rows*cols, 3)
		w := randF32(seed+1, cols, 1)
		b := randF32(seed+2, cols, 0.5)
		out = append(out, layernormCase(fmt.Sprintf("wg256/T=%d,C=%d", rows, cols), x, w, b, rows, cols, 1e-5, Tol{NMSE: 1e-10}, ""))
	}
	const cols = 1024
	ones, zeros := make([]float32, cols), make([]float32, cols)
	for i := range ones {
		ones[i] = 1
	}
	wb := randF32(21, cols, 1)
	bb := randF32(22, cols, 0.5)
	// A large common offset with unit deviations: E[x²] − E[x]² would lose
	// everything (1e8 against 1 in f32), and a single-pass mean alone
	// leaves x − m off by up to half an ulp of 1e4 (5e-4).
	off := randF32(23, 3*cols, 1)
	for i := range off {
		off[i] += 1e4
	}
	out = append(out, layernormCase("wg256/offset-1e4", off, wb, bb, 3, cols, 1e-5, Tol{NMSE: 1e-10}, ""))
	// CLIP's massive activations: a few channels in the hundreds.
	mass := randF32(24, 4*cols, 1)
	for r := 0; r < 4; r++ {
		mass[r*cols+7] = 400
		mass[r*cols+500] = -250
	}
	out = append(out, layernormCase("wg256/outlier-channels", mass, wb, bb, 4, cols, 1e-5, Tol{NMSE: 1e-10}, ""))
	// Constant rows (zeros and a value off the f32 grid of 1/C): σ² = 0, so
	// y must be b, not b plus the rounding of m amplified by 1/√eps.
	cst := make([]float32, 3*1000)
	for i := 1000; i < len(cst); i++ {
		cst[i] = 1234.567
	}
	bc := randF32(25, 1000, 0.5)
	out = append(out, layernormCase("wg256/constant-rows", cst, randF32(26, 1000, 1), bc, 3, 1000, 1e-5,
		Tol{NMSE: 1e-10, MaxAbs: 1e-6}, "also bounds each element: a constant row gives y = b up to ((x − m) − δ)/√eps, where the device's division (2.5 ulp in WGSL) may leave δ ~1e-11 from x − m"))
	// Huge values: Σ(x − m)² of 1e4-scale inputs stays far from f32 overflow;
	// w = 1, b = 0 makes y the normalized row itself.
	big := randF32(27, 2*cols, 1e4)
	out = append(out, layernormCase("wg256/large-values", big, ones, zeros, 2, cols, 1e-5, Tol{NMSE: 1e-10}, ""))
	// An impulse: one 1 among zeros. μ = 1/C, σ² = (C−1)/C².
	imp := make([]float32, 777)
	imp[333] = 1
	out = append(out, layernormCase("wg256/impulse", imp, ones[:777], zeros[:777], 1, 777, 1e-6, Tol{NMSE: 1e-10}, ""))
	return out
}
