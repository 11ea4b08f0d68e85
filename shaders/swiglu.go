package shaders

import "fmt"

// SwiGLUParams is the uniform of the swiglu kernel.
type SwiGLUParams struct {
	Rows uint32 // T
	F    uint32 // output width; the input is 2F wide
}

const swigluWG = 256

// SwiGLUName is the swiglu kernel's variant name (one variant).
const SwiGLUName = "swiglu/wg256"

// SwiGLU returns the kernel fusing silu(gate)·up over gate_up_proj's
// output. Bindings: params, x (T, 2F), y (T, F).
func SwiGLU() Kernel {
	return Kernel{
		Name:     SwiGLUName,
		File:     "swiglu.wgsl",
		Source:   render(SwiGLUParams{}, []Const{{"WG", swigluWG}, actConst(ActSiLU)}, "", "act.wgsl", "swiglu.wgsl"),
		Entry:    "main",
		Bindings: []Binding{{"params", Uniform}, {"x", Read}, {"y", ReadWrite}},
	}
}

// SwiGLUGrid covers the T·F outputs, one per thread.
func SwiGLUGrid(p SwiGLUParams) [3]uint32 { return Grid1D(ceilDiv(p.Rows*p.F, swigluWG)) }

func init() {
	// act.wgsl is registered by the act family, which owns it.
	register(family{Name: "swiglu", Files: []string{"swiglu.wgsl"}, Cases: casesOnce(swigluCases)})
}

func swigluCase(shape string, x []float32, rows, f int) Case {
	p := SwiGLUParams{Rows: uint32(rows), F: uint32(f)}
	y := make([]float32, rows*f)
	SwiGLURef(y, x, rows, f)
	return Case{
		Family:  "swiglu",
		Name:    "wg256/" + shape,
		Buffers: []Buffer{{Name: "x", Init: F32Bytes(x)}, {Name: "y", Size: 4 * rows * f}},
		Steps:   []Step{{Kernel: SwiGLU(), Params: p, Grid: SwiGLUGrid(p)}},
		// silu(g)·u has silu's f32 error (≤ 1e-6 absolute, see actMaxAbs)
		// scaled by |u|, i.e. relative ~1e-7: NMSE 1e-10 holds with margin.
		Checks: []Check{{Buffer: "y", Want: y, Tol: Tol{NMSE: 1e-10}}},
	}
}

func swigluCases() []Case {
	var out []Case
	// F = 1, odd and not a multiple of the workgroup (so a thread's row
	// changes mid-workgroup), Phi-3-mini's MLP width (8192) over a few tokens.
	for i, s := range [][2]int{{1, 1}, {3, 5}, {7, 333}, {4, 8192}} {
		rows, f := s[0], s[1]
		out = append(out, swigluCase(fmt.Sprintf("T=%d,F=%d", rows, f), randF32(int64(500+i), rows*2*f, 6), rows, f))
	}
	// Breaking inputs: the gate at ±80, ±1e4 and 0 (silu → x, 0, 0) times
	// ups of either sign and size; a negative gate with a large up.
	gates := []float32{0, 80, -80, 1e4, -1e4, -20, 3, -3}
	ups := []float32{1, -2, 1e3, -0.5, 1e-3, 1e3, 7, -7}
	x := append(append([]float32(nil), gates...), ups...)
	out = append(out, swigluCase("edges", x, 1, len(gates)))
	return out
}
