package shaders

import (
	"fmt"
	"strings"
)

// RMSNormVariant selects an rmsnorm kernel.
type RMSNormVariant struct {
	Residual bool // fuse x += r before normalising, writing x back
}

func (v RMSNormVariant) String() string {
	if v.Residual {
		return "rmsnorm/residual/wg256"
	}
	return "rmsnorm/plain/wg256"
}

// RMSNormParams is the uniform of the rmsnorm kernel.
type RMSNormParams struct {
	Rows uint32
	Cols uint32
	Eps  float32
}

const rmsnormWG = 256

// RMSNorm returns the kernel for v. Bindings: params, x, [r], w, y.
func RMSNorm(v RMSNormVariant) Kernel {
	bind := "rmsnorm_plain.wgsl"
	bs := []Binding{{"params", Uniform}, {"x", Read}, {"w", Read}, {"y", ReadWrite}}
	if v.Residual {
		bind = "rmsnorm_residual.wgsl"
		bs = []Binding{{"params", Uniform}, {"x", ReadWrite}, {"r", Read}, {"w", Read}, {"y", ReadWrite}}
	}
	return Kernel{
		Name:     v.String(),
		File:     "rmsnorm.wgsl",
		Source:   render(RMSNormParams{}, []Const{{"WG", rmsnormWG}, {"RESIDUAL", v.Residual}}, "", bind, "rmsnorm.wgsl"),
		Entry:    "main",
		Bindings: bs,
	}
}

// RMSNormGrid is one workgroup per row.
func RMSNormGrid(p RMSNormParams) [3]uint32 { return Grid1D(p.Rows) }

func init() {
	register(family{
		Name:  "rmsnorm",
		Files: []string{"rmsnorm.wgsl", "rmsnorm_plain.wgsl", "rmsnorm_residual.wgsl"},
		Cases: rmsnormCases,
	})
}

func rmsnormCases() []Case {
	type shape struct{ t, c int }
	// Size 1, below and above the workgroup, not a multiple of it, and
	// Phi-3-mini's width.
	shapes := []shape{{1, 1}, {3, 7}, {2, 255}, {5, 1000}, {4, 3072}}
	var out []Case
	for _, res := range []bool{false, true} {
		v := RMSNormVariant{Residual: res}
		for i, s := range shapes {
			seed := int64(100*i) + b2i(res)
			x := randF32(seed, s.t*s.c, 3)
			w := randF32(seed+1, s.c, 1)
			r := randF32(seed+2, s.t*s.c, 2)
			p := RMSNormParams{Rows: uint32(s.t), Cols: uint32(s.c), Eps: 1e-5}
			c := Case{
				Family: "rmsnorm",
				Name:   fmt.Sprintf("%s/T=%d,C=%d", strings.TrimPrefix(v.String(), "rmsnorm/"), s.t, s.c),
				Buffers: []Buffer{
					{Name: "x", Init: F32Bytes(x)}, {Name: "w", Init: F32Bytes(w)},
					{Name: "y", Size: 4 * s.t * s.c},
				},
				Steps: []Step{{Kernel: RMSNorm(v), Params: p, Grid: RMSNormGrid(p)}},
			}
			var rr []float32
			if res {
				rr = r
				c.Buffers = append(c.Buffers, Buffer{Name: "r", Init: F32Bytes(r)})
			}
			xs := append([]float32(nil), x...)
			y := make([]float32, len(x))
			RMSNormRef(y, xs, rr, w, s.t, s.c, p.Eps)
			c.Checks = append(c.Checks, Check{Buffer: "y", Want: y, Tol: Tol{NMSE: 1e-10}})
			if res {
				c.Checks = append(c.Checks, Check{Buffer: "x", Want: xs, Tol: Tol{Exact: true}})
			}
			out = append(out, c)
		}
	}
	// Edge: all-zero rows give y = 0 (eps keeps it finite), huge values do
	// not overflow the f32 sum of squares for CT-scale activations.
	zero := make([]float32, 2*64)
	ones := make([]float32, 64)
	for i := range ones {
		ones[i] = 1
	}
	yz := make([]float32, len(zero))
	pz := RMSNormParams{Rows: 2, Cols: 64, Eps: 1e-6}
	RMSNormRef(yz, append([]float32(nil), zero...), nil, ones, 2, 64, pz.Eps)
	out = append(out, Case{
		Family: "rmsnorm", Name: "plain/wg256/zeros",
		Buffers: []Buffer{{Name: "x", Init: F32Bytes(zero)}, {Name: "w", Init: F32Bytes(ones)}, {Name: "y", Size: 4 * len(zero)}},
		Steps:   []Step{{Kernel: RMSNorm(RMSNormVariant{}), Params: pz, Grid: RMSNormGrid(pz)}},
		Checks:  []Check{{Buffer: "y", Want: yz, Tol: Tol{Exact: true}}},
	})
	big := randF32(7, 3*500, 1e4)
	yb := make([]float32, len(big))
	wb := randF32(8, 500, 1)
	pb := RMSNormParams{Rows: 3, Cols: 500, Eps: 1e-5}
	RMSNormRef(yb, append([]float32(nil), big...), nil, wb, 3, 500, pb.Eps)
	out = append(out, Case{
		Family: "rmsnorm", Name: "plain/wg256/large-values",
		Buffers: []Buffer{{Name: "x", Init: F32Bytes(big)}, {Name: "w", Init: F32Bytes(wb)}, {Name: "y", Size: 4 * len(big)}},
		Steps:   []Step{{Kernel: RMSNorm(RMSNormVariant{}), Params: pb, Grid: RMSNormGrid(pb)}},
		Checks:  []Check{{Buffer: "y", Want: yb, Tol: Tol{NMSE: 1e-10}}},
	})
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
